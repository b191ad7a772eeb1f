// Rows to domain objects and back, for both SQL stores: their tables have the same columns, keyed alike.
import { getPath, setPath } from '../config/catalogue.ts';
import { type OrgConfig, type OrgConfigSettings, settingsLeaves } from '../config/model.ts';
import type { SettingChange } from '../config/patch.ts';
import type { Revision, RevisionMeta } from '../config/revision.ts';
import type { ApiKeyRecord, Role } from './config-store.ts';

/** An org_configs row: its fixed columns, and one column per setting keyed by legacy key. */
export type OrgConfigRow = { orgId: string; version: number; updatedAt: Date } & Record<string, unknown>;

export function rowToConfig(row: OrgConfigRow): OrgConfig {
  const settings: Record<string, unknown> = {};
  for (const { path, setting } of settingsLeaves) setPath(settings, path, row[setting.legacyKey]);
  return {
    orgId: row.orgId,
    version: row.version,
    updatedAt: row.updatedAt,
    settings: settings as OrgConfigSettings,
  };
}

export function settingsToColumns(settings: OrgConfigSettings): Record<string, unknown> {
  return Object.fromEntries(
    settingsLeaves.map(({ path, setting }) => [setting.legacyKey, getPath(settings, path)]),
  );
}

/** Every setting changed from nothing: the changes of an organisation's first revision. */
export function creationChanges(settings: OrgConfigSettings): SettingChange[] {
  return settingsLeaves.map(({ path, setting }) => ({
    path: path.join('.'),
    legacyKey: setting.legacyKey,
    before: null,
    after: getPath(settings, path),
  }));
}

export interface RevisionRow {
  seq: number;
  orgId: string;
  version: number;
  changedAt: Date;
  actorKeyId: string | null;
  actorRole: 'admin' | 'adviser' | 'operator';
  door: Revision['door'];
  revertedToVersion: number | null;
  changes: SettingChange[];
  settings: OrgConfigSettings;
}

export function rowToRevision(row: RevisionRow): Revision {
  return {
    seq: row.seq,
    orgId: row.orgId,
    version: row.version,
    changedAt: row.changedAt,
    actor: { keyId: row.actorKeyId, role: row.actorRole },
    door: row.door,
    revertedToVersion: row.revertedToVersion,
    changes: row.changes,
    settings: row.settings,
  };
}

export function revisionRow(
  config: OrgConfig,
  changes: readonly SettingChange[],
  meta: RevisionMeta,
): Omit<RevisionRow, 'seq'> {
  return {
    orgId: config.orgId,
    version: config.version,
    changedAt: config.updatedAt,
    actorKeyId: meta.actor.keyId,
    actorRole: meta.actor.role,
    door: meta.door,
    revertedToVersion: meta.revertedToVersion ?? null,
    changes: [...changes],
    settings: config.settings,
  };
}

export interface ApiKeyRow {
  id: string;
  orgId: string;
  role: Role;
  groups: string[] | null;
  expiresAt: Date | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export function rowToApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    orgId: row.orgId,
    role: row.role,
    groups: row.groups,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}
