// OrgConfig and its nested object types, derived from the settings catalogue, with the orgConfig query.
import { isPublishable } from '../auth/actor.ts';
import type { CatalogueNode, GroupNode, SettingKind } from '../config/catalogue.ts';
import { ForbiddenError } from '../config/errors.ts';
import { type OrgConfig, orgConfigCatalogue } from '../config/model.ts';
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

/**
 * The GraphQL type of each kind of setting, for output (the slot type) or input (the slot input
 * type); the catalogue is walked untyped, so fields take it as 'String' for TypeScript.
 */
export function settingTypes<Slot>(workingHoursSlot: Slot) {
  return {
    string: 'String',
    int: 'Int',
    boolean: 'Boolean',
    adviserStatus: AdviserStatusEnum,
    stringList: ['String'],
    workingHours: [workingHoursSlot],
  } satisfies Record<SettingKind, unknown>;
}

const settingOutputTypes = settingTypes(WorkingHoursSlotRef);

type GroupTypeRef = ReturnType<typeof builder.objectRef<Group>>;
const groupTypes = new Map<string, { ref: GroupTypeRef; visibility: string }>();

/** Whether a widget key may read the node: a public setting, or a group holding one. */
function readableByWidget(node: CatalogueNode): boolean {
  return node.node === 'setting' ? node.public : Object.values(node.fields).some(readableByWidget);
}

/** The public flags of a group's settings, in order: groups sharing a type must agree on them. */
function visibilityOf(node: CatalogueNode): string {
  return node.node === 'setting'
    ? node.public
      ? 'p'
      : 's'
    : `(${Object.values(node.fields).map(visibilityOf).join('')})`;
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
      return [name, t.field({ type: settingOutputTypes[node.kind] as 'String', description, resolve })];
    }),
  );
}

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
