// OrgConfig and its nested object types, derived from the settings catalogue, with the orgConfig query.
import { isPublishable } from '../auth/actor.ts';
import type { CatalogueNode, GroupNode, SettingKind } from '../config/catalogue.ts';
import { ForbiddenError } from '../config/errors.ts';
import { type OrgConfig, orgConfigCatalogue } from '../config/model.ts';
import {
  type LocalSlot,
  type OpeningException,
  type OpeningHours,
  type OpenState,
  openState,
  type WeeklySlot,
  weekdays,
} from '../config/opening-hours.ts';
import { adviserStatuses } from '../config/rules.ts';
import { builder } from './builder.ts';
import type { Context } from './context.ts';
import { NodeRef } from './node.ts';

type Group = Record<string, unknown>;
type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type FieldBuilder<Parent> = PothosSchemaTypes.ObjectFieldBuilder<Types, Parent>;

export const AdviserStatusEnum = builder.enumType('AdviserStatus', {
  description: 'Status of an adviser.',
  values: Object.fromEntries(
    adviserStatuses.map((status) => [
      status.toUpperCase(),
      { value: status, description: `"${status}" in the REST API.` },
    ]),
  ),
});

export const WorkingHoursSlotRef = builder
  .objectRef<{ offsetSeconds: number; durationSeconds: number }>('WorkingHoursSlot')
  .implement({
    description:
      'A weekly opening slot. The week starts on Monday 00:00 UTC; an opening in the previous UTC day has a negative offset (-7200 is Monday 00:00 at UTC+2).',
    fields: (t) => ({
      offsetSeconds: t.exposeInt('offsetSeconds', {
        description: 'Start, in seconds from the start of the week (-604800 to 604800).',
      }),
      durationSeconds: t.exposeInt('durationSeconds', {
        description: 'Length in seconds (0 to 604800); 0 is an empty slot.',
      }),
    }),
  });

export const WeekdayEnum = builder.enumType('Weekday', {
  description: 'A day of the week.',
  values: Object.fromEntries(
    weekdays.map((day) => [day, { value: day, description: `${day[0]}${day.slice(1).toLowerCase()}.` }]),
  ),
});

const slotTimes = {
  start: 'Local start time, HH:MM (or HH:MM:SS).',
  end: 'Local end time, HH:MM (or HH:MM:SS); at or before the start (22:00-02:00), the slot ends the next day; equal to the start, the slot is empty. Times past 24:00 or below 00:00 come from legacy offsets.',
};

export const LocalSlotRef = builder.objectRef<LocalSlot>('LocalSlot').implement({
  description: 'An opening slot of one day, in local time.',
  fields: (t) => ({
    start: t.exposeString('start', { description: slotTimes.start }),
    end: t.exposeString('end', { description: slotTimes.end }),
  }),
});

export const WeeklySlotRef = builder.objectRef<WeeklySlot>('WeeklySlot').implement({
  description: 'A weekly opening slot in local time: on `day`, from `start` to `end`.',
  fields: (t) => ({
    day: t.field({ type: WeekdayEnum, description: 'The day the slot starts.', resolve: (slot) => slot.day }),
    start: t.exposeString('start', { description: slotTimes.start }),
    end: t.exposeString('end', { description: slotTimes.end }),
  }),
});

export const OpeningExceptionRef = builder.objectRef<OpeningException>('OpeningException').implement({
  description:
    "A dated exception to the weekly slots: that day's own slots, or closed all day when it has none. It replaces the slots starting on that date (a slot from the evening before still ends as it says).",
  fields: (t) => ({
    date: t.exposeString('date', { description: "The date in the organisation's zone, YYYY-MM-DD." }),
    recurring: t.exposeBoolean('recurring', {
      description: 'Every year on this month and day (a 29 February only in leap years).',
    }),
    slots: t.field({
      type: [LocalSlotRef],
      description: "That day's slots; empty: closed all day.",
      resolve: (exception) => [...exception.slots],
    }),
  }),
});

/**
 * The GraphQL type of each kind of setting, for output (the slot types) or input (the slot input
 * types); the catalogue is walked untyped, so fields take it as 'String' for TypeScript.
 */
export function settingTypes<Slot, Weekly, Exceptions>(slots: {
  workingHours: Slot;
  weekly: Weekly;
  exceptions: Exceptions;
}) {
  return {
    string: 'String',
    int: 'Int',
    boolean: 'Boolean',
    adviserStatus: AdviserStatusEnum,
    stringList: ['String'],
    workingHours: [slots.workingHours],
    weeklySlots: [slots.weekly],
    openingExceptions: [slots.exceptions],
  } satisfies Record<SettingKind, unknown>;
}

const settingOutputTypes = settingTypes({
  workingHours: WorkingHoursSlotRef,
  weekly: WeeklySlotRef,
  exceptions: OpeningExceptionRef,
});

type GroupTypeRef = ReturnType<typeof builder.objectRef<Group>>;
const groupTypes = new Map<string, { ref: GroupTypeRef; visibility: string }>();

/** Whether a widget key may read the node: a public setting, or a group holding one. */
function readableByWidget(node: CatalogueNode): boolean {
  return node.node === 'group' ? Object.values(node.fields).some(readableByWidget) : node.public;
}

/** The public flags of a group's settings, in order: groups sharing a type must agree on them. */
function visibilityOf(node: CatalogueNode): string {
  if (node.node !== 'group') return node.public ? 'p' : 's';
  return `(${Object.values(node.fields).map(visibilityOf).join('')})`;
}

