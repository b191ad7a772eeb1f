// The published rules: a JSON Schema (2020-12) of the flat legacy object, generated from the catalogue.
import { z } from 'zod';
import { legacySettings } from '../config/legacy.ts';
import { limits } from '../config/rules.ts';

/** Where the gateway serves it; the OpenAPI document refers to it by this path. */
export const configSchemaPath = '/api/config.schema.json';

/** The rules across settings, which a schema of one value cannot state; the server checks them. */
const crossFieldRules = [
  'Each SLA lower bound (…SlaRangeLowerBound) is not above its upper bound (…SlaRangeUpperBound), the stored one when a change sends only one of them (SLA_RANGE_INVERTED).',
  `Working-hours slots do not share a second of the week, compared around the weekly cycle of ${limits.weekSeconds} s (WORKING_HOURS_OVERLAP); nor do opening-hours slots.`,
  'openingHoursTimeZone names a time zone of the IANA database the server has (UNKNOWN_TIME_ZONE); each exception date is a date of the calendar (INVALID_DATE), and no two exceptions fall on one date (DUPLICATE_DATE).',
];

/** One setting's rule, as zod describes it, with the pattern, length and enum facts its rule published. */
function settingSchema(schema: z.ZodType, description: string): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
  });
  return { ...rest, description };
}

const settingDefs = Object.fromEntries(
  legacySettings.map(({ key, schema, description }) => [key, settingSchema(schema, description)]),
);
const keys = legacySettings.map(({ key }) => key);
const references = Object.fromEntries(keys.map((key) => [key, { $ref: `#/$defs/${key}` }]));

/**
 * The flat object of GET answers (every setting present, no other key) at its root; the body of a
 * PUT, POST or PATCH (any settings, none required, no other key) in `$defs/OrgConfigPatch`.
 */
export const configJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: configSchemaPath,
  title: 'OrgConfig',
  description: `The configuration of an organisation as the REST API reads and writes it: one flat object of ${keys.length} settings. Text is well-formed Unicode without NUL; lengths count code points. Not stated here (the server checks them, and answers 422 with a problem on the key sent): ${crossFieldRules.join(' ')}`,
  $comment: `Rules across settings, not expressed by this schema: ${crossFieldRules.join(' ')}`,
  type: 'object',
  properties: references,
  required: keys,
  additionalProperties: false,
  $defs: {
    ...settingDefs,
    OrgConfigPatch: {
      description:
        'A change, as PUT, POST and PATCH take it: any settings, none required, no other key; lists are replaced whole.',
      type: 'object',
      properties: references,
      additionalProperties: false,
    },
  },
} as const;
