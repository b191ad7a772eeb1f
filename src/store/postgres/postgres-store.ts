// The shared store for many replicas: PostgreSQL through node-postgres and drizzle, migrated when opened.

import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { OrgExistsError, StorageUnavailableError } from '../../config/errors.ts';
import type { OrgConfig, OrgConfigSettings } from '../../config/model.ts';
import type { SettingChange } from '../../config/patch.ts';
import { configAt, type Revision, type RevisionMeta } from '../../config/revision.ts';
import type {
  ApiKeyRecord,
  ConfigStore,
  NewApiKey,
  OrgSummary,
  StoredApiKey,
  StreamTicketRecord,
  UpdateDecision,
} from '../config-store.ts';
import { isMigrated, migrationsFolder } from '../migrations.ts';
import {
  creationChanges,
  type OrgConfigRow,
  revisionRow,
  rowToApiKey,
  rowToConfig,
  rowToRevision,
  settingsToColumns,
} from '../rows.ts';
import { isPostgresStorageFailure } from '../storage-failures.ts';
import { apiKeys, orgConfigs, revisions, streamTickets } from './schema.ts';
import { PostgresWebhookStore } from './webhook-store.ts';

/** Advisory lock namespaces (the first key of pg_advisory_lock's two), the second key being the schema's hash. */
const lockNamespace = { migrate: 0x6f7267, revisionLog: 0x6f7268 } as const;

/** What a notification on the store's channel says: a revision was committed, or API keys changed. */
export const keysChangedPayload = 'keys';

/** The columns a revision is inserted with (seq comes from the sequence), and each one's type. */
const revisionColumnTypes = {
  orgId: 'text',
  version: 'integer',
  changedAt: 'timestamptz',
  actorKeyId: 'text',
  actorRole: 'text',
  door: 'text',
  revertedToVersion: 'integer',
  changes: 'json',
  settings: 'json',
} as const;
const revisionColumns = Object.keys(revisionColumnTypes) as (keyof typeof revisionColumnTypes)[];

/**
 * One value of a revision row as a typed query parameter. JSON goes as text (node-postgres would
 * send an array as a PostgreSQL array), a Date as its ISO string.
 */
function revisionValue(row: ReturnType<typeof revisionRow>, column: keyof typeof revisionColumnTypes): SQL {
  const value = row[column];
  const type = sql.raw(revisionColumnTypes[column]);
  if (revisionColumnTypes[column] === 'json') return sql`${JSON.stringify(value)}::${type}`;
  return sql`${value instanceof Date ? value.toISOString() : value}::${type}`;
}

export class TargetNotEmptyError extends Error {
  constructor() {
    super(
      'the PostgreSQL database already holds organisations, keys or revisions; a copy goes only into an empty one',
    );
  }
}

type Transaction = Parameters<Parameters<NodePgDatabase['transaction']>[0]>[0];

export class PostgresConfigStore implements ConfigStore {
  private readonly db: NodePgDatabase;
  /** The last write failed for want of the database (see naming). */
  private writeFailed = false;
  /** Webhook endpoints and their delivery log, on the same pool. */
  readonly webhooks: PostgresWebhookStore;

  constructor(
    private readonly pool: pg.Pool,
    /** The schema holding the tables (the connection's search_path; public unless set). */
    readonly schema: string,
    /** The NOTIFY channel of this database and schema: commit signals of the replicas sharing it. */
    readonly channel: string,
  ) {
    this.db = drizzle({ client: pool });
    this.webhooks = new PostgresWebhookStore(pool);
  }

  async createOrg(orgId: string, settings: OrgConfigSettings, meta: RevisionMeta): Promise<OrgConfig> {
    return this.naming(true, async () => {
      const now = new Date();
      const row = { orgId, version: 1, createdAt: now, updatedAt: now, ...settingsToColumns(settings) };
      return this.db.transaction(async (tx) => {
        const inserted = await tx
          .insert(orgConfigs)
          .values(row as typeof orgConfigs.$inferInsert)
          .onConflictDoNothing()
          .returning();
        if (inserted.length === 0) throw new OrgExistsError(orgId);
        const config = rowToConfig(inserted[0] as OrgConfigRow);
        await this.appendRevision(tx, config, creationChanges(settings), meta);
        return config;
      });
    });
  }

