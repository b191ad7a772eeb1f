// legacyJson is the very text JSON.stringify(toLegacy(settings, 0)) gives, whether or not it reuses groups it serialised before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setPath } from '../src/config/catalogue.ts';
import { legacyJson, toLegacy } from '../src/config/legacy.ts';
import { type OrgConfigSettings, settingsLeaves } from '../src/config/model.ts';
import { applyPatch } from '../src/config/patch.ts';
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
/** Settings other than the opening hours, which the derived workingHours are computed from (and need valid). */
const leaves = settingsLeaves.filter(({ path }) => path[0] !== 'openingHours');
const changes = fc.array(fc.tuple(fc.integer({ min: 0, max: leaves.length - 1 }), anyValue), {
  maxLength: 4,
});

describe('legacyJson', () => {
  it('is JSON.stringify(toLegacy(settings, 0)), for settings of any values', () => {
    fc.assert(
      fc.property(changes, (changed) => {
        const settings = structuredClone(exampleSettings()) as unknown as Record<string, unknown>;
        for (const [index, value] of changed) setPath(settings, leaves[index]!.path, value);
        expect(legacyJson(settings as unknown as OrgConfigSettings, 0)).toBe(
          JSON.stringify(toLegacy(settings as unknown as OrgConfigSettings, 0)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('is the same text for patched settings that share groups serialised before', () => {
    const before = exampleSettings();
    legacyJson(before, 0);
    fc.assert(
      fc.property(changes, (changed) => {
        const patch: Record<string, unknown> = {};
        for (const [index, value] of changed) setPath(patch, leaves[index]!.path, value);
        const after = applyPatch(before, patch as never, 0);
        expect(legacyJson(after, 0)).toBe(JSON.stringify(toLegacy(after, 0)));
        expect(legacyJson(before, 0)).toBe(JSON.stringify(toLegacy(before, 0)));
      }),
      { numRuns: 300 },
    );
  });
});
