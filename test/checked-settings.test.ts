// checkSettings answers exactly as the whole check of orgConfigSchema, whether or not it skips groups it passed before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setPath } from '../src/config/catalogue.ts';
import { checkSettings } from '../src/config/checked-settings.ts';
import { orgConfigSchema, settingsLeaves } from '../src/config/model.ts';
import { applyPatch } from '../src/config/patch.ts';
import { check } from '../src/config/problems.ts';
import { exampleSettings } from '../src/demo.ts';

/** Any JSON-ish value, valid for a setting or not. */
const anyValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.array(fc.record({ offsetSeconds: fc.integer(), durationSeconds: fc.integer() }), { maxLength: 3 }),
);

/** Settings with some of them set to arbitrary values. */
const someSettings = fc
  .array(fc.tuple(fc.integer({ min: 0, max: settingsLeaves.length - 1 }), anyValue), { maxLength: 4 })
  .map((changes) => {
    const settings = structuredClone(exampleSettings()) as unknown as Record<string, unknown>;
    for (const [index, value] of changes) setPath(settings, settingsLeaves[index]!.path, value);
    return settings;
  });

describe('checkSettings', () => {
  it('gives the value and the problems of the whole check, in the same order', () => {
    fc.assert(
      fc.property(someSettings, (settings) => {
        expect(checkSettings(settings)).toEqual(check(orgConfigSchema, settings));
      }),
      { numRuns: 500 },
    );
  });

  it('answers alike for settings that share the groups it passed before', () => {
    const passed = checkSettings(structuredClone(exampleSettings()));
    if (!passed.ok) throw new Error('the example settings are valid');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: settingsLeaves.length - 1 }), anyValue), {
          maxLength: 3,
        }),
        (changes) => {
          // As a patch does: copies of the changed groups, the others shared with what passed.
          const patch: Record<string, unknown> = {};
          for (const [index, value] of changes) setPath(patch, settingsLeaves[index]!.path, value);
          const merged = applyPatch(passed.value, patch as never, 0);
          expect(checkSettings(merged)).toEqual(check(orgConfigSchema, merged));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers alike for what is not an object of settings', () => {
    for (const input of [null, undefined, 1, 'x', [], {}, { branding: null }])
      expect(checkSettings(input)).toEqual(check(orgConfigSchema, input));
  });
});
