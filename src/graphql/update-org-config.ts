// The updateOrgConfig mutation: its patch input types (derived from the catalogue) and its result union.
import type { GroupNode } from '../config/catalogue.ts';
import { orgConfigCatalogue } from '../config/model.ts';
import { builder } from './builder.ts';
import { settingTypes, WeekdayEnum } from './org-config.ts';
import { changeErrors, changeSuccessType } from './org-config-history.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type PatchGroup = Record<string, unknown>;
type InputFieldBuilder = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

const WorkingHoursSlotInput = builder.inputType('WorkingHoursSlotInput', {
  description: 'A weekly opening slot; see WorkingHoursSlot.',
  fields: (t) => ({
    offsetSeconds: t.int({
      required: true,
      description: 'Start, in seconds from Monday 00:00 UTC (-604800 to 604800).',
    }),
    durationSeconds: t.int({ required: true, description: 'Length in seconds (0 to 604800).' }),
  }),
});

const LocalSlotInput = builder.inputType('LocalSlotInput', {
  description: 'An opening slot of one day in local time; see LocalSlot.',
  fields: (t) => ({
    start: t.string({ required: true, description: 'Local start time, HH:MM (or HH:MM:SS).' }),
    end: t.string({
      required: true,
      description: 'Local end time; at or before the start, the slot ends the next day.',
    }),
  }),
});

const WeeklySlotInput = builder.inputType('WeeklySlotInput', {
  description: 'A weekly opening slot in local time; see WeeklySlot.',
  fields: (t) => ({
    day: t.field({ type: WeekdayEnum, required: true, description: 'The day the slot starts.' }),
    start: t.string({ required: true, description: 'Local start time, HH:MM (or HH:MM:SS).' }),
    end: t.string({
      required: true,
      description: 'Local end time; at or before the start, the slot ends the next day.',
    }),
  }),
});

const OpeningExceptionInput = builder.inputType('OpeningExceptionInput', {
  description: 'A dated exception to the weekly slots; see OpeningException.',
  fields: (t) => ({
    date: t.string({ required: true, description: "The date in the organisation's zone, YYYY-MM-DD." }),
    recurring: t.boolean({ required: true, description: 'Every year on this month and day.' }),
    slots: t.field({
      type: [LocalSlotInput],
      required: true,
      description: "That day's slots; empty: closed all day.",
    }),
  }),
});

/** The GraphQL input type of each kind of setting. */
const settingInputTypes = settingTypes({
  workingHours: WorkingHoursSlotInput,
  weekly: WeeklySlotInput,
  exceptions: OpeningExceptionInput,
});

type PatchInputRef = ReturnType<typeof builder.inputRef<PatchGroup>>;
const patchInputs = new Map<string, PatchInputRef>();

/** Every field of a patch input is optional: absent keeps the stored value; null is refused. */
function patchFields(t: InputFieldBuilder, group: GroupNode) {
  return Object.fromEntries(
    Object.entries(group.fields).map(([name, node]) => {
      if (node.node === 'group')
        return [name, t.field({ type: patchInputFor(node), required: false, description: node.description })];
      const replacedWhole = node.kind !== 'string' && node.kind !== 'int' && node.kind !== 'boolean';
      const description = replacedWhole ? `${node.description} Replaced whole.` : node.description;
      return [
        name,
        t.field({ type: settingInputTypes[node.kind] as 'String', required: false, description }),
      ];
    }),
  );
}

/** One patch input per group type (SlaMetricPatchInput serves all three metrics). */
function patchInputFor(group: GroupNode): PatchInputRef {
  const existing = patchInputs.get(group.typeName);
  if (existing) return existing;
  const ref = builder.inputRef<PatchGroup>(`${group.typeName}PatchInput`);
  patchInputs.set(group.typeName, ref);
  ref.implement({
    description: `A partial change of ${group.typeName}: only the fields given change.`,
    fields: (t) => patchFields(t, group),
  });
  return ref;
}

const OrgConfigPatchInput = builder.inputRef<PatchGroup>('OrgConfigPatchInput').implement({
  description:
    'A partial change of OrgConfig: settings left out stay as they are, groups may be given partly, lists are replaced whole, and null is refused.',
  // Checked by the service, not by the schema's validation: only the service has the stored
  // settings, and every problem (rules across settings too) is reported at once.
  fields: (t) => patchFields(t, orgConfigCatalogue),
});

const UpdateOrgConfigInput = builder.inputType('UpdateOrgConfigInput', {
  description: 'A change of some settings of one organisation.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The organisation to change.' }),
    patch: t.field({
      type: OrgConfigPatchInput,
      required: true,
      description: 'The settings to change; the others stay as they are.',
    }),
    expectedVersion: t.int({
      required: false,
      description:
        'Apply only if the configuration is still at this version; otherwise the result is VersionConflict.',
    }),
    dryRun: t.boolean({
      required: false,
      defaultValue: false,
      description: 'Validate and answer the would-be changes, writing and publishing nothing.',
    }),
  }),
});

builder.mutationField('updateOrgConfig', (t) =>
  t.field({
    type: changeSuccessType(
      'UpdateOrgConfigSuccess',
      'The change is committed (or, for a dry run, would be valid).',
    ),
    description:
      'Changes some settings of an organisation (admin keys only). A rejected change writes nothing and keeps the version.',
    args: { input: t.arg({ type: UpdateOrgConfigInput, required: true, description: 'What to change.' }) },
    errors: changeErrors('UpdateOrgConfigResult', 'The committed change, or why nothing was written.'),
    resolve: (_, { input }, { actor, service }) =>
      service.update(actor, {
        orgId: String(input.orgId),
        patch: input.patch,
        expectedVersion: input.expectedVersion,
        door: 'graphql',
        dryRun: input.dryRun ?? false,
      }),
  }),
);
