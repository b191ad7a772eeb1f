// Global object ids (the Relay Node convention): the Node interface, the ids of configurations and
// revisions, and node(id:), which reads through the same service, so a key sees only its own org.
import { randomUUID } from 'node:crypto';
import { createGraphQLError } from 'graphql-yoga';
import { VersionNotFoundError } from '../config/errors.ts';
import type { OrgConfig } from '../config/model.ts';
import type { Revision } from '../config/revision.ts';
import { builder } from './builder.ts';

/**
 * What an id names. The current configuration of an organisation is one object whose fields change
 * with each version (a client's cache updates it from a mutation's answer); a configuration as it
 * was at a version never changes, and a dry run's would-be configuration is no stored object at all,
 * so each has an id of its own and never overwrites the current one in a normalised cache.
 */
type Identity =
  | readonly ['OrgConfig', orgId: string]
  | readonly ['OrgConfig', orgId: string, version: number]
  | readonly ['OrgConfig', orgId: string, version: number, dryRun: string]
  | readonly ['OrgConfigRevision', orgId: string, version: number];

/** Opaque to clients: base64url of a small JSON array. */
export function globalId(identity: Identity): string {
  return Buffer.from(JSON.stringify(identity)).toString('base64url');
}

/** The identity an id names, or null for anything that is not an id of this API. */
export function identityOf(id: string): Identity | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || typeof parsed[1] !== 'string') return null;
  const [type, orgId, version, dryRun] = parsed as unknown[];
  const isVersion = Number.isSafeInteger(version) && (version as number) >= 1;
  if (type === 'OrgConfig' && parsed.length === 2) return ['OrgConfig', orgId as string];
  if (type === 'OrgConfig' && parsed.length === 3 && isVersion)
    return ['OrgConfig', orgId as string, version as number];
  if (type === 'OrgConfig' && parsed.length === 4 && isVersion && typeof dryRun === 'string')
    return ['OrgConfig', orgId as string, version as number, dryRun];
  if (type === 'OrgConfigRevision' && parsed.length === 3 && isVersion)
    return ['OrgConfigRevision', orgId as string, version as number];
  return null;
}

/** Configurations that are not the current one: read at a version, or a dry run's. */
const otherIdentities = new WeakMap<OrgConfig, Identity>();

/** The configuration as it was at its version (orgConfigAt): a copy, so the current one keeps its id. */
export function asSnapshot(config: OrgConfig): OrgConfig {
  const snapshot = { ...config };
  otherIdentities.set(snapshot, ['OrgConfig', config.orgId, config.version]);
  return snapshot;
}

/** A dry run's would-be configuration: an id of its own, which node(id:) does not find. */
export function asDryRun(config: OrgConfig): OrgConfig {
  const preview = { ...config };
  otherIdentities.set(preview, ['OrgConfig', config.orgId, config.version, randomUUID()]);
  return preview;
}

export function configId(config: OrgConfig): string {
  return globalId(otherIdentities.get(config) ?? ['OrgConfig', config.orgId]);
}

export function revisionId(revision: Revision): string {
  return globalId(['OrgConfigRevision', revision.orgId, revision.version]);
}

export const NodeRef = builder.interfaceRef<OrgConfig | Revision>('Node').implement({
  description:
    'An object with a globally unique id (the Relay convention): normalised caches (Apollo, urql, Relay) key on it, and node(id:) reads it again.',
  fields: (t) => ({
    id: t.id({
      description: 'Globally unique and opaque; stable for the same object.',
      resolve: (object) => ('changedAt' in object ? revisionId(object) : configId(object)),
    }),
  }),
  resolveType: (object) => ('changedAt' in object ? 'OrgConfigRevision' : 'OrgConfig'),
});

builder.queryField('node', (t) =>
  t.field({
    type: NodeRef,
    nullable: true,
    description:
      "The object with this id: a configuration (current, or at a version) or a revision, read as orgConfig, orgConfigAt and orgConfigHistory would (same keys, same rules). Null, with a NOT_FOUND error, for an id this key cannot see, a dry run's, or one that is not an id.",
    args: { id: t.arg.id({ required: true, description: 'An id of a Node.' }) },
    resolve: async (_, { id }, { actor, service }) => {
      const identity = identityOf(String(id));
      if (!identity || identity.length === 4)
        throw createGraphQLError('no object has this id', { extensions: { code: 'NOT_FOUND' } });
      const [type, orgId, version] = identity;
      if (type === 'OrgConfig' && version === undefined) return service.get(actor, orgId);
      if (type === 'OrgConfig') return asSnapshot(await service.configAt(actor, orgId, version!));
      const page = await service.history(actor, orgId, { first: 1, beforeVersion: version + 1 });
      const revision = page.revisions[0];
      if (revision?.version !== version) throw new VersionNotFoundError(orgId, version);
      return revision;
    },
  }),
);
