// The SQLite tables, in drizzle: one typed column per setting, derived from the catalogue.
import {
  index,
  integer,
  type SQLiteColumnBuilderBase,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import type { SettingKind } from '../../config/catalogue.ts';
import type { OrgConfigSettings } from '../../config/model.ts';
import { settingsLeaves } from '../../config/model.ts';
import type { SettingChange } from '../../config/patch.ts';
import { adviserStatuses } from '../../config/rules.ts';
import { settingColumnName } from '../setting-columns.ts';

function settingColumn(kind: SettingKind, name: string): SQLiteColumnBuilderBase {
  switch (kind) {
    case 'string':
      return text(name).notNull();
    case 'int':
      return integer(name).notNull();
    case 'boolean':
      return integer(name, { mode: 'boolean' }).notNull();
    case 'adviserStatus':
      return text(name, { enum: adviserStatuses }).notNull();
    case 'stringList':
    case 'workingHours':
      return text(name, { mode: 'json' }).notNull();
  }
}

/** Setting columns keyed by legacy key, so a row maps to the legacy table and back. */
const settingColumns = Object.fromEntries(
  settingsLeaves.map(({ setting }) => [
    setting.legacyKey,
    settingColumn(setting.kind, settingColumnName(setting.legacyKey)),
  ]),
);

export const orgConfigs = sqliteTable('org_configs', {
  orgId: text('org_id').primaryKey(),
  version: integer('version').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  ...settingColumns,
});

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgConfigs.orgId),
    role: text('role', { enum: ['admin', 'adviser', 'widget'] }).notNull(),
    /** The top-level setting groups the key may change; null: all. */
    groups: text('groups', { mode: 'json' }).$type<string[]>(),
    /** Checked at every use; null: never. */
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
    /** SHA-256 of the key; the key itself is never stored. */
    keyHash: text('key_hash').notNull().unique(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
    /** Written in batches (auth/key-use.ts), never once per request. */
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
  },
  (table) => [index('api_keys_org_id_idx').on(table.orgId)],
);

/** The revision log: one row per committed change, in commit order (seq); the change feed tails it. */
export const revisions = sqliteTable(
  'revisions',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    orgId: text('org_id')
      .notNull()
      .references(() => orgConfigs.orgId),
    version: integer('version').notNull(),
    changedAt: integer('changed_at', { mode: 'timestamp_ms' }).notNull(),
    actorKeyId: text('actor_key_id'),
    actorRole: text('actor_role', { enum: ['admin', 'adviser', 'operator'] }).notNull(),
    door: text('door', { enum: ['graphql', 'rest', 'cli', 'seed'] }).notNull(),
    revertedToVersion: integer('reverted_to_version'),
    changes: text('changes', { mode: 'json' }).$type<SettingChange[]>().notNull(),
    /** The whole settings as of this version, so any version can be read or restored. */
    settings: text('settings', { mode: 'json' }).$type<OrgConfigSettings>().notNull(),
  },
  (table) => [uniqueIndex('revisions_org_id_version_idx').on(table.orgId, table.version)],
);

/**
 * Single-use tickets that let a secret key open an EventSource stream without putting the key in a
 * URL: only their SHA-256 is stored, so every replica can redeem one, once.
 */
export const streamTickets = sqliteTable(
  'stream_tickets',
  {
    ticketHash: text('ticket_hash').primaryKey(),
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id),
    orgId: text('org_id').notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    usedAt: integer('used_at', { mode: 'timestamp_ms' }),
  },
  (table) => [index('stream_tickets_expires_at_idx').on(table.expiresAt)],
);
