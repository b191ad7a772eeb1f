// Revisions: SettingChange and OrgConfigRevision, the orgConfigHistory connection, orgConfigAt, revertOrgConfig.
import {
  ConfigValidationError,
  InvalidArgumentError,
  OrgNotFoundError,
  VersionConflictError,
} from '../config/errors.ts';
import type { SettingChange } from '../config/patch.ts';
import type { Revision, RevisionActor } from '../config/revision.ts';
import { maxHistoryPage, maxHistoryPageBytes, type UpdateResult } from '../config/service.ts';
import { builder } from './builder.ts';
import { asDryRun, asSnapshot, NodeRef } from './node.ts';
import { OrgConfigRef } from './org-config.ts';

export const DoorEnum = builder.enumType('Door', {
  description: 'How a change reached the gateway.',
  values: {
    GRAPHQL: { value: 'graphql', description: 'The GraphQL API.' },
    REST: { value: 'rest', description: 'The legacy REST API.' },
    CLI: { value: 'cli', description: 'The admin command line, at the database.' },
    SEED: { value: 'seed', description: 'The demo organisation created at a first start.' },
  } as const,
});

export const SettingChangeRef = builder.objectRef<SettingChange>('SettingChange').implement({
  description: 'One setting that changed, with its value before and after.',
  fields: (t) => ({
    path: t.exposeString('path', {
      description: 'Path of the setting in OrgConfig, e.g. "sla.openedConversations.range.lowerBound".',
    }),
    legacyKey: t.exposeString('legacyKey', {
      description: 'Key of the setting in the REST API, e.g. "openedConversationsSlaRangeLowerBound".',
    }),
    before: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The value before (null at the creation of the organisation).',
      resolve: (change) => change.before,
    }),
    after: t.field({ type: 'JSON', description: 'The value after.', resolve: (change) => change.after }),
  }),
});

export const RevisionActorRef = builder.objectRef<RevisionActor>('RevisionActor').implement({
  description:
    'Who made a change: an API key (its id, never the key itself), or the operator at the command line.',
  fields: (t) => ({
    keyId: t.exposeString('keyId', {
      nullable: true,
      description: 'Id of the API key (key_…); null for the operator.',
    }),
    role: t.exposeString('role', { description: 'admin, adviser or operator.' }),
  }),
});

export const OrgConfigRevisionRef = builder.objectRef<Revision>('OrgConfigRevision').implement({
  description: 'A committed change of a configuration.',
  interfaces: [NodeRef],
  fields: (t) => ({
    version: t.exposeInt('version', { description: 'The version this change made.' }),
    changedAt: t.expose('changedAt', { type: 'DateTime', description: 'When the change was committed.' }),
    actor: t.field({
      type: RevisionActorRef,
      description: 'Who made the change.',
      resolve: (revision) => revision.actor,
    }),
    door: t.field({
      type: DoorEnum,
      description: 'How the change came in.',
      resolve: (revision) => revision.door,
    }),
    revertedToVersion: t.int({
      nullable: true,
      description: 'Set when this change restored the settings of that earlier version.',
      resolve: (revision) => revision.revertedToVersion ?? null,
    }),
    changes: t.field({
      type: [SettingChangeRef],
      description: 'The settings that changed; at creation, all of them.',
      resolve: (revision) => [...revision.changes],
    }),
  }),
});

const cursorOf = (version: number) => Buffer.from(`version:${version}`).toString('base64url');
function versionOfCursor(cursor: string): number | null {
  const match = /^version:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}

interface HistoryConnection {
  readonly revisions: readonly Revision[];
  readonly hasMore: boolean;
}

const EdgeRef = builder.objectRef<Revision>('OrgConfigRevisionEdge').implement({
  description: 'A revision in a page of history.',
  fields: (t) => ({
    cursor: t.string({
      description: 'Pass as after to continue after this revision.',
      resolve: (revision) => cursorOf(revision.version),
    }),
    node: t.field({
      type: OrgConfigRevisionRef,
      description: 'The revision.',
      resolve: (revision) => revision,
    }),
  }),
});

const PageInfoRef = builder.objectRef<HistoryConnection>('PageInfo').implement({
  description:
    'Where a page of a connection ends (Relay cursor connections); history pages go backwards in time only.',
  fields: (t) => ({
    hasNextPage: t.boolean({
      description: 'Whether older revisions follow.',
      resolve: (page) => page.hasMore,
    }),
    endCursor: t.string({
      nullable: true,
      description: 'Pass as after for the next page.',
      resolve: (page) => (page.revisions.length > 0 ? cursorOf(page.revisions.at(-1)!.version) : null),
    }),
  }),
});

