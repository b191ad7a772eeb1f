// The rules of a valid setting, as zod schemas, each failure carrying a stable problem code.
import { z } from 'zod';
import { isCountryCode } from './countries.ts';

/** Stable codes of the problems a configuration can have; clients may switch on them. */
export const ProblemCode = {
  INVALID_TYPE: 'INVALID_TYPE',
  NOT_NULLABLE: 'NOT_NULLABLE',
  UNKNOWN_SETTING: 'UNKNOWN_SETTING',
  OUT_OF_RANGE: 'OUT_OF_RANGE',
  TOO_LONG: 'TOO_LONG',
  TOO_MANY_ITEMS: 'TOO_MANY_ITEMS',
  INVALID_ENUM_VALUE: 'INVALID_ENUM_VALUE',
  INVALID_COLOR: 'INVALID_COLOR',
  INVALID_URL: 'INVALID_URL',
  INVALID_COUNTRY_CODE: 'INVALID_COUNTRY_CODE',
  INVALID_ORIGIN: 'INVALID_ORIGIN',
  INVALID_EXTENSION: 'INVALID_EXTENSION',
  DUPLICATE_VALUE: 'DUPLICATE_VALUE',
  SLA_RANGE_INVERTED: 'SLA_RANGE_INVERTED',
  WORKING_HOURS_OVERLAP: 'WORKING_HOURS_OVERLAP',
  UNKNOWN_TIME_ZONE: 'UNKNOWN_TIME_ZONE',
  INVALID_TIME: 'INVALID_TIME',
  INVALID_DATE: 'INVALID_DATE',
  DUPLICATE_DATE: 'DUPLICATE_DATE',
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

/** What each code means, for the GraphQL enum and the README. */
export const problemCodeDescriptions: Record<ProblemCode, string> = {
  INVALID_TYPE: 'A value of the wrong type, e.g. a string for a number.',
  NOT_NULLABLE: 'null for a setting: leave it out to keep the current value.',
  UNKNOWN_SETTING: 'A key that is not a setting.',
  OUT_OF_RANGE: 'A number outside its documented range.',
  TOO_LONG: 'A text over its documented maximum length.',
  TOO_MANY_ITEMS: 'A list over its maximum number of items.',
  INVALID_ENUM_VALUE: 'Not one of the allowed values.',
  INVALID_COLOR: 'Not a hex colour #rgb or #rrggbb.',
  INVALID_URL: 'Not an http or https URL.',
  INVALID_COUNTRY_CODE: 'Not an ISO 3166-1 alpha-2 country code in capitals.',
  INVALID_ORIGIN: 'Not * nor an origin scheme://host[:port] as a browser sends it.',
  INVALID_EXTENSION: 'Not a lowercase file extension with a leading dot.',
  DUPLICATE_VALUE: 'The same item twice in a list.',
  SLA_RANGE_INVERTED: 'An SLA lower bound above its upper bound.',
  WORKING_HOURS_OVERLAP:
    'Two working-hours or opening-hours slots share a second (of the week, or of an exception day).',
  UNKNOWN_TIME_ZONE: 'Not an IANA time zone name such as Europe/Warsaw or UTC.',
  INVALID_TIME: 'Not a local time HH:MM (or HH:MM:SS), or a slot longer than a week.',
  INVALID_DATE: 'Not a calendar date YYYY-MM-DD.',
  DUPLICATE_DATE: 'Two opening-hours exceptions for the same date (or, yearly, the same month and day).',
};

/** Upper limits of the settings, documented in the README and in the GraphQL descriptions. */
export const limits = {
  nameLength: 200,
  shortTextLength: 200,
  messageLength: 2_000,
  agreementLength: 10_000,
  urlLength: 2_048,
  listItems: 100,
  extensionLength: 16,
  attachmentBytes: 104_857_600,
  messageCharacters: 100_000,
  autoAssignedLimit: 1_000,
  timeoutSeconds: 2_592_000,
  conversationCount: 100_000,
  responseTimeMs: 86_400_000,
  weekSeconds: 604_800,
} as const;

/** A refinement whose failure carries `code`, since zod's own checks drop custom params. */
function rule<T>(schema: z.ZodType<T>, check: (value: T) => boolean, code: ProblemCode, message: string) {
  return schema.refine(check, { message, params: { code } });
}

export function text(maxLength: number) {
  return z.string().max(maxLength, `must be at most ${maxLength} characters`);
}

export function nonNegativeInt(max: number) {
  return z.int().min(0, 'must not be negative').max(max, `must be at most ${max}`);
}

export const hexColor = rule(
  z.string(),
  (value) => /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(value),
  ProblemCode.INVALID_COLOR,
  'must be a hex colour, #rgb or #rrggbb',
);

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

/** An http(s) URL, or the empty string for "not set". */
export const optionalHttpUrl = rule(
  text(limits.urlLength),
  (value) => value === '' || isHttpUrl(value),
  ProblemCode.INVALID_URL,
  'must be an http or https URL, or empty',
);

export const countryCode = rule(
  z.string(),
  isCountryCode,
  ProblemCode.INVALID_COUNTRY_CODE,
  'must be an ISO 3166-1 alpha-2 country code in capitals, such as PL',
);

/** `*`, or an origin exactly as a browser sends it: scheme://host[:port], no path, lowercase host. */
function isOrigin(value: string): boolean {
  return value === '*' || (isHttpUrl(value) && new URL(value).origin === value);
}

function duplicateIndexes(values: readonly unknown[]): number[] {
  const seen = new Set<unknown>();
  return values.flatMap((value, index) => {
    if (seen.has(value)) return [index];
    seen.add(value);
    return [];
  });
}

function uniqueList<T extends z.ZodType<string>>(item: T) {
  return z
    .array(item)
    .max(limits.listItems, `must have at most ${limits.listItems} items`)
    .superRefine((values, ctx) => {
      for (const index of duplicateIndexes(values)) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `duplicates an earlier item (${values[index]})`,
          params: { code: ProblemCode.DUPLICATE_VALUE },
        });
      }
    });
}

