// openNow against a brute force, minute by minute over a whole year, in 50 time zones.
//
// The brute force shares nothing with the implementation: it reads each minute's wall clock from
// Intl (not Temporal), picks each date's slots by its own lookup, and applies the documented rule
// ("a boundary happens at the first instant the clock reads that time or later") in its plainest
// form: a slot is open while the highest wall time the clock has shown so far is within it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type OpeningHours,
  openState,
  type WeeklySlot,
  weekdays,
  weeklySlotsSchema,
} from '../src/config/opening-hours.ts';

const year = 2026;
const fromMs = Date.UTC(year, 0, 1);
const untilMs = Date.UTC(year + 1, 0, 1);
const minute = 60_000;

/** Zones with odd rules first (30-minute and 2-hour shifts, changes at midnight), then a spread of the rest. */
const oddZones = [
  'Europe/Warsaw',
  'America/New_York',
  'Australia/Lord_Howe',
  'America/Santiago',
  'America/Havana',
  'Asia/Beirut',
  'Antarctica/Troll',
  'Africa/Casablanca',
  'Pacific/Chatham',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Europe/London',
  'Australia/Sydney',
  'America/Asuncion',
  'UTC',
];
const allZones = Intl.supportedValuesOf('timeZone');
const stride = Math.floor(allZones.length / (50 - oddZones.length));
const zones = [
  ...oddZones,
  ...allZones.filter((zone, index) => index % stride === 0 && !oddZones.includes(zone)),
].slice(0, 50);

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Times around the usual change hours (01:00-04:00) and midnight more often than the others. */
const time = fc.oneof(
  fc.integer({ min: 0, max: 1439 }),
  fc.constantFrom(0, 30, 60, 90, 120, 150, 180, 210, 240, 1380, 1410),
);
const slot = fc.record({ start: time, length: fc.integer({ min: 1, max: 1200 }) });

function scheduleArbitrary(timeZone: string): fc.Arbitrary<OpeningHours> {
  return fc
    .record({
      weekly: fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), slot), { maxLength: 12 }),
      exceptions: fc.array(
        fc.record({
          day: fc.integer({ min: 0, max: 364 }),
          recurring: fc.boolean(),
          slots: fc.array(slot, { maxLength: 2 }),
        }),
        { maxLength: 8 },
      ),
    })
    .map(({ weekly, exceptions }) => {
      // Slots that would overlap the ones kept are left out: the schedule is valid.
      const kept: WeeklySlot[] = [];
      for (const [day, { start, length }] of weekly) {
        const candidate = { day: weekdays[day]!, start: hhmm(start), end: hhmm(start + length) };
        if (weeklySlotsSchema.safeParse([...kept, candidate]).success) kept.push(candidate);
      }
      const seen = new Set<string>();
      return {
        timeZone,
        weekly: kept,
        exceptions: exceptions.flatMap(({ day, recurring, slots }) => {
          const date = new Date(fromMs + day * 86_400_000).toISOString().slice(0, 10);
          if (seen.has(date.slice(5))) return [];
          seen.add(date.slice(5));
          // One slot per exception day never overlaps itself; two might, so keep the first.
          const own = slots.slice(0, 1).map(({ start, length }) => ({
            start: hhmm(start),
            end: hhmm(start + length),
          }));
          return [{ date, recurring, slots: own }];
        }),
      };
    });
}

// ---------------------------------------------------------------- the brute force

function wallClock(timeZone: string): (ms: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (ms) => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(ms)) parts[part.type] = Number(part.value);
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  };
}

/** The wall clock (ms, as if UTC) of every minute from `from` to `until`, read from Intl once a day, and each minute of a day whose offset changes. */
function wallMinutes(timeZone: string, from: number, until: number): Float64Array {
  const wall = wallClock(timeZone);
  const walls = new Float64Array((until - from) / minute);
  const day = 1_440;
  for (let first = 0; first < walls.length; first += day) {
    const last = Math.min(first + day, walls.length) - 1;
    const offsetFirst = wall(from + first * minute) - (from + first * minute);
    const offsetLast = wall(from + last * minute) - (from + last * minute);
    for (let index = first; index <= last; index++) {
      const ms = from + index * minute;
      walls[index] = offsetFirst === offsetLast ? ms + offsetFirst : wall(ms);
    }
  }
  return walls;
}