  async listOrgs(): Promise<OrgSummary[]> {
    return this.naming(false, async () => {
      return this.db
        .select({
          orgId: orgConfigs.orgId,
          name: sql<string>`${sql.identifier('name')}`,
          version: orgConfigs.version,
          updatedAt: orgConfigs.updatedAt,
        })
        .from(orgConfigs)
        .orderBy(asc(orgConfigs.orgId));
    });
  }

  async getConfig(orgId: string): Promise<OrgConfig | undefined> {
    return this.naming(false, async () => {
      const [row] = await this.db.select().from(orgConfigs).where(eq(orgConfigs.orgId, orgId));
      return row ? rowToConfig(row as OrgConfigRow) : undefined;
    });
  }

  /**
   * READ COMMITTED with the org's row locked (FOR UPDATE): writers of one org, whichever replica
   * they run in, take turns, and each decides on the version the previous one wrote.
   */
  async updateConfig(
    orgId: string,
    decide: UpdateDecision,
    meta: RevisionMeta,
  ): Promise<OrgConfig | undefined> {
    return this.naming(true, async () => {
      return this.db.transaction(async (tx) => {
        const [row] = await tx.select().from(orgConfigs).where(eq(orgConfigs.orgId, orgId)).for('update');
        if (!row) return undefined;
        const current = rowToConfig(row as OrgConfigRow);
        const next = decide(current);
        if (next === null) return current;
        const config: OrgConfig = {
          orgId,
          version: current.version + 1,
          updatedAt: new Date(),
          settings: next.settings,
        };
        await tx
          .update(orgConfigs)
          .set({
            ...settingsToColumns(config.settings),
            version: config.version,
            updatedAt: config.updatedAt,
          })
          .where(eq(orgConfigs.orgId, orgId));
        await this.appendRevision(tx, config, next.changes, meta);
        // Answered from what this transaction wrote: a read after commit could see another replica's newer write.
        return config;
      });
    });
  }

  /**
   * Appends to the revision log and signals the replicas, in one statement. A sequence hands out
   * numbers in the order of inserts, not of commits; the advisory lock, taken before the row gets
   * its number and held until commit, makes the two the same, so a tailer reading "seq above the
   * last one seen" cannot skip a revision that commits late. The NOTIFY is delivered at commit and
   * carries only the position: a payload of 8000 bytes or more would fail the write.
   */
  private async appendRevision(
    tx: Transaction,
    config: OrgConfig,
    changes: readonly SettingChange[],
    meta: RevisionMeta,
  ): Promise<void> {
    const row = revisionRow(config, changes, meta);
    // The insert takes its row from the lock's, so the lock is held before nextval() runs.
    await tx.execute(sql`
      with locked as (select pg_advisory_xact_lock(${lockNamespace.revisionLog}, hashtext(current_schema()))),
      inserted as (
        insert into ${revisions} (${sql.join(
          revisionColumns.map((column) => sql.identifier(revisions[column].name)),
          sql`, `,
        )})
        select ${sql.join(
          revisionColumns.map((column) => revisionValue(row, column)),
          sql`, `,
        )} from locked
        returning ${revisions.seq}
      )
      select pg_notify(${this.channel}, seq::text) from inserted`);
  }