/**
 * The object type of a group, created once per type name (the three SLA metrics share SlaMetric).
 * `path` names its first use: a refused field is named by it.
 */
function groupTypeFor(group: GroupNode, path: string): GroupTypeRef {
  const visibility = visibilityOf(group);
  const existing = groupTypes.get(group.typeName);
  if (existing) {
    // One type, one answer for the widget, whichever field of OrgConfig holds it.
    if (existing.visibility !== visibility)
      throw new Error(`${group.typeName} is used by groups whose settings differ in being public`);
    return existing.ref;
  }
  const ref = builder.objectRef<Group>(group.typeName);
  groupTypes.set(group.typeName, { ref, visibility });
  ref.implement({
    description: group.typeDescription,
    fields: (t) => groupFields(t, group, (parent) => parent, path),
  });
  return ref;
}

/** A field a widget key may not read: the error names it. */
function notPublic(path: string): ForbiddenError {
  return new ForbiddenError(
    `"${path}" is not a public setting: a publishable (pk_) key reads public settings only`,
  );
}

/**
 * The fields of a group; `values` finds the group's values in the parent object. A field holding
 * nothing public refuses a widget key (FORBIDDEN, naming it): the schema's enforcement of the
 * catalogue's `public` flag, in the resolvers, so that compiled plans (read-plans.ts) apply it too.
 */
function groupFields<Parent>(
  t: FieldBuilder<Parent>,
  group: GroupNode,
  values: (parent: Parent) => Group,
  prefix = '',
) {
  return Object.fromEntries(
    Object.entries(group.fields).map(([name, node]) => {
      const path = prefix ? `${prefix}.${name}` : name;
      const resolve = readableByWidget(node)
        ? (parent: Parent) => values(parent)[name] as never
        : (parent: Parent, _args: object, context: Context) => {
            if (isPublishable(context.actor)) throw notPublic(path);
            return values(parent)[name] as never;
          };
      if (node.node === 'group')
        return [name, t.field({ type: groupTypeFor(node, path), description: node.description, resolve })];
      // The catalogue's public flag, said where clients read the schema.
      const description = node.public
        ? `${node.description} Public: a publishable (pk_) key reads it.`
        : node.description;
      if (node.node === 'derived')
        return [
          name,
          t.field({
            type: settingOutputTypes[node.kind] as 'String',
            description,
            // Derived settings are read at the service's time (never cached by version: read-plans.ts).
            resolve: (parent, _args, { service }) => node.read(values(parent), service.clock()) as never,
          }),
        ];
      return [name, t.field({ type: settingOutputTypes[node.kind] as 'String', description, resolve })];
    }),
  );
}

/** The answer of "open now, and until when" for one schedule at one time, computed once per request's time. */
const openStates = new WeakMap<OpeningHours, { at: number; state: OpenState }>();

function openStateOf(hours: OpeningHours, now: number): OpenState {
  const known = openStates.get(hours);
  if (known && known.at === now) return known.state;
  const state = openState(hours, now);
  openStates.set(hours, { at: now, state });
  return state;
}

/** Fields computed from the schedule at the service's time, beside the stored ones. */
builder.objectFields(groupTypeFor(orgConfigCatalogue.fields.openingHours, 'openingHours'), (t) => ({
  openNow: t.boolean({
    description: 'Whether the organisation is open now.',
    resolve: (hours, _args, { service }) =>
      openStateOf(hours as unknown as OpeningHours, service.clock()).openNow,
  }),
  nextChangeAt: t.field({
    type: 'DateTime',
    nullable: true,
    description:
      'When openNow flips next (an ISO 8601 instant); null when it does not within about two years.',
    resolve: (hours, _args, { service }) => {
      const next = openStateOf(hours as unknown as OpeningHours, service.clock()).nextChangeAt;
      return next === null ? null : new Date(next);
    },
  }),
}));

/** Fields whose answer changes with time, not only with the version: no answer of them is kept (read-plans.ts). */
export const timeDependentFields: ReadonlySet<string> = new Set([
  'openNow',
  'nextChangeAt',
  ...Object.entries(orgConfigCatalogue.fields)
    .filter(([, node]) => node.node === 'derived')
    .map(([name]) => name),
]);

export const OrgConfigRef = builder.objectRef<OrgConfig>('OrgConfig').implement({
  description: orgConfigCatalogue.typeDescription,
  interfaces: [NodeRef],
  fields: (t) => ({
    orgId: t.exposeID('orgId', { description: 'The organisation this configuration belongs to.' }),
    version: t.exposeInt('version', {
      description: 'Starts at 1 and grows by 1 with every committed change.',
    }),
    updatedAt: t.expose('updatedAt', {
      type: 'DateTime',
      description: 'When the last change was committed.',
    }),
    ...groupFields(t, orgConfigCatalogue, (config) => config.settings as unknown as Group),
  }),
});

builder.queryField('orgConfig', (t) =>
  t.field({
    type: OrgConfigRef,
    nullable: true,
    description:
      'The configuration of an organisation. Null, with a NOT_FOUND error, for an organisation the API key does not belong to.',
    args: { orgId: t.arg.id({ required: true, description: 'The organisation, e.g. "demo".' }) },
    resolve: (_, { orgId }, { actor, service }) => service.get(actor, String(orgId)),
  }),
);