export const originList = uniqueList(
  rule(
    text(limits.urlLength),
    isOrigin,
    ProblemCode.INVALID_ORIGIN,
    'must be * or an origin such as https://example.com or http://localhost:8080 (lowercase, no path)',
  ),
);

export const extensionList = uniqueList(
  rule(
    z.string(),
    (value) => value.length <= limits.extensionLength && /^\.[a-z0-9]+(?:\.[a-z0-9]+)*$/.test(value),
    ProblemCode.INVALID_EXTENSION,
    `must be a lowercase file extension with a leading dot, such as .pdf, at most ${limits.extensionLength} characters`,
  ),
);

export const adviserStatuses = ['available', 'away', 'unavailable', 'unready'] as const;
export type AdviserStatus = (typeof adviserStatuses)[number];
export const adviserStatus = z.enum(adviserStatuses);

export const workingHoursSlot = z.object({
  offsetSeconds: z
    .int()
    .min(-limits.weekSeconds, `must be within one week (${limits.weekSeconds} s) of the week's start`)
    .max(limits.weekSeconds, `must be within one week (${limits.weekSeconds} s) of the week's start`),
  durationSeconds: nonNegativeInt(limits.weekSeconds),
});
export type WorkingHoursSlot = z.infer<typeof workingHoursSlot>;

interface WeekSegment {
  readonly slot: number;
  readonly start: number;
  readonly end: number;
}

/** Where a slot falls in the weekly cycle: one or, when it crosses the week's end, two segments of [0, week). */
function weekSegments(slot: WorkingHoursSlot, index: number): WeekSegment[] {
  const week = limits.weekSeconds;
  if (slot.durationSeconds <= 0) return [];
  if (slot.durationSeconds >= week) return [{ slot: index, start: 0, end: week }];
  const start = ((slot.offsetSeconds % week) + week) % week;
  const end = start + slot.durationSeconds;
  return end <= week
    ? [{ slot: index, start, end }]
    : [
        { slot: index, start, end: week },
        { slot: index, start: 0, end: end - week },
      ];
}

/**
 * Slots may touch and may be empty, but no two may share a second of the week. The week is a
 * cycle: -7200 is the same moment as 597600, so both ends of the week are compared too.
 */
export const workingHoursList = z
  .array(workingHoursSlot)
  .max(limits.listItems, `must have at most ${limits.listItems} slots`)
  .superRefine((slots, ctx) => {
    const segments = slots
      .flatMap((slot, index) =>
        Number.isInteger(slot.offsetSeconds) && Number.isInteger(slot.durationSeconds)
          ? weekSegments(slot, index)
          : [],
      )
      .sort((a, b) => a.start - b.start || a.slot - b.slot);
    const reported = new Set<number>();
    let latest: WeekSegment | undefined;
    for (const segment of segments) {
      if (latest && latest.slot !== segment.slot && segment.start < latest.end) {
        const [earlier, later] =
          latest.slot < segment.slot ? [latest.slot, segment.slot] : [segment.slot, latest.slot];
        if (!reported.has(later)) {
          reported.add(later);
          ctx.addIssue({
            code: 'custom',
            path: [later],
            message: `overlaps the slot at index ${earlier} in the weekly cycle`,
            params: { code: ProblemCode.WORKING_HOURS_OVERLAP },
          });
        }
      }
      if (!latest || segment.end > latest.end) latest = segment;
    }
  });

/** lower ≤ upper, checked when both bounds are known (a patch may carry one; the service checks the merge). */
export function checkRange(
  range: { lowerBound?: unknown; upperBound?: unknown },
  ctx: z.RefinementCtx,
): void {
  const { lowerBound, upperBound } = range;
  if (typeof lowerBound === 'number' && typeof upperBound === 'number' && lowerBound > upperBound) {
    ctx.addIssue({
      code: 'custom',
      path: ['lowerBound'],
      message: `lower bound ${lowerBound} must not exceed upper bound ${upperBound}`,
      params: { code: ProblemCode.SLA_RANGE_INVERTED },
    });
  }
}
