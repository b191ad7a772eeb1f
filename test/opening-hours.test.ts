// Opening hours, the pure domain: the days that break naive code, the rules' codes, and the legacy offsets.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { settingsFromLegacy, toLegacy } from '../src/config/legacy.ts';
import { defaultSettings, orgConfigPatchSchema, orgConfigSchema } from '../src/config/model.ts';
import {
  fromLegacySlots,
  fromUtcOffsets,
  type OpeningHours,
  openState,
  toLegacySlots,
  upgradeStoredSettings,
  weeklySlotSchema,
} from '../src/config/opening-hours.ts';
import { applyPatch } from '../src/config/patch.ts';
import { check } from '../src/config/problems.ts';
import { workingHoursList } from '../src/config/rules.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
function stateAt(hours: OpeningHours, when: string) {
  const state = openState(hours, at(when));
  return { openNow: state.openNow, nextChangeAt: iso(state.nextChangeAt) };
}
const warsaw = (
  weekly: OpeningHours['weekly'],
  exceptions: OpeningHours['exceptions'] = [],
): OpeningHours => ({
  timeZone: 'Europe/Warsaw',
  weekly,
  exceptions,
});
const weekdays9to17 = (['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] as const).map((day) => ({
  day,
  start: '09:00',
  end: '17:00',
}));

describe('open now, and the next change (Europe/Warsaw, 2026)', () => {
  it('spring forward: a slot starting in the skipped hour opens when the clock jumps', () => {
    // 29 March: 02:00 jumps to 03:00 (01:00Z). A 02:30 opening happens at the jump.
    const hours = warsaw([{ day: 'SUNDAY', start: '02:30', end: '06:00' }]);
    expect(stateAt(hours, '2026-03-29T00:30:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2026-03-29T01:00:00.000Z',
    });
    expect(stateAt(hours, '2026-03-29T01:00:00Z')).toEqual({
      openNow: true,
      nextChangeAt: '2026-03-29T04:00:00.000Z', // 06:00 summer time
    });
  });

  it('fall back: a slot in the repeated hour starts at its first occurrence and runs through the repeat', () => {
    // 25 October: 03:00 falls back to 02:00 (01:00Z); 02:30 happens first at 00:30Z.
    const hours = warsaw([{ day: 'SUNDAY', start: '02:30', end: '02:45' }]);
    expect(stateAt(hours, '2026-10-25T00:00:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2026-10-25T00:30:00.000Z',
    });
    // Closes at the first 02:45 and stays closed when the clock shows 02:30 again.
    expect(stateAt(hours, '2026-10-25T00:40:00Z').nextChangeAt).toBe('2026-10-25T00:45:00.000Z');
    expect(stateAt(hours, '2026-10-25T01:35:00Z').openNow).toBe(false);
    // A slot ending in the repeated hour closes at its first occurrence too.
    const night = warsaw([{ day: 'SATURDAY', start: '22:00', end: '02:30' }]);
    expect(stateAt(night, '2026-10-24T21:00:00Z')).toEqual({
      openNow: true,
      nextChangeAt: '2026-10-25T00:30:00.000Z',
    });
  });

  it('a slot across midnight belongs to the day it starts, and ends the next morning', () => {
    const hours = warsaw([{ day: 'FRIDAY', start: '22:00', end: '02:00' }]);
    expect(stateAt(hours, '2026-06-05T19:59:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2026-06-05T20:00:00.000Z',
    });
    expect(stateAt(hours, '2026-06-05T23:30:00Z')).toEqual({
      openNow: true,
      nextChangeAt: '2026-06-06T00:00:00.000Z',
    });
  });

  it('a closed holiday (one-off or every year) replaces the weekday; the evening before still runs past midnight', () => {
    const hours = warsaw(
      [...weekdays9to17, { day: 'THURSDAY', start: '22:00', end: '02:00' }],
      [
        { date: '2026-12-25', recurring: true, slots: [] },
        { date: '2026-05-01', recurring: false, slots: [] },
      ],
    );
    // Friday 1 May 2026 closed: from Thursday 30 April 17:00 the next opening is the night slot, then Monday.
    expect(stateAt(hours, '2026-04-30T23:00:00Z')).toEqual({
      openNow: true,
      nextChangeAt: '2026-05-01T00:00:00.000Z', // Thursday's night slot ends 02:00 on the holiday
    });
    expect(stateAt(hours, '2026-05-01T00:00:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2026-05-04T07:00:00.000Z',
    });
    // Christmas every year: Friday 25 December 2026 and Saturday 25 December 2027... and Monday 2028.
    expect(stateAt(hours, '2028-12-25T10:00:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2028-12-26T08:00:00.000Z',
    });
  });

  it('a late opening: that day has its own slots instead of the weekly ones', () => {
    const hours = warsaw(weekdays9to17, [
      { date: '2026-06-10', recurring: false, slots: [{ start: '12:00', end: '20:00' }] },
    ]);
    expect(stateAt(hours, '2026-06-10T07:30:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2026-06-10T10:00:00.000Z',
    });
    expect(stateAt(hours, '2026-06-10T15:30:00Z')).toEqual({
      openNow: true,
      nextChangeAt: '2026-06-10T18:00:00.000Z',
    });
  });

  it('a week-long closure: seven closed dates, and the next change is the first opening after them', () => {
    const closed = ['2026-08-03', '2026-08-04', '2026-08-05', '2026-08-06', '2026-08-07'].map((date) => ({
      date,
      recurring: false,
      slots: [],
    }));
    const hours = warsaw(weekdays9to17, closed);
    expect(stateAt(hours, '2026-07-31T16:00:00Z')).toEqual({
      openNow: false,
      nextChangeAt: '2026-08-10T07:00:00.000Z',
    });
  });

  it('no slot at all: closed, with no next change', () => {
    expect(stateAt(warsaw([]), '2026-01-01T00:00:00Z')).toEqual({ openNow: false, nextChangeAt: null });
  });

  it('open all week: no change either', () => {
    const always = fromUtcOffsets([{ offsetSeconds: 0, durationSeconds: 604_800 }]);
    expect(stateAt(always, '2026-01-01T00:00:00Z')).toEqual({ openNow: true, nextChangeAt: null });
  });
});

