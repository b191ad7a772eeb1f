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

/** Webhook endpoints of organisations, each with its cursor in the revision log and its lease (webhooks/). */
export const webhooks = sqliteTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgConfigs.orgId),
    url: text('url').notNull(),
    /** Setting or group paths; empty: every change. */
    fields: text('fields', { mode: 'json' }).$type<string[]>().notNull(),
    secret: text('secret').notNull(),
    /** Still signs (beside the new secret) until previous_secret_until: a rotation's overlap. */
    previousSecret: text('previous_secret'),
    previousSecretUntil: integer('previous_secret_until', { mode: 'timestamp_ms' }),
    enabled: integer('enabled', { mode: 'boolean' }).notNull(),
    disabledReason: text('disabled_reason'),
    disabledAt: integer('disabled_at', { mode: 'timestamp_ms' }),
    /** The organisation's version up to which every change was delivered (or filtered out). */
    cursorVersion: integer('cursor_version').notNull(),
    /** Failed attempts at the change after the cursor. */
    failures: integer('failures').notNull(),
    nextAttemptAt: integer('next_attempt_at', { mode: 'timestamp_ms' }).notNull(),
    leaseOwner: text('lease_owner'),
    leaseUntil: integer('lease_until', { mode: 'timestamp_ms' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [
    index('webhooks_org_id_idx').on(table.orgId),
    index('webhooks_next_attempt_at_idx').on(table.nextAttemptAt),
  ],
);

/** One row per delivery attempt, kept for a bounded time. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    webhookId: text('webhook_id').notNull(),
    orgId: text('org_id').notNull(),
    version: integer('version').notNull(),
    messageId: text('message_id').notNull(),
    attempt: integer('attempt').notNull(),
    manual: integer('manual', { mode: 'boolean' }).notNull(),
    attemptedAt: integer('attempted_at', { mode: 'timestamp_ms' }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    status: integer('status'),
    error: text('error'),
    excerpt: text('excerpt'),
    delivered: integer('delivered', { mode: 'boolean' }).notNull(),
  },
  (table) => [
    index('webhook_deliveries_webhook_id_idx').on(table.webhookId, table.id),
    index('webhook_deliveries_attempted_at_idx').on(table.attemptedAt),
  ],
);
