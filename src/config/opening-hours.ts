// Opening hours in local time: the schedule's rules, "open now / next change" and the legacy UTC offsets, with time passed in.
//
// Time-zone arithmetic comes from @js-temporal/polyfill (its disambiguation options let us state our
// own rule for skipped and repeated wall times, where luxon applies one of its own). The rule: a
// boundary written as a local time happens at the FIRST instant the clock reads that time or later.
// So a time in the hour skipped in spring happens when the clock jumps (02:30 -> 03:00 in Warsaw), and
// a time in the hour repeated in autumn happens at its first occurrence.
import { Temporal } from '@js-temporal/polyfill';
import { z } from 'zod';
import { ProblemCode } from './rules.ts';

export const weekdays = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
] as const;
export type Weekday = (typeof weekdays)[number];

export interface LocalSlot {
  /** Local wall time "HH:MM" (or "HH:MM:SS"). */
  readonly start: string;
  /** Local wall time; at or before `start` (22:00-02:00), the slot ends on the next day. Equal to start: an empty slot. */
  readonly end: string;
}
export interface WeeklySlot extends LocalSlot {
  readonly day: Weekday;
}
export interface OpeningException {
  /** A date in the organisation's zone, YYYY-MM-DD. */
  readonly date: string;
  /** Every year on this month and day (a 29 February only in leap years). */
  readonly recurring: boolean;
  /** That day's own slots; none: closed all day. */
  readonly slots: readonly LocalSlot[];
}
export interface OpeningHours {
  readonly timeZone: string;
  readonly weekly: readonly WeeklySlot[];
  readonly exceptions: readonly OpeningException[];
}

export interface LegacySlot {
  readonly offsetSeconds: number;
  readonly durationSeconds: number;
}

const daySeconds = 86_400;
const weekSeconds = 7 * daySeconds;
export const openingLimits = { weeklySlots: 100, exceptions: 100, exceptionSlots: 10 } as const;

// ---------------------------------------------------------------- times and dates