const ConnectionRef = builder.objectRef<HistoryConnection>('OrgConfigRevisionConnection').implement({
  description: 'A page of revisions, newest first.',
  fields: (t) => ({
    edges: t.field({
      type: [EdgeRef],
      description: 'The revisions with their cursors.',
      resolve: (page) => [...page.revisions],
    }),
    nodes: t.field({
      type: [OrgConfigRevisionRef],
      description: 'The revisions alone.',
      resolve: (page) => [...page.revisions],
    }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: 'Whether and where the next page starts.',
      resolve: (page) => page,
    }),
  }),
});

builder.queryField('orgConfigHistory', (t) =>
  t.field({
    type: ConnectionRef,
    nullable: true,
    description: `The changes of an organisation's configuration, newest first (admin keys only). At most ${maxHistoryPage} per page, and at most ${maxHistoryPageBytes / 1024} KiB of revisions as stored (at least one revision): a page of large revisions holds fewer than first, with hasNextPage and endCursor to go on.`,
    args: {
      orgId: t.arg.id({ required: true, description: 'The organisation.' }),
      first: t.arg.int({
        required: false,
        defaultValue: 20,
        description: `Page size, 0 to ${maxHistoryPage}.`,
      }),
      after: t.arg.string({ required: false, description: 'endCursor of the previous page.' }),
    },
    resolve: async (_, { orgId, first, after }, { actor, service }) => {
      const beforeVersion = after ? versionOfCursor(after) : null;
      if (after && beforeVersion === null)
        throw new InvalidArgumentError('after', 'not a cursor of this connection: pass pageInfo.endCursor');
      return service.history(actor, String(orgId), { first: first ?? 20, beforeVersion });
    },
  }),
);

builder.queryField('orgConfigAt', (t) =>
  t.field({
    type: OrgConfigRef,
    nullable: true,
    description:
      'The whole configuration as it was at a version. Null, with a NOT_FOUND error, for a version or organisation the key cannot see.',
    args: {
      orgId: t.arg.id({ required: true, description: 'The organisation.' }),
      version: t.arg.int({ required: true, description: 'The version to read.' }),
    },
    resolve: async (_, { orgId, version }, { actor, service }) =>
      asSnapshot(await service.configAt(actor, String(orgId), version)),
  }),
);

/** The success of a change: the committed (or, for a dry run, would-be) configuration and what changed. */
export function changeSuccessType(name: string, description: string) {
  return builder.objectRef<UpdateResult>(name).implement({
    description,
    fields: (t) => ({
      config: t.field({
        type: OrgConfigRef,
        description: 'The configuration as committed; for a dry run, as it would be (version unchanged).',
        // A dry run's configuration is no stored object: an id of its own keeps caches apart.
        resolve: (result) => (result.dryRun ? asDryRun(result.config) : result.config),
      }),
      changes: t.field({
        type: [SettingChangeRef],
        description: 'The settings that changed (or would change).',
        resolve: (result) => [...result.changes],
      }),
      dryRun: t.exposeBoolean('dryRun', { description: 'True when nothing was written.' }),
    }),
  });
}

/** The expected failures of a change, as members of its result union beside the success type. */
export function changeErrors(unionName: string, description: string) {
  return {
    types: [ConfigValidationError, VersionConflictError, OrgNotFoundError],
    union: { name: unionName, description },
    directResult: true as const,
  };
}

const RevertOrgConfigInput = builder.inputType('RevertOrgConfigInput', {
  description: 'Which earlier version of an organisation to restore.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The organisation to change.' }),
    toVersion: t.int({ required: true, description: 'The version whose settings to restore.' }),
    expectedVersion: t.int({
      required: false,
      description: 'Apply only if the configuration is still at this version.',
    }),
  }),
});

builder.mutationField('revertOrgConfig', (t) =>
  t.field({
    type: changeSuccessType(
      'RevertOrgConfigSuccess',
      'The settings of the earlier version are restored, as a new version.',
    ),
    description:
      'Restores the settings of an earlier version as a new revision (admin keys only). NotFound for a version the organisation never had.',
    args: { input: t.arg({ type: RevertOrgConfigInput, required: true, description: 'What to restore.' }) },
    errors: changeErrors('RevertOrgConfigResult', 'The committed revert, or why nothing was written.'),
    resolve: (_, { input }, { actor, service }) =>
      service.revert(actor, {
        orgId: String(input.orgId),
        toVersion: input.toVersion,
        expectedVersion: input.expectedVersion,
        door: 'graphql',
      }),
  }),
);