describe('rules and their codes', () => {
  const codes = (openingHours: unknown) => {
    const result = check(orgConfigPatchSchema, { openingHours });
    return result.ok ? [] : result.problems.map((problem) => [problem.path.join('.'), problem.code]);
  };

  it('refuse an unknown zone, bad times and dates, overlaps, duplicate dates and too many entries', () => {
    expect(codes({ timeZone: 'Europe/Atlantis' })).toEqual([['openingHours.timeZone', 'UNKNOWN_TIME_ZONE']]);
    expect(codes({ weekly: [{ day: 'MONDAY', start: '9', end: '25:61' }] })).toEqual([
      ['openingHours.weekly.0.start', 'INVALID_TIME'],
      ['openingHours.weekly.0.end', 'INVALID_TIME'],
    ]);
    expect(codes({ weekly: [{ day: 'FUNDAY', start: '09:00', end: '10:00' }] })).toEqual([
      ['openingHours.weekly.0.day', 'INVALID_ENUM_VALUE'],
    ]);
    // Sunday night runs into Monday morning: the week is a cycle.
    expect(
      codes({
        weekly: [
          { day: 'MONDAY', start: '01:00', end: '09:00' },
          { day: 'SUNDAY', start: '22:00', end: '02:00' },
        ],
      }),
    ).toEqual([['openingHours.weekly.1', 'WORKING_HOURS_OVERLAP']]);
    expect(
      codes({
        exceptions: [
          {
            date: '2026-02-30',
            recurring: false,
            slots: [
              { start: '10:00', end: '12:00' },
              { start: '11:00', end: '13:00' },
            ],
          },
          { date: '2026-12-25', recurring: true, slots: [] },
          { date: '2027-12-25', recurring: true, slots: [] },
          { date: '2026-12-31', recurring: false, slots: [] },
          { date: '2026-12-31', recurring: false, slots: [] },
        ],
      }),
    ).toEqual([
      ['openingHours.exceptions.0.date', 'INVALID_DATE'],
      ['openingHours.exceptions.0.slots.1', 'WORKING_HOURS_OVERLAP'],
      ['openingHours.exceptions.2.date', 'DUPLICATE_DATE'],
      ['openingHours.exceptions.4.date', 'DUPLICATE_DATE'],
    ]);
    const many = Array.from({ length: 101 }, (_, index) => ({
      date: new Date(Date.UTC(2030, 0, 1 + index)).toISOString().slice(0, 10),
      recurring: false,
      slots: [],
    }));
    expect(codes({ exceptions: many })).toEqual([['openingHours.exceptions', 'TOO_MANY_ITEMS']]);
  });

  it('take touching slots, a slot across midnight, and a one-off date beside the yearly one of the same day', () => {
    expect(
      codes({
        timeZone: 'America/New_York',
        weekly: [
          { day: 'MONDAY', start: '09:00', end: '12:00' },
          { day: 'MONDAY', start: '12:00', end: '17:00' },
          { day: 'SATURDAY', start: '22:00', end: '02:00' },
        ],
        exceptions: [
          { date: '2026-12-25', recurring: true, slots: [] },
          { date: '2026-12-25', recurring: false, slots: [{ start: '10:00', end: '12:00' }] },
        ],
      }),
    ).toEqual([]);
  });
});