const timePattern = /^(-?)(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$/;

/**
 * Seconds from the start of the day of a time "HH:MM[:SS]"; null when it is not one. Hours past 23
 * and a leading minus (up to a week) are accepted: they keep every legacy UTC offset exactly.
 */
export function parseTime(value: string): number | null {
  const match = timePattern.exec(value);
  if (!match) return null;
  const seconds = Number(match[2]) * 3_600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
  if (seconds > weekSeconds + daySeconds) return null;
  return match[1] ? -seconds : seconds;
}

export function formatTime(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  const hh = String(Math.floor(abs / 3_600)).padStart(2, '0');
  const mm = String(Math.floor((abs % 3_600) / 60)).padStart(2, '0');
  const ss = abs % 60;
  return `${sign}${hh}:${mm}${ss ? `:${String(ss).padStart(2, '0')}` : ''}`;
}

/** Start and length in seconds of a slot on its day, or null when a time is bad. */
export function slotSpan(slot: LocalSlot): { start: number; duration: number } | null {
  const start = parseTime(slot.start);
  const end = parseTime(slot.end);
  if (start === null || end === null) return null;
  const duration = end >= start ? end - start : end - start + daySeconds;
  return { start, duration };
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a date "YYYY-MM-DD", or null when it is no such date. */
export function parseDate(value: string): number | null {
  const match = datePattern.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day)
    return null;
  return ms / 86_400_000;
}

function dateOfEpochDay(epochDay: number): string {
  return new Date(epochDay * 86_400_000).toISOString().slice(0, 10);
}

/** 0 for Monday ... 6 for Sunday (1970-01-01 was a Thursday). */
function weekdayOf(epochDay: number): number {
  return (((epochDay + 3) % 7) + 7) % 7;
}

/** The shape of an IANA zone name; published in the JSON Schema, the zone itself checked by the server. */
const timeZoneNamePattern = '^[A-Za-z][A-Za-z0-9_+\\-/]*$';
const timeZoneName = new RegExp(timeZoneNamePattern);

export function isTimeZone(value: string): boolean {
  if (!timeZoneName.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    Temporal.Now.zonedDateTimeISO(value);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- wall time <-> instants

interface DayInfo {
  /** The instant the day starts (ms). */
  readonly startMs: number;
  /** The day starts at 00:00 and lasts 24 hours: every wall time of it is startMs + its seconds. */
  readonly plain: boolean;
}

/** Days of zones already asked about, bounded: cleared whole past the bound (a day is ~100 bytes). */
const dayInfos = new Map<string, DayInfo>();
const maxDayInfos = 20_000;

function dayInfo(timeZone: string, epochDay: number): DayInfo {
  const key = `${timeZone} ${epochDay}`;
  let info = dayInfos.get(key);
  if (!info) {
    const start = Temporal.PlainDate.from(dateOfEpochDay(epochDay)).toZonedDateTime({ timeZone });
    info = {
      startMs: start.epochMilliseconds,
      plain: start.hour === 0 && start.minute === 0 && start.second === 0 && start.hoursInDay === 24,
    };
    if (dayInfos.size >= maxDayInfos) dayInfos.clear();
    dayInfos.set(key, info);
  }
  return info;
}

/**
 * The instant (ms) of a local wall time given as seconds since 1970-01-01T00:00 local: the first
 * instant the clock reads that time or later (see the rule at the top).
 */
export function instantOfWall(timeZone: string, wallSeconds: number): number {
  const epochDay = Math.floor(wallSeconds / daySeconds);
  const seconds = wallSeconds - epochDay * daySeconds;
  const info = dayInfo(timeZone, epochDay);
  if (info.plain) return info.startMs + seconds * 1_000;
  const wall = Temporal.PlainDateTime.from(dateOfEpochDay(epochDay)).add({ seconds });
  const earlier = wall.toZonedDateTime(timeZone, { disambiguation: 'earlier' });
  if (Temporal.PlainDateTime.compare(earlier.toPlainDateTime(), wall) === 0) return earlier.epochMilliseconds;
  // Skipped: 'earlier' reads the time with the offset after the jump, which lands before the jump.
  const transition = earlier.getTimeZoneTransition('next');
  return transition ? transition.epochMilliseconds : earlier.epochMilliseconds;
}

/** The local wall time of an instant, as seconds since 1970-01-01T00:00 local (whole seconds). */
export function wallOfInstant(timeZone: string, ms: number): number {
  const zoned = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone);
  return Math.floor((ms + zoned.offsetNanoseconds / 1e6) / 1_000);
}

// ---------------------------------------------------------------- the schedule of a date

type Span = { readonly start: number; readonly duration: number };

/** A schedule's slots parsed once, by weekday and by date (schedules are never mutated). */
interface ParsedSchedule {
  readonly byWeekday: readonly Span[][];
  readonly oneOff: ReadonlyMap<string, Span[]>;
  readonly yearly: ReadonlyMap<string, Span[]>;
}
const parsedSchedules = new WeakMap<OpeningHours, ParsedSchedule>();

function spansOf(slots: readonly LocalSlot[]): Span[] {
  return slots.flatMap((slot) => {
    const span = slotSpan(slot);
    return span && span.duration > 0 ? [span] : [];
  });
}

function parsed(hours: OpeningHours): ParsedSchedule {
  let schedule = parsedSchedules.get(hours);
  if (!schedule) {
    const oneOff = new Map<string, Span[]>();
    const yearly = new Map<string, Span[]>();
    for (const exception of hours.exceptions) {
      if (exception.recurring) yearly.set(exception.date.slice(5), spansOf(exception.slots));
      else oneOff.set(exception.date, spansOf(exception.slots));
    }
    schedule = {
      byWeekday: weekdays.map((day) => spansOf(hours.weekly.filter((slot) => slot.day === day))),
      oneOff,
      yearly,
    };
    parsedSchedules.set(hours, schedule);
  }
  return schedule;
}

/** The slots that start on a date: that date's exception if any (a one-off before a yearly one), else the weekday's. */
function spansOn(schedule: ParsedSchedule, epochDay: number): readonly Span[] {
  if (schedule.oneOff.size > 0 || schedule.yearly.size > 0) {
    const date = dateOfEpochDay(epochDay);
    const own = schedule.oneOff.get(date) ?? schedule.yearly.get(date.slice(5));
    if (own) return own;
  }
  return schedule.byWeekday[weekdayOf(epochDay)]!;
}

/** The last intervals computed per schedule: calls on the same local day ask for the same dates. */
const lastIntervals = new WeakMap<
  OpeningHours,
  { first: number; last: number; intervals: [number, number][] }
>();

/** Open intervals [from, to) in ms of the slots starting on dates first..last, merged where they touch or overlap. */
function openIntervals(
  hours: OpeningHours,
  first: number,
  last: number,
): readonly (readonly [number, number])[] {
  const known = lastIntervals.get(hours);
  if (known && known.first === first && known.last === last) return known.intervals;
  const intervals = computeIntervals(hours, first, last);
  lastIntervals.set(hours, { first, last, intervals });
  return intervals;
}

function computeIntervals(hours: OpeningHours, first: number, last: number): [number, number][] {
  const schedule = parsed(hours);
  const raw: [number, number][] = [];
  for (let epochDay = first; epochDay <= last; epochDay++) {
    for (const span of spansOn(schedule, epochDay)) {
      const wall = epochDay * daySeconds + span.start;
      const from = instantOfWall(hours.timeZone, wall);
      const to = instantOfWall(hours.timeZone, wall + span.duration);
      if (to > from) raw.push([from, to]);
    }
  }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const interval of raw) {
    const lastOne = merged.at(-1);
    if (lastOne && interval[0] <= lastOne[1]) lastOne[1] = Math.max(lastOne[1], interval[1]);
    else merged.push([interval[0], interval[1]]);
  }
  return merged;
}

export interface OpenState {
  readonly openNow: boolean;
  /** When the state flips next (ms), or null when it does not within about two years. */
  readonly nextChangeAt: number | null;
}

/** A slot starts at most a week before its day and ends at most 8 days after the day starts. */
const lookBackDays = 9;
const lookAheadDaysMax = 800;

/** The local date (epoch day) of an instant, from the cached starts of days (zones are within a day of UTC). */
function localDay(timeZone: string, nowMs: number): number {
  let day = Math.floor(nowMs / 86_400_000) + 1;
  while (dayInfo(timeZone, day).startMs > nowMs) day--;
  return day;
}

/** Whether the organisation is open at `nowMs`, and when that changes next. */
export function openState(hours: OpeningHours, nowMs: number): OpenState {
  const today = localDay(hours.timeZone, nowMs);
  for (let ahead = 16; ; ahead *= 2) {
    const last = today + Math.min(ahead, lookAheadDaysMax);
    const intervals = openIntervals(hours, today - lookBackDays, last);
    // Slots of later dates start no earlier than a week before them.
    const horizon = instantOfWall(hours.timeZone, (last + 1 - 7) * daySeconds);
    const current = intervals.find(([from, to]) => from <= nowMs && nowMs < to);
    const next = current ? current[1] : intervals.find(([from]) => from > nowMs)?.[0];
    if (next !== undefined && next < horizon) return { openNow: current !== undefined, nextChangeAt: next };
    if (ahead >= lookAheadDaysMax) return { openNow: current !== undefined, nextChangeAt: null };
  }
}

// ---------------------------------------------------------------- legacy UTC offsets

/** The local Monday (epoch day) of the week holding `nowMs` in the zone. */
function localMonday(timeZone: string, nowMs: number): number {
  const today = Math.floor(wallOfInstant(timeZone, nowMs) / daySeconds);
  return today - weekdayOf(today);
}

/** The instants the current local week starts and ends: legacy offsets hold between them. */
export function legacyWeek(hours: OpeningHours, nowMs: number): { fromMs: number; untilMs: number } {
  if (hours.timeZone === 'UTC') return { fromMs: -Infinity, untilMs: Infinity };
  const monday = localMonday(hours.timeZone, nowMs);
  return {
    fromMs: instantOfWall(hours.timeZone, monday * daySeconds),
    untilMs: instantOfWall(hours.timeZone, (monday + 7) * daySeconds),
  };
}

/**
 * From when until when everything computed from the schedule at `nowMs` stays as it is: the open
 * state and next change (until that change) and the legacy offsets (for the local week).
 */
export function unchangedWindow(hours: OpeningHours, nowMs: number): { fromMs: number; untilMs: number } {
  const week = legacyWeek(hours, nowMs);
  const next = openState(hours, nowMs).nextChangeAt ?? Infinity;
  return { fromMs: week.fromMs, untilMs: Math.min(week.untilMs, next) };
}

/**
 * The weekly slots as the legacy API's UTC offsets: seconds from Monday 00:00 UTC of the current
 * local week's Monday, and real lengths (a night across the spring change is an hour shorter).
 * In the zone UTC this is exactly the slot's day and times.
 */
export function toLegacySlots(hours: OpeningHours, nowMs: number): LegacySlot[] {
  const monday = hours.timeZone === 'UTC' ? 0 : localMonday(hours.timeZone, nowMs);
  const weekStartMs = monday * 86_400_000;
  return hours.weekly.map((slot) => {
    const span = slotSpan(slot) ?? { start: 0, duration: 0 };
    const wall = (monday + weekdays.indexOf(slot.day)) * daySeconds + span.start;
    const from = hours.timeZone === 'UTC' ? wall * 1_000 : instantOfWall(hours.timeZone, wall);
    const to =
      hours.timeZone === 'UTC'
        ? (wall + span.duration) * 1_000
        : instantOfWall(hours.timeZone, wall + span.duration);
    let offsetSeconds = Math.round((from - weekStartMs) / 1_000);
    // Outside the legacy range only in zones far from UTC: the same moment of the weekly cycle.
    if (offsetSeconds > weekSeconds) offsetSeconds -= weekSeconds;
    if (offsetSeconds < -weekSeconds) offsetSeconds += weekSeconds;
    return { offsetSeconds, durationSeconds: Math.min(Math.round((to - from) / 1_000), weekSeconds) };
  });
}

/**
 * Weekly local slots from legacy UTC offsets read in the current local week of the zone, so that
 * toLegacySlots answers the same offsets during that week (and always, in the zone UTC); an offset
 * within the zone's distance from UTC of the legacy range's ends reads back a week from it.
 */
export function fromLegacySlots(timeZone: string, slots: readonly LegacySlot[], nowMs: number): WeeklySlot[] {
  const utc = timeZone === 'UTC';
  const monday = utc ? 0 : localMonday(timeZone, nowMs);
  const weekStartMs = monday * 86_400_000;
  return slots.map(({ offsetSeconds, durationSeconds }) => {
    const fromMs = weekStartMs + offsetSeconds * 1_000;
    const wallFrom = utc ? fromMs / 1_000 : wallOfInstant(timeZone, fromMs);
    const wallTo = utc
      ? fromMs / 1_000 + durationSeconds
      : wallOfInstant(timeZone, fromMs + durationSeconds * 1_000);
    const relative = wallFrom - monday * daySeconds;
    const dayIndex = Math.min(Math.max(Math.floor(relative / daySeconds), 0), 6);
    let start = relative - dayIndex * daySeconds;
    // Past what a weekly slot may start at (a week before its day, a day after it), which offsets
    // near the ends of the legacy range reach in zones far from UTC: the same moment of the weekly
    // cycle, a week later or earlier; it then reads back as that offset, a week from the one written.
    if (start < -weekSeconds) start += weekSeconds;
    else if (start > daySeconds) start -= weekSeconds;
    return {
      day: weekdays[dayIndex]!,
      start: formatTime(start),
      end: formatTime(start + Math.max(wallTo - wallFrom, 0)),
    };
  });
}

/** The schedule of an organisation that never set one beyond the legacy offsets: the zone UTC, no exceptions. */
export function fromUtcOffsets(slots: readonly LegacySlot[]): OpeningHours {
  return { timeZone: 'UTC', weekly: fromLegacySlots('UTC', slots, 0), exceptions: [] };
}

/**
 * Settings stored before opening hours existed (old revisions) in today's shape: their UTC
 * `workingHours` become `openingHours` in the zone UTC.
 */
export function upgradeStoredSettings<T>(settings: T): T {
  const stored = settings as Record<string, unknown>;
  if (!('workingHours' in stored) || 'openingHours' in stored) return settings;
  const { workingHours, ...rest } = stored;
  return { ...rest, openingHours: fromUtcOffsets(workingHours as LegacySlot[]) } as T;
}

// ---------------------------------------------------------------- rules

const custom = (code: ProblemCode, message: string) => ({ message, params: { code } });

const startTime = z.string().refine(
  (value) => {
    const seconds = parseTime(value);
    return seconds !== null && seconds >= -weekSeconds && seconds <= daySeconds;
  },
  custom(ProblemCode.INVALID_TIME, 'must be a local time HH:MM or HH:MM:SS, such as 09:00'),
);
const endTime = z
  .string()
  .refine(
    (value) => parseTime(value) !== null,
    custom(ProblemCode.INVALID_TIME, 'must be a local time HH:MM or HH:MM:SS, such as 17:30'),
  );

function checkLength(slot: LocalSlot, ctx: z.RefinementCtx): void {
  const span = slotSpan(slot);
  if (span && span.duration > weekSeconds)
    ctx.addIssue({
      code: 'custom',
      path: ['end'],
      message: 'a slot lasts at most a week',
      params: { code: ProblemCode.INVALID_TIME },
    });
}

export const localSlotSchema = z.object({ start: startTime, end: endTime }).superRefine(checkLength);
export const weeklySlotSchema = z
  .object({ day: z.enum(weekdays), start: startTime, end: endTime })
  .superRefine(checkLength);

/** Indexes of slots that share a second with an earlier one, on a line or in the weekly cycle. */
function overlapping(spans: ({ start: number; duration: number } | null)[], cycle: number | null): number[] {
  const segments: { index: number; from: number; to: number }[] = [];
  spans.forEach((span, index) => {
    if (!span || span.duration === 0) return;
    if (cycle === null) {
      segments.push({ index, from: span.start, to: span.start + span.duration });
      return;
    }
    if (span.duration >= cycle) {
      segments.push({ index, from: 0, to: cycle });
      return;
    }
    const from = ((span.start % cycle) + cycle) % cycle;
    const to = from + span.duration;
    if (to <= cycle) segments.push({ index, from, to });
    else segments.push({ index, from, to: cycle }, { index, from: 0, to: to - cycle });
  });
  segments.sort((a, b) => a.from - b.from || a.index - b.index);
  const found = new Set<number>();
  let latest: (typeof segments)[number] | undefined;
  for (const segment of segments) {
    if (latest && latest.index !== segment.index && segment.from < latest.to)
      found.add(Math.max(latest.index, segment.index));
    if (!latest || segment.to > latest.to) latest = segment;
  }
  return [...found].sort((a, b) => a - b);
}

function reportOverlaps(indexes: number[], ctx: z.RefinementCtx, prefix: (string | number)[] = []): void {
  for (const index of indexes)
    ctx.addIssue({
      code: 'custom',
      path: [...prefix, index],
      message: 'overlaps another slot',
      params: { code: ProblemCode.WORKING_HOURS_OVERLAP },
    });
}

export const weeklySlotsSchema = z
  .array(weeklySlotSchema)
  .max(openingLimits.weeklySlots, `must have at most ${openingLimits.weeklySlots} slots`)
  .superRefine((slots, ctx) => {
    const spans = slots.map((slot) => {
      const span = slotSpan(slot);
      return span && { start: weekdays.indexOf(slot.day) * daySeconds + span.start, duration: span.duration };
    });
    reportOverlaps(overlapping(spans, weekSeconds), ctx);
  });

export const exceptionSchema = z.object({
  date: z
    .string()
    .refine(
      (value) => parseDate(value) !== null,
      custom(ProblemCode.INVALID_DATE, 'must be a date YYYY-MM-DD, such as 2026-12-25'),
    ),
  recurring: z.boolean(),
  slots: z
    .array(localSlotSchema)
    .max(openingLimits.exceptionSlots, `must have at most ${openingLimits.exceptionSlots} slots`)
    .superRefine((slots, ctx) => reportOverlaps(overlapping(slots.map(slotSpan), null), ctx)),
});

export const exceptionsSchema = z
  .array(exceptionSchema)
  .max(openingLimits.exceptions, `must have at most ${openingLimits.exceptions} exceptions`)
  .superRefine((exceptions, ctx) => {
    const seen = new Set<string>();
    exceptions.forEach((exception, index) => {
      if (typeof exception.date !== 'string') return;
      const key = exception.recurring ? `every ${exception.date.slice(5)}` : exception.date;
      if (seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: [index, 'date'],
          message: `the date ${exception.recurring ? exception.date.slice(5) : exception.date} has an earlier exception`,
          params: { code: ProblemCode.DUPLICATE_DATE },
        });
      seen.add(key);
    });
  });

export const timeZoneSchema = z
  .string()
  .max(64, 'must be at most 64 characters')
  .refine(
    isTimeZone,
    custom(ProblemCode.UNKNOWN_TIME_ZONE, 'must be an IANA time zone name, such as Europe/Warsaw or UTC'),
  )
  .meta({ pattern: timeZoneNamePattern });
