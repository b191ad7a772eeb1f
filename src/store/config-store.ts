// What the domain needs from storage; SQLite implements it today, PostgreSQL can beside it.
import type { OrgConfig, OrgConfigSettings } from '../config/model.ts';

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

export interface OrgSummary {
  readonly orgId: string;
  readonly name: string;
  readonly version: number;
  readonly updatedAt: Date;
}

/**
 * Decides, inside the store's write transaction, what the new settings are.
 * Answer null to write nothing; throw to abort the transaction (nothing is written).
 */
export type UpdateDecision = (current: OrgConfig) => OrgConfigSettings | null;

export interface ConfigStore {
  /** Creates an organisation at version 1; throws OrgExistsError when the id is taken. */
  createOrg(orgId: string, settings: OrgConfigSettings): Promise<OrgConfig>;
  listOrgs(): Promise<OrgSummary[]>;
  getConfig(orgId: string): Promise<OrgConfig | undefined>;
  /**
   * One transaction: read the current config, let `decide` merge and validate, write and bump the
   * version. Concurrent updates of one organisation are serialised. Undefined when the org does not exist.
   */
  updateConfig(orgId: string, decide: UpdateDecision): Promise<OrgConfig | undefined>;

  createApiKey(key: { id: string; orgId: string; role: Role; keyHash: string }): Promise<ApiKeyRecord>;
  /** The live (not revoked) key with this hash. */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(orgId: string): Promise<ApiKeyRecord[]>;
  /** False when there is no such live key. */
  revokeApiKey(id: string): Promise<boolean>;

  close(): Promise<void>;
}