describe('the legacy workingHours (UTC offsets)', () => {
  const example = JSON.parse(
    readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

  const legacySchedule = fc
    .array(
      fc.record({
        offsetSeconds: fc.integer({ min: -604_800, max: 604_800 }),
        durationSeconds: fc.oneof(fc.integer({ min: 0, max: 604_800 }), fc.constantFrom(0, 3_600, 28_800)),
      }),
      { maxLength: 8 },
    )
    .filter((slots) => workingHoursList.safeParse(slots).success);
  const anyTime = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) });

  it('the documented example migrates unchanged: the same offsets read back in any week, valid', () => {
    const settings = settingsFromLegacy(example, at('2026-07-01T00:00:00Z'));
    expect(check(orgConfigSchema, settings).ok).toBe(true);
    for (const when of ['2026-03-29T01:30:00Z', '2026-10-25T01:30:00Z', '2031-01-01T00:00:00Z'])
      expect(toLegacy(settings, at(when)).workingHours).toEqual(example.workingHours);
  });

  it('any legacy schedule migrates unchanged (zone UTC): same offsets back, valid, and open exactly when its offsets say', () => {
    fc.assert(
      fc.property(legacySchedule, anyTime, fc.array(anyTime, { maxLength: 20 }), (slots, now, instants) => {
        const hours = fromUtcOffsets(slots);
        expect(toLegacySlots(hours, now)).toEqual(slots);
        const settings = { ...defaultSettings('x'), openingHours: hours };
        expect(check(orgConfigSchema, settings).ok).toBe(true);
        // Today's meaning of the offsets: open when the second of the UTC week falls in a slot.
        for (const instant of instants) {
          const second = (((Math.floor(instant / 1000) - 4 * 86_400) % 604_800) + 604_800) % 604_800;
          const expected = slots.some(({ offsetSeconds, durationSeconds }) => {
            if (durationSeconds >= 604_800) return true;
            const start = ((offsetSeconds % 604_800) + 604_800) % 604_800;
            return (second - start + 604_800) % 604_800 < durationSeconds;
          });
          expect(openState(hours, Math.floor(instant / 1000) * 1000).openNow).toBe(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('old revisions (settings with UTC workingHours) read in the new shape, zone UTC', () => {
    const old = { branding: {}, workingHours: example.workingHours };
    const upgraded = upgradeStoredSettings(old) as unknown as { openingHours: OpeningHours };
    expect(upgraded.openingHours.timeZone).toBe('UTC');
    expect(toLegacySlots(upgraded.openingHours, Date.now())).toEqual(example.workingHours);
  });

  it('in a zone: GET answers the current local week as UTC offsets, and what a PUT wrote reads back the same that week', () => {
    const hours = warsaw(weekdays9to17);
    // Summer: Monday 09:00 at UTC+2 is 07:00Z; winter: 08:00Z.
    expect(toLegacySlots(hours, at('2026-07-01T12:00:00Z'))[0]).toEqual({
      offsetSeconds: 7 * 3_600,
      durationSeconds: 8 * 3_600,
    });
    expect(toLegacySlots(hours, at('2026-01-07T12:00:00Z'))[0]).toEqual({
      offsetSeconds: 8 * 3_600,
      durationSeconds: 8 * 3_600,
    });
    // The documented example's -7200 is Monday 00:00 in Warsaw in summer.
    const now = at('2026-07-01T12:00:00Z');
    const written = fromLegacySlots('Europe/Warsaw', example.workingHours as never, now);
    expect(written[0]).toEqual({ day: 'MONDAY', start: '00:00', end: '00:15' });
    expect(toLegacySlots({ ...hours, weekly: written }, now)).toEqual(example.workingHours);
    fc.assert(
      fc.property(
        legacySchedule,
        fc.constantFrom('Europe/Warsaw', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'),
        fc.integer({ min: at('2026-01-05T00:00:00Z'), max: at('2026-02-28T00:00:00Z') }),
        (slots, timeZone, when) => {
          const weekly = fromLegacySlots(timeZone, slots, when);
          // Every slot written is one the server accepts (INVALID_TIME otherwise).
          for (const slot of weekly) expect(weeklySlotSchema.safeParse(slot).success).toBe(true);
          const back = toLegacySlots({ timeZone, weekly, exceptions: [] }, when);
          // The same offsets; near the range's ends, in a zone far from UTC, a week from them (the
          // same moment of the weekly cycle), where the exact one would start past a slot's range.
          const expected = slots.map((slot, index) => {
            const shift = back[index]!.offsetSeconds - slot.offsetSeconds;
            const nearEnd = 604_800 - Math.abs(slot.offsetSeconds) <= 15 * 3_600;
            return nearEnd && Math.abs(shift) === 604_800
              ? { ...slot, offsetSeconds: slot.offsetSeconds + shift }
              : slot;
          });
          expect(back).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads offsets near the ends of the legacy range in every zone as slots the server accepts', () => {
    const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
    for (const when of [at('2026-01-07T12:00:00Z'), at('2026-07-01T12:00:00Z'), at('2026-12-03T19:00:00Z')])
      for (const timeZone of zones)
        for (const offsetSeconds of [-604_800, -604_799, -594_001, 0, 585_001, 604_799, 604_800]) {
          const [slot] = fromLegacySlots(timeZone, [{ offsetSeconds, durationSeconds: 5_950 }], when);
          expect([timeZone, offsetSeconds, weeklySlotSchema.safeParse(slot).success]).toEqual([
            timeZone,
            offsetSeconds,
            true,
          ]);
        }
  });

  it('a legacy write keeps the zone and the exceptions', () => {
    const base = {
      ...defaultSettings('x'),
      openingHours: warsaw(weekdays9to17, [{ date: '2026-12-25', recurring: true, slots: [] }]),
    } as ReturnType<typeof defaultSettings>;
    const now = at('2026-07-01T12:00:00Z');
    const patched = applyPatch(
      base,
      { workingHours: [{ offsetSeconds: 7 * 3_600, durationSeconds: 3_600 }] },
      now,
    );
    expect(patched.openingHours).toEqual({
      timeZone: 'Europe/Warsaw',
      weekly: [{ day: 'MONDAY', start: '09:00', end: '10:00' }],
      exceptions: [{ date: '2026-12-25', recurring: true, slots: [] }],
    });
  });
});
