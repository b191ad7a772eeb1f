// What the domain needs from storage; SQLite (embedded) and PostgreSQL (many replicas) implement it.
import type { OrgConfig, OrgConfigSettings } from '../config/model.ts';
import type { SettingChange } from '../config/patch.ts';
import type { Revision, RevisionMeta } from '../config/revision.ts';

/** admin and adviser keys are secrets; a widget key (pk_…) is publishable: it reads public settings only. */
export type Role = 'admin' | 'adviser' | 'widget';
export const roles: readonly Role[] = ['admin', 'adviser', 'widget'];

export interface ApiKeyRecord {
  /** Public identifier, safe to show and log (e.g. key_3f9a1c2b7d4e). Never the key itself. */
  readonly id: string;
  readonly orgId: string;
  readonly role: Role;
  /** The top-level setting groups it may change; null: every group its role may. */
  readonly groups: readonly string[] | null;
  /** When it stops working (checked at every use); null: never. */
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  /** When it was last used, to within the batching of key-use records (auth/key-use.ts). */
  readonly lastUsedAt: Date | null;
}

export interface NewApiKey {
  readonly id: string;
  readonly orgId: string;
  readonly role: Role;
  readonly keyHash: string;
  readonly groups: readonly string[] | null;
  readonly expiresAt: Date | null;
}

/** A stream ticket as stored: only its hash, its key, its organisation, when it ends and when it was used. */
export interface StreamTicketRecord {
  readonly ticketHash: string;
  readonly keyId: string;
  readonly orgId: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
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
  /**
   * The versions and stored sizes (bytes of the changes and settings as stored) of an organisation's
   * revisions, newest first, below `beforeVersion` when given: what a history page can hold is
   * decided on these before any revision is read whole. With `untilBytes`, the store may stop after
   * the first revision that brings the sum of sizes over it.
   */
  revisionSizes(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number; untilBytes?: number },
  ): Promise<{ version: number; bytes: number }[]>;
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

  createApiKey(key: NewApiKey): Promise<ApiKeyRecord>;
  /** The live (not revoked) key with this hash; its expiry is the caller's to check, at use. */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** The live (not revoked) key with this id. */
  findApiKeyById(id: string): Promise<StoredApiKey | undefined>;
  /**
   * Brings a live key's expiry forward to `expiresAt` (never later than it was); false when there is
   * no such live key. Replicas are told to forget the keys they cached, as for a revocation.
   */
  expireApiKey(id: string, expiresAt: Date): Promise<boolean>;
  /** Records when keys were last used: one write for a batch (auth/key-use.ts); a later time wins. */
  recordKeyUse(uses: ReadonlyMap<string, Date>): Promise<void>;

  /** Stores a new stream ticket (by its hash). */
  createStreamTicket(ticket: Omit<StreamTicketRecord, 'usedAt'>): Promise<void>;
  /**
   * Marks the ticket used at `at`, atomically, and answers it as it was before (usedAt set: it had
   * been used already); undefined when there is no such ticket. Spent tickets ended a while ago are removed.
   */
  useStreamTicket(ticketHash: string, at: Date): Promise<StreamTicketRecord | undefined>;
  listApiKeys(orgId: string): Promise<ApiKeyRecord[]>;
  /** False when there is no such live key. */
  revokeApiKey(id: string): Promise<boolean>;

  /** Whether the database answers and every migration is applied (for /ready). Never throws. */
  isReady(): Promise<boolean>;

  close(): Promise<void>;
}
