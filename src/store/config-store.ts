// What the domain needs from storage; SQLite (embedded) and PostgreSQL (many replicas) implement it.
import type { OrgConfig, OrgConfigSettings } from '../config/model.ts';
import type { SettingChange } from '../config/patch.ts';
import type { Revision, RevisionMeta } from '../config/revision.ts';

export type Role = 'admin' | 'adviser';
export const roles: readonly Role[] = ['admin', 'adviser'];

export interface ApiKeyRecord {
  /** Public identifier, safe to show and log (e.g. key_3f9a1c2b7d4e). Never the key itself. */
  readonly id: string;
  readonly orgId: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** An API key as stored: its record and the SHA-256 of the key (for copying a database). */
export interface StoredApiKey extends ApiKeyRecord {
  readonly keyHash: string;
}

export interface OrgSummary {
  readonly orgId: string;
  readonly name: string;
  readonly version: number;
  readonly updatedAt: Date;
}

/**
 * Decides, inside the store's write transaction, what the new settings are and what changed.
 * Answer null to write nothing; throw to abort the transaction (nothing is written).
 */
export type UpdateDecision = (
  current: OrgConfig,
) => { settings: OrgConfigSettings; changes: SettingChange[] } | null;

export interface ConfigStore {
  /** Creates an organisation at version 1, with its first revision; throws OrgExistsError when the id is taken. */
  createOrg(orgId: string, settings: OrgConfigSettings, meta: RevisionMeta): Promise<OrgConfig>;
  listOrgs(): Promise<OrgSummary[]>;
  getConfig(orgId: string): Promise<OrgConfig | undefined>;
  /** The configuration when the store holds it in memory (the read cache), without a promise; else undefined. */
  peekConfig?(orgId: string): OrgConfig | undefined;
  /** Likewise a live key of this hash (the key cache). */
  peekApiKey?(keyHash: string): ApiKeyRecord | undefined;
  /**
   * One transaction: read the current config, let `decide` merge and validate, write, bump the
   * version and append the revision. Concurrent updates of one organisation are serialised.
   * Undefined when the org does not exist.
   */
  updateConfig(orgId: string, decide: UpdateDecision, meta: RevisionMeta): Promise<OrgConfig | undefined>;

  /** An organisation's revisions, newest first, below `beforeVersion` when given. */
  listRevisions(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number },
  ): Promise<Revision[]>;
  getRevision(orgId: string, version: number): Promise<Revision | undefined>;
  /** An organisation's revisions with a version above `version`, oldest first, at most `limit`. */
  revisionsSince(orgId: string, version: number, limit: number): Promise<Revision[]>;
  /** Revisions of every organisation after log position `seq`, in commit order: the change feed. */
  revisionsAfter(seq: number, limit: number): Promise<Revision[]>;
  /**
   * Without reading the database: the revisions after `seq` (at most `limit`) when all of them up to
   * this process's latest commit are its own commits, remembered; undefined when it cannot tell.
   * Revisions of other processes committed after that are not included: their signal wakes the feed.
   */
  ownRevisionsAfter?(seq: number, limit: number): Revision[] | undefined;
  /** The log position of the newest revision (0 when none). */
  latestRevisionSeq(): Promise<number>;

  createApiKey(key: { id: string; orgId: string; role: Role; keyHash: string }): Promise<ApiKeyRecord>;
  /** The live (not revoked) key with this hash. */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(orgId: string): Promise<ApiKeyRecord[]>;
  /** False when there is no such live key. */
  revokeApiKey(id: string): Promise<boolean>;

  /** Whether the database answers and every migration is applied (for /ready). Never throws. */
  isReady(): Promise<boolean>;

  close(): Promise<void>;
}
