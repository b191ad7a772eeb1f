// settingsJson is the very text JSON.stringify(settings) gives, whether or not it reuses groups it serialised before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setPath } from '../src/config/catalogue.ts';
import { type OrgConfigSettings, settingsLeaves } from '../src/config/model.ts';
import { applyPatch } from '../src/config/patch.ts';
import { settingsJson } from '../src/config/settings-json.ts';
import { exampleSettings } from '../src/demo.ts';

const anyValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.array(fc.record({ offsetSeconds: fc.integer(), durationSeconds: fc.integer() }), { maxLength: 3 }),
);
const changes = fc.array(fc.tuple(fc.integer({ min: 0, max: settingsLeaves.length - 1 }), anyValue), {
  maxLength: 4,
});

describe('settingsJson', () => {
  it('is JSON.stringify(settings), for settings of any values', () => {
    fc.assert(
      fc.property(changes, (changed) => {
        const settings = structuredClone(exampleSettings()) as unknown as Record<string, unknown>;
        for (const [index, value] of changed) setPath(settings, settingsLeaves[index]!.path, value);
        expect(settingsJson(settings as unknown as OrgConfigSettings)).toBe(JSON.stringify(settings));
      }),
      { numRuns: 300 },
    );
  });

  it('is the same text for patched settings that share groups serialised before', () => {
    const before = exampleSettings();
    settingsJson(before);
    fc.assert(
      fc.property(changes, (changed) => {
        const patch: Record<string, unknown> = {};
        for (const [index, value] of changed) setPath(patch, settingsLeaves[index]!.path, value);
        const after = applyPatch(before, patch as never, 0);
        expect(settingsJson(after)).toBe(JSON.stringify(after));
        expect(settingsJson(before)).toBe(JSON.stringify(before));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves out what JSON.stringify leaves out, at the top too', () => {
    const odd = { ...exampleSettings(), extra: undefined, count: 3 } as unknown as OrgConfigSettings;
    expect(settingsJson(odd)).toBe(JSON.stringify(odd));
  });
});
