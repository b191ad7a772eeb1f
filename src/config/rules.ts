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
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

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

/** Slots may touch and may be empty, but no two may share a second. */
export const workingHoursList = z
  .array(workingHoursSlot)
  .max(limits.listItems, `must have at most ${limits.listItems} slots`)
  .superRefine((slots, ctx) => {
    const byStart = slots
      .map((slot, index) => ({ ...slot, index }))
      .filter((slot) => Number.isInteger(slot.offsetSeconds) && Number.isInteger(slot.durationSeconds))
      .sort((a, b) => a.offsetSeconds - b.offsetSeconds);
    let latest: (typeof byStart)[number] | undefined;
    for (const slot of byStart) {
      if (latest && slot.durationSeconds > 0 && slot.offsetSeconds < latest.offsetSeconds + latest.durationSeconds) {
        ctx.addIssue({
          code: 'custom',
          path: [slot.index],
          message: `overlaps the slot at index ${latest.index}`,
          params: { code: ProblemCode.WORKING_HOURS_OVERLAP },
        });
      }
      if (!latest || slot.offsetSeconds + slot.durationSeconds > latest.offsetSeconds + latest.durationSeconds) {
        latest = slot;
      }
    }
  });

/** lower ≤ upper, checked when both bounds are known (a patch may carry one; the service checks the merge). */
export function checkRange(range: { lowerBound?: unknown; upperBound?: unknown }, ctx: z.RefinementCtx): void {
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