  async listRevisions(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number },
  ): Promise<Revision[]> {
    return this.naming(false, async () => {
      const before = options.beforeVersion == null ? undefined : lt(revisions.version, options.beforeVersion);
      const rows = await this.db
        .select()
        .from(revisions)
        .where(and(eq(revisions.orgId, orgId), before))
        .orderBy(desc(revisions.version))
        .limit(options.limit);
      return rows.map(rowToRevision);
    });
  }

  async revisionSizes(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number; untilBytes?: number },
  ): Promise<{ version: number; bytes: number }[]> {
    return this.naming(false, async () => {
      const before = options.beforeVersion == null ? undefined : lt(revisions.version, options.beforeVersion);
      const rows = await this.db
        .select({
          version: revisions.version,
          bytes: sql<string>`octet_length(${revisions.changes}::text) + octet_length(${revisions.settings}::text)`,
        })
        .from(revisions)
        .where(and(eq(revisions.orgId, orgId), before))
        .orderBy(desc(revisions.version))
        .limit(options.limit);
      return rows.map((row) => ({ version: row.version, bytes: Number(row.bytes) }));
    });
  }

  async getRevision(orgId: string, version: number): Promise<Revision | undefined> {
    return this.naming(false, async () => {
      const [row] = await this.db
        .select()
        .from(revisions)
        .where(and(eq(revisions.orgId, orgId), eq(revisions.version, version)));
      return row ? rowToRevision(row) : undefined;
    });
  }

  async revisionsSince(orgId: string, version: number, limit: number): Promise<Revision[]> {
    return this.naming(false, async () => {
      const rows = await this.db
        .select()
        .from(revisions)
        .where(and(eq(revisions.orgId, orgId), gt(revisions.version, version)))
        .orderBy(asc(revisions.version))
        .limit(limit);
      return rows.map(rowToRevision);
    });
  }

  async revisionsAfter(seq: number, limit: number): Promise<Revision[]> {
    const rows = await this.db
      .select()
      .from(revisions)
      .where(gt(revisions.seq, seq))
      .orderBy(asc(revisions.seq))
      .limit(limit);
    return rows.map(rowToRevision);
  }

  async latestRevisionSeq(): Promise<number> {
    // node-postgres answers bigint as text.
    const [row] = await this.db.select({ seq: sql<string | null>`max(${revisions.seq})` }).from(revisions);
    return Number(row?.seq ?? 0);
  }

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return this.naming(true, async () => {
      const [row] = await this.db
        .insert(apiKeys)
        .values({ ...key, groups: key.groups ? [...key.groups] : null, createdAt: new Date() })
        .returning();
      return rowToApiKey(row!);
    });
  }

  async findApiKeyById(id: string): Promise<StoredApiKey | undefined> {
    const [row] = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    return row ? { ...rowToApiKey(row), keyHash: row.keyHash } : undefined;
  }

  /** Brings the expiry forward and, in the same transaction, tells the replicas to forget cached keys. */
  async expireApiKey(id: string, expiresAt: Date): Promise<boolean> {
    return this.naming(true, async () => {
      return this.db.transaction(async (tx) => {
        const changed = await tx
          .update(apiKeys)
          .set({ expiresAt: sql`least(coalesce(${apiKeys.expiresAt}, ${expiresAt}), ${expiresAt})` })
          .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
          .returning({ id: apiKeys.id });
        if (changed.length > 0)
          await tx.execute(sql`select pg_notify(${this.channel}, ${keysChangedPayload})`);
        return changed.length > 0;
      });
    });
  }

  async recordKeyUse(uses: ReadonlyMap<string, Date>): Promise<void> {
    return this.naming(true, async () => {
      if (uses.size === 0) return;
      // One statement for the batch: (id, time) pairs as two arrays.
      const ids = [...uses.keys()];
      const times = [...uses.values()].map((at) => at.toISOString());
      await this.pool.query(
        `UPDATE ${pg.escapeIdentifier(this.schema)}.api_keys AS k SET last_used_at = u.at
           FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
          WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
        [ids, times],
      );
    });
  }

  async createStreamTicket(ticket: Omit<StreamTicketRecord, 'usedAt'>): Promise<void> {
    return this.naming(true, async () => {
      await this.db.insert(streamTickets).values(ticket);
    });
  }

  async useStreamTicket(ticketHash: string, at: Date): Promise<StreamTicketRecord | undefined> {
    return this.naming(true, async () => {
      return this.db.transaction(async (tx) => {
        // The row lock makes two replicas redeeming the same ticket take turns: the second sees it used.
        const [found] = await tx
          .select()
          .from(streamTickets)
          .where(eq(streamTickets.ticketHash, ticketHash))
          .for('update');
        if (found && found.usedAt === null)
          await tx.update(streamTickets).set({ usedAt: at }).where(eq(streamTickets.ticketHash, ticketHash));
        await tx.delete(streamTickets).where(lt(streamTickets.expiresAt, new Date(at.getTime() - 60_000)));
        return found;
      });
    });
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.naming(false, async () => {
      const [row] = await this.db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
      return row ? rowToApiKey(row) : undefined;
    });
  }

  async listApiKeys(orgId: string): Promise<ApiKeyRecord[]> {
    return this.naming(false, async () => {
      const rows = await this.db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.orgId, orgId))
        .orderBy(asc(apiKeys.createdAt));
      return rows.map(rowToApiKey);
    });
  }

  /** Revokes and, in the same transaction, tells the replicas to forget the keys they cached. */
  async revokeApiKey(id: string): Promise<boolean> {
    return this.naming(true, async () => {
      return this.db.transaction(async (tx) => {
        const revoked = await tx
          .update(apiKeys)
          .set({ revokedAt: new Date() })
          .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
          .returning({ id: apiKeys.id });
        if (revoked.length > 0)
          await tx.execute(sql`select pg_notify(${this.channel}, ${keysChangedPayload})`);
        return revoked.length > 0;
      });
    });
  }

  /**
   * Runs a store operation: a lost or refused connection, a read-only server or a full disk becomes
   * StorageUnavailableError; a write that fails so makes the store not ready until one succeeds or
   * the server says it can write (isReady).
   */
  private async naming<T>(write: boolean, operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      if (write) this.writeFailed = false;
      return result;
    } catch (error) {
      if (!isPostgresStorageFailure(error)) throw error;
      if (write) this.writeFailed = true;
      throw new StorageUnavailableError(error);
    }
  }

  async isReady(): Promise<boolean> {
    try {
      const result = await this.pool.query<{ count: string }>(
        `SELECT count(*) AS count FROM ${pg.escapeIdentifier(this.schema)}.__drizzle_migrations`,
      );
      if (!isMigrated(Number(result.rows[0]!.count), 'postgres')) return false;
      if (!this.writeFailed) return true;
      // After a failed write: ready again once the server takes writes (not a standby, not read-only).
      const writable = await this.pool.query<{ writable: boolean }>(
        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
      );
      if (writable.rows[0]!.writable) this.writeFailed = false;
      return !this.writeFailed;
    } catch {
      return false;
    }
  }

  /**
   * Writes a whole database's content in one transaction: organisations (as of their newest
   * revision), keys with their hashes, and every revision in its original order. Only into a
   * database that holds nothing yet (TargetNotEmptyError).
   */
  async importAll(content: {
    orgs: readonly { config: OrgConfig; createdAt: Date }[];
    keys: readonly StoredApiKey[];
    revisions: AsyncIterable<Revision[]>;
  }): Promise<{ revisions: number }> {
    return this.db.transaction(async (tx) => {
      await tx.execute(
        sql`select pg_advisory_xact_lock(${lockNamespace.revisionLog}, hashtext(current_schema()))`,
      );
      // Under the lock, so two copies cannot both find the database empty.
      const { rows } = await tx.execute<{ filled: boolean }>(
        sql`select exists (select 1 from org_configs) or exists (select 1 from api_keys) or exists (select 1 from revisions) as filled`,
      );
      if (rows[0]!.filled) throw new TargetNotEmptyError();
      for (const { config, createdAt } of content.orgs) {
        const row = {
          orgId: config.orgId,
          version: config.version,
          createdAt,
          updatedAt: config.updatedAt,
          ...settingsToColumns(config.settings),
        };
        await tx.insert(orgConfigs).values(row as typeof orgConfigs.$inferInsert);
      }
      for (const key of content.keys) {
        await tx.insert(apiKeys).values({
          id: key.id,
          orgId: key.orgId,
          role: key.role,
          keyHash: key.keyHash,
          groups: key.groups ? [...key.groups] : null,
          expiresAt: key.expiresAt,
          createdAt: key.createdAt,
          revokedAt: key.revokedAt,
          lastUsedAt: key.lastUsedAt,
        });
      }
      let count = 0;
      for await (const page of content.revisions) {
        if (page.length === 0) continue;
        // Fresh positions in the same order: the sequence stays the one source of seq.
        await tx
          .insert(revisions)
          .values(page.map((revision) => revisionRow(configAt(revision), revision.changes, revision)));
        count += page.length;
      }
      if (count > 0) {
        const [last] = await tx.select({ seq: sql<string>`max(${revisions.seq})` }).from(revisions);
        await tx.execute(sql`select pg_notify(${this.channel}, ${String(last!.seq)})`);
      }
      return { revisions: count };
    });
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/**
 * The NOTIFY channel (and Redis channel) of one database and schema. PostgreSQL refuses channel
 * names over 63 bytes, and a refused pg_notify would fail every write: a fixed-length hash.
 */
export function channelOf(database: string, schema: string): string {
  return `org_config_${createHash('sha256').update(`${database}\0${schema}`).digest('hex').slice(0, 24)}`;
}

/** The connection settings of a DATABASE_URL, shared by the pool and the listening client. */
export function postgresConnection(databaseUrl: string): pg.ClientConfig {
  return {
    connectionString: databaseUrl,
    // A link that dies silently is noticed in seconds (TCP keepalive), not hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // A replica whose database is away says so (/ready) rather than waiting for it.
    connectionTimeoutMillis: 3_000,
    // A query whose answer never comes fails, so the change feed retries and /ready answers.
    query_timeout: 30_000,
    application_name: 'org-config-gateway',
  };
}

/**
 * Connects, migrates and answers the store. When several replicas start at once, one migrates
 * while the others wait on an advisory lock, held on a client of its own (a pooled query could
 * unlock on another connection) and without the query timeout, since a migration or the wait for
 * another replica's may be long.
 */
export async function openPostgresStore(
  databaseUrl: string,
  options: { poolSize?: number; onError?: (error: unknown) => void } = {},
): Promise<PostgresConfigStore> {
  const { schema, channel } = await migrateDatabase(databaseUrl);
  const pool = new pg.Pool({ ...postgresConnection(databaseUrl), max: options.poolSize ?? 10 });
  // An idle connection ended by the server must not take the process down; the next query reconnects.
  pool.on('error', (error) => (options.onError ?? ((e) => console.error('database:', e)))(error));
  // So must a connection lost while checked out between two queries of a transaction (the webhook
  // worker's lease claims, say): pg emits that on the client, where the pool listens no more. The
  // transaction's next query fails and the connection is not reused.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new PostgresConfigStore(pool, schema, channel);
}

async function migrateDatabase(databaseUrl: string): Promise<{ schema: string; channel: string }> {
  const client = new pg.Client({ ...postgresConnection(databaseUrl), query_timeout: undefined });
  client.on('error', () => undefined); // a failure surfaces as the rejection of the query in flight
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string | null; database: string }>(
      'SELECT current_schema() AS schema, current_database() AS database',
    );
    const schema = rows[0]!.schema;
    if (!schema) throw new Error('the search_path of DATABASE_URL names no existing schema');
    await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [lockNamespace.migrate]);
    try {
      await migrate(drizzle({ client }), {
        migrationsFolder: migrationsFolder('postgres'),
        migrationsSchema: schema,
      });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [
        lockNamespace.migrate,
      ]);
    }
    return { schema, channel: channelOf(rows[0]!.database, schema) };
  } finally {
    await client.end();
  }
}
