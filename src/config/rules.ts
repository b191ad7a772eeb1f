// The rules of a valid setting, as zod schemas, each failure carrying a stable problem code.
import { z } from 'zod';
import { countryCodes, isCountryCode } from './countries.ts';

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
  INVALID_TEXT: 'INVALID_TEXT',
  SLA_RANGE_INVERTED: 'SLA_RANGE_INVERTED',
  WORKING_HOURS_OVERLAP: 'WORKING_HOURS_OVERLAP',
  ADDRESS_NOT_ALLOWED: 'ADDRESS_NOT_ALLOWED',
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
  INVALID_TEXT:
    'Text that is not well-formed Unicode (a lone UTF-16 surrogate), or that holds a NUL character (U+0000), which not every store can keep.',
  SLA_RANGE_INVERTED: 'An SLA lower bound above its upper bound.',
  WORKING_HOURS_OVERLAP: 'Two working-hours slots share a second of the week.',
  ADDRESS_NOT_ALLOWED:
    'A webhook URL that is not https, carries a user name or password, or names a loopback, private, link-local, multicast or unspecified address (unless the settings allow them).',
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

/**
 * A rule that is exactly a regular expression, published as the JSON Schema `pattern` (ECMA-262,
 * with the `u` flag, as JSON Schema validators such as ajv compile it): server and schema agree.
 */
function patternRule(schema: z.ZodType<string>, source: string, code: ProblemCode, message: string) {
  const pattern = new RegExp(source, 'u');
  return rule(schema, (value) => pattern.test(value), code, message).meta({ pattern: source });
}

/** No lone UTF-16 surrogate (text that is not Unicode) and no NUL, which PostgreSQL cannot hold. */
export const wellFormedTextPattern = '^[^\\u0000\\p{Cs}]*$';

/** Any text a setting holds: well-formed Unicode, the same in every store and through every door. */
export const wellFormedText = patternRule(
  z.string(),
  wellFormedTextPattern,
  ProblemCode.INVALID_TEXT,
  'must be well-formed Unicode text (no lone surrogate) without NUL characters',
);

const wellFormed = new RegExp(wellFormedTextPattern, 'u');

/** Paths (dotted) of the texts in `value` that not every store can keep as they are: lone surrogates, NUL. */
export function unstorableTextPaths(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return wellFormed.test(value) ? [] : [path || '(root)'];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    unstorableTextPaths(child, path ? `${path}.${key}` : key),
  );
}

/** Characters as JSON Schema counts them (`maxLength`): code points, a lone surrogate counting as one. */
export function codePointLength(value: string): number {
  let length = 0;
  for (const _ of value) length++;
  return length;
}

export function text(maxLength: number) {
  return rule(
    wellFormedText,
    (value) => codePointLength(value) <= maxLength,
    ProblemCode.TOO_LONG,
    `must be at most ${maxLength} characters`,
  ).meta({ maxLength });
}

export function nonNegativeInt(max: number) {
  return z.int().min(0, 'must not be negative').max(max, `must be at most ${max}`);
}

export const hexColor = patternRule(
  wellFormedText,
  '^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$',
  ProblemCode.INVALID_COLOR,
  'must be a hex colour, #rgb or #rrggbb',
);

// Hosts a URL may name, chosen so that every match is a URL that WHATWG parsers (browsers, Node)
// accept as it is: DNS names whose last label starts with a letter (a numeric one would be read as
// an IPv4 address), no punycode labels (xn--, which must decode), or a dotted-quad IPv4 address.
// IPv6 literals and non-ASCII names are not accepted.
const ipv4Part = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const ipv4 = `(?:${ipv4Part}\\.){3}${ipv4Part}`;
const hostOf = (letters: string) =>
  `(?:(?:(?![xX][nN]--)[${letters}0-9_-]+\\.)*(?![xX][nN]--)[${letters}][${letters}0-9_-]*|${ipv4})`;
/** 0 to 65535, without leading zeros. */
const portNumber =
  '(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]|0)';

/** An http(s) URL, or the empty string for "not set": scheme://host[:port] then, optionally, a path, query or fragment without spaces. */
export const optionalHttpUrl = patternRule(
  text(limits.urlLength),
  `^(?:|[hH][tT][tT][pP][sS]?://${hostOf('A-Za-z')}(?::0*${portNumber})?(?:[/?#][^\\s\\u0000\\p{Cs}]*)?)$`,
  ProblemCode.INVALID_URL,
  'must be an http or https URL (scheme://host[:port][/path]), or empty',
);

export const countryCode = rule(
  wellFormedText,
  isCountryCode,
  ProblemCode.INVALID_COUNTRY_CODE,
  'must be an ISO 3166-1 alpha-2 country code in capitals, such as PL',
).meta({ enum: [...countryCodes] });

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
    })
    .meta({ uniqueItems: true });
}

/**
 * `*`, or an origin exactly as a browser sends it: scheme://host[:port] in lowercase, no path, no
 * trailing slash, no default port (80 for http, 443 for https), no leading zeros.
 */
export const originList = uniqueList(
  patternRule(
    text(limits.urlLength),
    `^(?:\\*|http://${hostOf('a-z')}(?::(?!80$)${portNumber})?|https://${hostOf('a-z')}(?::(?!443$)${portNumber})?)$`,
    ProblemCode.INVALID_ORIGIN,
    'must be * or an origin such as https://example.com or http://localhost:8080 (lowercase, no path, no default port)',
  ),
);

export const extensionList = uniqueList(
  patternRule(
    wellFormedText,
    `^(?=.{1,${limits.extensionLength}}$)\\.[a-z0-9]+(?:\\.[a-z0-9]+)*$`,
    ProblemCode.INVALID_EXTENSION,
    `must be a lowercase file extension with a leading dot, such as .pdf, at most ${limits.extensionLength} characters`,
  ),
);

export const adviserStatuses = ['available', 'away', 'unavailable', 'unready'] as const;
export type AdviserStatus = (typeof adviserStatuses)[number];
export const adviserStatus = z.enum(adviserStatuses);

export const workingHoursSlot = z.strictObject({
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
