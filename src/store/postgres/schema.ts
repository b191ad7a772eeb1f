// The PostgreSQL tables, in drizzle: the same tables and columns as the SQLite schema, in PostgreSQL's types.
import {
  bigserial,
  boolean,
  index,
  integer,
  json,
  type PgColumnBuilderBase,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { SettingKind } from '../../config/catalogue.ts';
import { type OrgConfigSettings, settingsLeaves } from '../../config/model.ts';
import type { SettingChange } from '../../config/patch.ts';
import { adviserStatuses } from '../../config/rules.ts';
import { settingColumnName } from '../setting-columns.ts';

/** Milliseconds, as JavaScript Dates carry them, and read back as Dates. */
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

// json rather than jsonb: jsonb reorders object keys, and a stored value must read back as it was written.
function settingColumn(kind: SettingKind, name: string): PgColumnBuilderBase {
  switch (kind) {
    case 'string':
      return text(name).notNull();
    case 'int':
      return integer(name).notNull();
    case 'boolean':
      return boolean(name).notNull();
    case 'adviserStatus':
      return text(name, { enum: adviserStatuses }).notNull();
    case 'stringList':
    case 'workingHours':
      return json(name).notNull();
  }
}

/** Setting columns keyed by legacy key, so a row maps to the legacy table and back. */
const settingColumns = Object.fromEntries(
  settingsLeaves.map(({ setting }) => [
    setting.legacyKey,
    settingColumn(setting.kind, settingColumnName(setting.legacyKey)),
  ]),
);

export const orgConfigs = pgTable('org_configs', {
  orgId: text('org_id').primaryKey(),
  version: integer('version').notNull(),
  createdAt: instant('created_at').notNull(),
  updatedAt: instant('updated_at').notNull(),
  ...settingColumns,
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgConfigs.orgId),
    role: text('role', { enum: ['admin', 'adviser', 'widget'] }).notNull(),
    /** The top-level setting groups the key may change; null: all. */
    groups: json('groups').$type<string[]>(),
    /** Checked at every use; null: never. */
    expiresAt: instant('expires_at'),
    /** SHA-256 of the key; the key itself is never stored. */
    keyHash: text('key_hash').notNull().unique(),
    createdAt: instant('created_at').notNull(),
    revokedAt: instant('revoked_at'),
    /** Written in batches (auth/key-use.ts), never once per request. */
    lastUsedAt: instant('last_used_at'),
  },
  (table) => [index('api_keys_org_id_idx').on(table.orgId)],
);

/**
 * The revision log: one row per committed change. seq is commit order because every insert into
 * this table holds one transaction-scoped advisory lock until its commit (see the store).
 */
export const revisions = pgTable(
  'revisions',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgConfigs.orgId),
    version: integer('version').notNull(),
    changedAt: instant('changed_at').notNull(),
    actorKeyId: text('actor_key_id'),
    actorRole: text('actor_role', { enum: ['admin', 'adviser', 'operator'] }).notNull(),
    door: text('door', { enum: ['graphql', 'rest', 'cli', 'seed'] }).notNull(),
    revertedToVersion: integer('reverted_to_version'),
    changes: json('changes').$type<SettingChange[]>().notNull(),
    /** The whole settings as of this version, so any version can be read or restored. */
    settings: json('settings').$type<OrgConfigSettings>().notNull(),
  },
  (table) => [uniqueIndex('revisions_org_id_version_idx').on(table.orgId, table.version)],
);

/**
 * Single-use tickets that let a secret key open an EventSource stream without putting the key in a
 * URL: only their SHA-256 is stored, so every replica can redeem one, once.
 */
export const streamTickets = pgTable(
  'stream_tickets',
  {
    ticketHash: text('ticket_hash').primaryKey(),
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id),
    orgId: text('org_id').notNull(),
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
  },
  (table) => [index('stream_tickets_expires_at_idx').on(table.expiresAt)],
);

/** Webhook endpoints of organisations, each with its cursor in the revision log and its lease (webhooks/). */
export const webhooks = pgTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgConfigs.orgId),
    url: text('url').notNull(),
    /** Setting or group paths; empty: every change. */
    fields: json('fields').$type<string[]>().notNull(),
    secret: text('secret').notNull(),
    /** Still signs (beside the new secret) until previous_secret_until: a rotation's overlap. */
    previousSecret: text('previous_secret'),
    previousSecretUntil: instant('previous_secret_until'),
    enabled: boolean('enabled').notNull(),
    disabledReason: text('disabled_reason'),
    disabledAt: instant('disabled_at'),
    /** The organisation's version up to which every change was delivered (or filtered out). */
    cursorVersion: integer('cursor_version').notNull(),
    /** Failed attempts at the change after the cursor. */
    failures: integer('failures').notNull(),
    nextAttemptAt: instant('next_attempt_at').notNull(),
    leaseOwner: text('lease_owner'),
    leaseUntil: instant('lease_until'),
    createdAt: instant('created_at').notNull(),
    updatedAt: instant('updated_at').notNull(),
  },
  (table) => [
    index('webhooks_org_id_idx').on(table.orgId),
    index('webhooks_next_attempt_at_idx').on(table.nextAttemptAt),
  ],
);

/** One row per delivery attempt, kept for a bounded time. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id').notNull(),
    orgId: text('org_id').notNull(),
    version: integer('version').notNull(),
    messageId: text('message_id').notNull(),
    attempt: integer('attempt').notNull(),
    manual: boolean('manual').notNull(),
    attemptedAt: instant('attempted_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    status: integer('status'),
    error: text('error'),
    excerpt: text('excerpt'),
    delivered: boolean('delivered').notNull(),
  },
  (table) => [
    index('webhook_deliveries_webhook_id_idx').on(table.webhookId, table.id),
    index('webhook_deliveries_attempted_at_idx').on(table.attemptedAt),
  ],
);
