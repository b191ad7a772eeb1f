// The pure domain: the catalogue covers the documented contract, the example is valid, defaults are valid.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countryCodes } from '../src/config/countries.ts';
import {
  fromLegacy,
  legacyKeyPaths,
  parseLegacyPatch,
  settingsFromLegacy,
  toLegacy,
  toLegacyPath,
} from '../src/config/legacy.ts';
import {
  defaultSettings,
  orgConfigPatchSchema,
  orgConfigSchema,
  settingsLeaves,
} from '../src/config/model.ts';
import { applyPatch, diffSettings } from '../src/config/patch.ts';
import { check } from '../src/config/problems.ts';

const example = JSON.parse(
  readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

describe('the settings catalogue', () => {
  it('has exactly the 51 documented legacy keys, each once, and the three of opening hours', () => {
    const keys = [...legacyKeyPaths.keys()];
    const openingKeys = ['openingHoursTimeZone', 'openingHoursWeekly', 'openingHoursExceptions'];
    expect(keys).toHaveLength(54);
    expect(new Set(keys).size).toBe(54);
    expect([...keys].sort()).toEqual([...Object.keys(example), ...openingKeys].sort());
    // workingHours is derived from openingHours: no column of its own.
    expect(settingsLeaves.map(({ setting }) => setting.legacyKey)).not.toContain('workingHours');
  });

  it('describes every setting', () => {
    for (const { setting } of settingsLeaves) expect(setting.description.length).toBeGreaterThan(10);
  });
});

describe('the documented example', () => {
  it('is valid exactly as it is, and maps to the model and back unchanged', () => {
    const { unknownKeys } = fromLegacy(example);
    expect(unknownKeys).toEqual([]);
    const settings = settingsFromLegacy(example, Date.parse('2026-07-01T12:00:00Z'));
    const valid = check(orgConfigSchema, settings);
    expect(valid.ok).toBe(true);
    // Zone UTC: the same offsets whatever the week.
    for (const now of ['2026-03-29T12:00:00Z', '2026-07-01T12:00:00Z', '2031-12-31T23:59:59Z']) {
      const legacy = toLegacy(settings, Date.parse(now));
      expect(legacy).toEqual({
        ...example,
        openingHoursTimeZone: 'UTC',
        openingHoursWeekly: settings.openingHours.weekly,
        openingHoursExceptions: [],
      });
    }
  });
});

describe('defaults', () => {
  it('are valid', () => {
    expect(check(orgConfigSchema, defaultSettings('A new organisation')).ok).toBe(true);
  });
});

describe('patches', () => {
  it('merge groups partly and replace lists whole', () => {
    const base = defaultSettings('x');
    const patched = applyPatch(
      base,
      {
        sla: { openedConversations: { range: { upperBound: 9 } } },
        attachments: { allowedExtensions: ['.pdf'] },
      },
      0,
    );
    expect(patched.sla.openedConversations.range).toEqual({ lowerBound: 1, upperBound: 9 });
    expect(patched.attachments).toEqual({
      allowedExtensions: ['.pdf'],
      maximumSizeBytes: base.attachments.maximumSizeBytes,
    });
    expect(base.sla.openedConversations.range.upperBound).toBe(3);
    expect(diffSettings(base, patched).map((change) => change.path)).toEqual([
      'attachments.allowedExtensions',
      'sla.openedConversations.range.upperBound',
    ]);
  });

  it('refuse keys that are not settings', () => {
    const result = check(orgConfigPatchSchema, { branding: { colour: '#fff' }, extra: 1 });
    expect(result.ok || result.problems.map((problem) => [problem.path.join('.'), problem.code])).toEqual([
      ['branding.colour', 'UNKNOWN_SETTING'],
      ['extra', 'UNKNOWN_SETTING'],
    ]);
  });

  it('refuse an adviser status that does not exist', () => {
    const result = check(orgConfigPatchSchema, { lifecycle: { defaultStatusAfterLogin: 'busy' } });
    expect(result.ok || result.problems.map((problem) => problem.code)).toEqual(['INVALID_ENUM_VALUE']);
  });
});

describe('legacy bodies', () => {
  it('report unknown keys together with broken rules, under legacy names', () => {
    const result = parseLegacyPatch({
      colour: '#fff',
      autoAssignedLimit: -1,
      openedConversationsSlaRangeLowerBound: 'one',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => [toLegacyPath(problem.path).join('/'), problem.code])).toEqual([
      ['colour', 'UNKNOWN_SETTING'],
      ['openedConversationsSlaRangeLowerBound', 'INVALID_TYPE'],
      ['autoAssignedLimit', 'OUT_OF_RANGE'],
    ]);
  });
});

describe('country codes', () => {
  it('are the 249 ISO 3166-1 alpha-2 codes', () => {
    expect(countryCodes.size).toBe(249);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of countryCodes) expect(names.of(code)).not.toBe(code);
  });
});