/** Wall-time intervals [start, end) in ms of the slots starting on each date, merged. */
function wallIntervals(hours: OpeningHours, firstDay: number, lastDay: number): [number, number][] {
  const minutesOf = (value: string) => Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5));
  const raw: [number, number][] = [];
  for (let day = firstDay; day <= lastDay; day++) {
    const dayMs = day * 86_400_000;
    const date = new Date(dayMs).toISOString().slice(0, 10);
    const exception =
      hours.exceptions.find((candidate) => !candidate.recurring && candidate.date === date) ??
      hours.exceptions.find((candidate) => candidate.recurring && candidate.date.slice(5) === date.slice(5));
    const weekday = weekdays[(new Date(dayMs).getUTCDay() + 6) % 7];
    const slots = exception ? exception.slots : hours.weekly.filter((candidate) => candidate.day === weekday);
    for (const { start, end } of slots) {
      const from = minutesOf(start);
      let to = minutesOf(end);
      if (to <= from) to += 1_440;
      if (to === from) continue;
      raw.push([dayMs + from * minute, dayMs + to * minute]);
    }
  }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of raw) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** Open or not at each minute of [from, until), by the brute force. */
function bruteForce(hours: OpeningHours, from: number, until: number): Uint8Array {
  // Two days of lead, so the highest wall time shown so far is known from the first minute.
  const lead = 2 * 1_440;
  const walls = wallMinutes(hours.timeZone, from - lead * minute, until);
  const day = (ms: number) => Math.floor(ms / 86_400_000);
  const intervals = wallIntervals(hours, day(from) - 3, day(until) + 1);
  const open = new Uint8Array((until - from) / minute);
  let highest = -Infinity;
  let next = 0;
  for (let index = 0; index < walls.length; index++) {
    highest = Math.max(highest, walls[index]!);
    while (next < intervals.length && intervals[next]![1] <= highest) next++;
    if (index >= lead) open[index - lead] = next < intervals.length && intervals[next]![0] <= highest ? 1 : 0;
  }
  return open;
}

// ---------------------------------------------------------------- the comparison

/** The first minute where the implementation disagrees, walked from change to change; null when none. */
function firstDisagreement(hours: OpeningHours, expected: Uint8Array): string | null {
  let state = openState(hours, fromMs);
  let changeAt = state.nextChangeAt ?? Infinity;
  for (let index = 0; index < expected.length; index++) {
    const now = fromMs + index * minute;
    while (now >= changeAt) {
      const next = openState(hours, changeAt);
      if (next.openNow === state.openNow)
        return `${new Date(changeAt).toISOString()}: a change that flips nothing`;
      state = next;
      changeAt = next.nextChangeAt ?? Infinity;
    }
    if (state.openNow !== (expected[index] === 1))
      return `${new Date(now).toISOString()}: openNow ${state.openNow}, the brute force says ${!state.openNow}`;
  }
  return null;
}

describe('openNow over a year', () => {
  it('agrees with a brute force minute by minute, for every day of the year in 50 zones', () => {
    expect(zones).toHaveLength(50);
    let changes = 0;
    zones.forEach((timeZone, seed) => {
      const [hours] = fc.sample(scheduleArbitrary(timeZone), { seed, numRuns: 1 });
      const expected = bruteForce(hours!, fromMs, untilMs);
      for (let index = 1; index < expected.length; index++)
        if (expected[index] !== expected[index - 1]) changes++;
      const disagreement = firstDisagreement(hours!, expected);
      expect(disagreement, `${timeZone} ${JSON.stringify(hours)}`).toBeNull();
    });
    // The schedules are not trivial: they open and close hundreds of times a year.
    expect(changes).toBeGreaterThan(50 * 100);
  });

  it('the brute force itself sees the documented rule in Warsaw: a slot from 02:30 opens at the jump, or at the first 02:30', () => {
    const hours: OpeningHours = {
      timeZone: 'Europe/Warsaw',
      weekly: [{ day: 'SUNDAY', start: '02:30', end: '04:00' }],
      exceptions: [],
    };
    const from = Date.UTC(2026, 2, 29, 0, 0);
    const spring = bruteForce(hours, from, from + 180 * minute);
    // The clock jumps from 02:00 to 03:00 at 01:00Z: open from that minute.
    expect(spring.indexOf(1)).toBe(60);
    const autumn = Date.UTC(2026, 9, 25, 0, 0);
    const fall = bruteForce(hours, autumn, autumn + 240 * minute);
    // The first 02:30 is 00:30Z; open through the repeated hour until 04:00 (03:00Z).
    expect(fall.indexOf(1)).toBe(30);
    expect(fall.lastIndexOf(1)).toBe(179);
  });
});
