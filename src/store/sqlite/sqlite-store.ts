// The embedded store: SQLite through better-sqlite3 and drizzle, WAL mode, migrated when opened.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { OrgExistsError, StorageUnavailableError } from '../../config/errors.ts';
import type { OrgConfig, OrgConfigSettings } from '../../config/model.ts';
import type { Revision, RevisionMeta } from '../../config/revision.ts';
import { settingsJson } from '../../config/settings-json.ts';
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
import {
  checkSqliteHeader,
  DatabaseFileError,
  isSqliteCorruption,
  isSqliteStorageFailure,
} from '../storage-failures.ts';
import { ChangedSettingsUpdate } from './changed-settings-update.ts';
import { directStatement } from './direct-statement.ts';
import { OwnWrites } from './own-writes.ts';
import { apiKeys, orgConfigs, revisions, streamTickets } from './schema.ts';
import { SqliteWebhookStore } from './webhook-store.ts';

function prepareStatements(db: BetterSQLite3Database, sqlite: Database.Database) {
  const revisionColumns = [
    'orgId',
    'version',
    'changedAt',
    'actorKeyId',
    'actorRole',
    'door',
    'revertedToVersion',
    'changes',
    'settings',
  ];
  return {
    selectConfig: db
      .select()
      .from(orgConfigs)
      .where(eq(orgConfigs.orgId, sql.placeholder('orgId')))
      .prepare(),
    insertRevision: directStatement(
      sqlite,
      db
        .insert(revisions)
        .values(
          Object.fromEntries(
            revisionColumns.map((column) => [column, sql.placeholder(column)]),
          ) as unknown as typeof revisions.$inferInsert,
        ),
      // The column's JSON text, without serialising again the groups an earlier version shares.
      { settings: (settings) => settingsJson(settings as OrgConfigSettings) },
    ),
    // Plain better-sqlite3: one number, nothing for drizzle to map.
    versionOf: sqlite.prepare<[string], number>('SELECT version FROM org_configs WHERE org_id = ?').pluck(),
    revisionsAfter: db
      .select()
      .from(revisions)
      .where(gt(revisions.seq, sql.placeholder('seq')))
      .orderBy(asc(revisions.seq))
      .limit(sql.placeholder('limit'))
      .prepare(),
    // length() of a BLOB counts bytes without decoding: the stored UTF-8 size.
    revisionSizes: sqlite.prepare<
      { orgId: string; before: number; limit: number },
      { version: number; bytes: number }
    >(
      `SELECT version, length(CAST(changes AS BLOB)) + length(CAST(settings AS BLOB)) AS bytes
       FROM revisions WHERE org_id = @orgId AND version < @before ORDER BY version DESC LIMIT @limit`,
    ),
    liveKeyByHash: db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, sql.placeholder('keyHash')), isNull(apiKeys.revokedAt)))
      .prepare(),
  };
}

/** A committed update: the new config and, unless nothing changed, the revision appended. */
interface Committed {
  config: OrgConfig;
  revision?: Revision;
}

export class SqliteConfigStore implements ConfigStore {
  // The connection and what is built on it: replaced together when the connection is reopened.
  private sqlite!: Database.Database;
  private db!: BetterSQLite3Database;
  /** The statements of the read and write paths, built and prepared once rather than per call. */
  private statements!: ReturnType<typeof prepareStatements>;
  private updateChangedSettings!: ChangedSettingsUpdate;
  private writeConfig!: Database.Transaction<
    (orgId: string, decide: UpdateDecision, meta: RevisionMeta) => Committed | undefined
  >;
  /** What this connection committed, not read back from the database. */
  private readonly ownWrites = new OwnWrites();
  /** Opens the same file again: a connection that found the file read-only stays so until reopened. */
  private readonly reopen: (() => Database.Database) | null;
  /** The failure of the last write that could not write, until a write (or a probe) succeeds again. */
  private writeFailure: unknown = null;
  /** When recovery was last tried (monotonic ms), so a failing disk is probed at most every recoveryIntervalMs. */
  private lastRecoveryAt = Number.NEGATIVE_INFINITY;
  /** Webhook endpoints and their delivery log, on the same connection. */
  readonly webhooks: SqliteWebhookStore;

  constructor(sqlite: Database.Database, options: { reopen?: () => Database.Database } = {}) {
    this.connect(sqlite);
    this.reopen = options.reopen ?? null;
    // Through the current connection, so a reopened connection serves webhooks too.
    this.webhooks = new SqliteWebhookStore(() => this.db);
  }

  private connect(sqlite: Database.Database): void {
    this.sqlite = sqlite;
    this.db = drizzle(sqlite);
    this.statements = prepareStatements(this.db, sqlite);
    this.updateChangedSettings = new ChangedSettingsUpdate(sqlite, this.db);
    this.writeConfig = sqlite.transaction((orgId: string, decide: UpdateDecision, meta: RevisionMeta) =>
      this.writeConfigTransaction(orgId, decide, meta),
    );
  }

  /**
   * Runs a write. A failure of the database to write (full disk, read-only or unopenable files, I/O
   * error, lock held past the busy timeout) becomes StorageUnavailableError and makes the store not
   * ready; while it is, each write (and /ready) first tries to recover, at most every second.
   */
  private writing<T>(write: () => T): T {
    if (this.writeFailure !== null) this.recover();
    try {
      const result = write();
      this.writeFailure = null;
      return result;
    } catch (error) {
      if (!isSqliteStorageFailure(error)) throw error;
      this.writeFailure = error;
      throw new StorageUnavailableError(error);
    }
  }

  /**
   * Whether the database can write again: a connection that met read-only (or unopenable) files is
   * reopened, since SQLite keeps it read-only even once the files are writable; then a probe write.
   */
  private recover(): boolean {
    const now = performance.now();
    if (now - this.lastRecoveryAt < recoveryIntervalMs) return false;
    this.lastRecoveryAt = now;
    try {
      const code = String((this.writeFailure as { code?: unknown } | null)?.code ?? '');
      if (this.reopen && /^SQLITE_(READONLY|CANTOPEN)/.test(code)) {
        const fresh = this.reopen();
        this.sqlite.close();
        this.connect(fresh);
      }
      probeWrite(this.sqlite);
      this.writeFailure = null;
      return true;
    } catch (error) {
      if (isSqliteStorageFailure(error)) this.writeFailure = error;
      return false;
    }
  }

  /** Checks at start whether the database can write; if not, the store starts not ready and recovers by itself. */
  checkWritable(): void {
    try {
      probeWrite(this.sqlite);
    } catch (error) {
      if (!isSqliteStorageFailure(error)) throw error;
      this.writeFailure = error;
    }
  }

  async createOrg(orgId: string, settings: OrgConfigSettings, meta: RevisionMeta): Promise<OrgConfig> {
    const now = new Date();
    const row = { orgId, version: 1, createdAt: now, updatedAt: now, ...settingsToColumns(settings) };
    const created = this.writing(() =>
      this.db.transaction((tx) => {
        const inserted = tx
          .insert(orgConfigs)
          .values(row as typeof orgConfigs.$inferInsert)
          .onConflictDoNothing()
          .returning()
          .all();
        if (inserted.length === 0) throw new OrgExistsError(orgId);
        const config = rowToConfig(inserted[0] as OrgConfigRow);
        tx.insert(revisions)
          .values(revisionRow(config, creationChanges(settings), meta))
          .run();
        return config;
      }),
    );
    this.ownWrites.appendedUnremembered();
    return created;
  }

  async listOrgs(): Promise<OrgSummary[]> {
    const rows = this.db
      .select({
        orgId: orgConfigs.orgId,
        name: sql<string>`${sql.identifier('name')}`,
        version: orgConfigs.version,
        updatedAt: orgConfigs.updatedAt,
      })
      .from(orgConfigs)
      .orderBy(asc(orgConfigs.orgId))
      .all();
    return rows;
  }

  async getConfig(orgId: string): Promise<OrgConfig | undefined> {
    const row = this.statements.selectConfig.get({ orgId });
    return row ? rowToConfig(row as OrgConfigRow) : undefined;
  }

  async updateConfig(
    orgId: string,
    decide: UpdateDecision,
    meta: RevisionMeta,
  ): Promise<OrgConfig | undefined> {
    // IMMEDIATE takes the write lock before the read, so writers in other processes cannot
    // interleave between our read and our write.
    const committed = this.writing(() => this.writeConfig.immediate(orgId, decide, meta));
    // Remembered once committed: the transaction could still have rolled back until now.
    if (committed?.revision) this.ownWrites.committed(committed.config, committed.revision);
    return committed?.config;
  }

  /** Read, decide, write, append the revision: one transaction (built once; better-sqlite3 runs it synchronously). */
  private writeConfigTransaction(
    orgId: string,
    decide: UpdateDecision,
    meta: RevisionMeta,
  ): Committed | undefined {
    const { selectConfig, versionOf, insertRevision } = this.statements;
    // The version alone tells whether our last write is still the current config (the usual case).
    const version = versionOf.get(orgId);
    if (version === undefined) return undefined;
    let current = this.ownWrites.configAtVersion(orgId, version);
    if (!current) {
      const row = selectConfig.get({ orgId });
      if (!row) return undefined;
      current = rowToConfig(row as OrgConfigRow);
    }
    const next = decide(current);
    if (next === null) return { config: current };
    const config: OrgConfig = {
      orgId,
      version: current.version + 1,
      updatedAt: new Date(),
      settings: next.settings,
    };
    this.updateChangedSettings.run(orgId, config.version, config.updatedAt, next.changes);
    const row = revisionRow(config, next.changes, meta);
    const { lastInsertRowid } = insertRevision(row as unknown as Record<string, unknown>);
    return { config, revision: rowToRevision({ ...row, seq: Number(lastInsertRowid) }) };
  }

  async listRevisions(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number },
  ): Promise<Revision[]> {
    const before = options.beforeVersion == null ? undefined : lt(revisions.version, options.beforeVersion);
    const rows = this.db
      .select()
      .from(revisions)
      .where(and(eq(revisions.orgId, orgId), before))
      .orderBy(desc(revisions.version))
      .limit(options.limit)
      .all();
    return rows.map(rowToRevision);
  }

  async revisionSizes(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number; untilBytes?: number },
  ): Promise<{ version: number; bytes: number }[]> {
    // Row by row, stopping once past untilBytes: sizing a row reads it, and better-sqlite3 blocks.
    const rows = this.statements.revisionSizes.iterate({
      orgId,
      before: options.beforeVersion ?? Number.MAX_SAFE_INTEGER,
      limit: options.limit,
    });
    const sizes: { version: number; bytes: number }[] = [];
    let total = 0;
    for (const row of rows) {
      sizes.push(row);
      total += row.bytes;
      if (options.untilBytes !== undefined && total > options.untilBytes) break;
    }
    return sizes;
  }

  async getRevision(orgId: string, version: number): Promise<Revision | undefined> {
    const row = this.db
      .select()
      .from(revisions)
      .where(and(eq(revisions.orgId, orgId), eq(revisions.version, version)))
      .get();
    return row ? rowToRevision(row) : undefined;
  }

  async revisionsSince(orgId: string, version: number, limit: number): Promise<Revision[]> {
    const rows = this.db
      .select()
      .from(revisions)
      .where(and(eq(revisions.orgId, orgId), gt(revisions.version, version)))
      .orderBy(asc(revisions.version))
      .limit(limit)
      .all();
    return rows.map(rowToRevision);
  }

  async revisionsAfter(seq: number, limit: number): Promise<Revision[]> {
    return this.statements.revisionsAfter.all({ seq, limit }).map(rowToRevision);
  }

  ownRevisionsAfter(seq: number, limit: number): Revision[] | undefined {
    return this.ownWrites.revisionsAfter(seq, limit);
  }

  async latestRevisionSeq(): Promise<number> {
    const row = this.db
      .select({ seq: sql<number | null>`max(${revisions.seq})` })
      .from(revisions)
      .get();
    return row?.seq ?? 0;
  }

  /** Changes when another connection (another process) commits to the database file. */
  dataVersion(): number {
    return this.sqlite.pragma('data_version', { simple: true }) as number;
  }

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    const row = this.writing(() =>
      this.db
        .insert(apiKeys)
        .values({ ...key, groups: key.groups ? [...key.groups] : null, createdAt: new Date() })
        .returning()
        .get(),
    );
    return rowToApiKey(row);
  }

  async findApiKeyById(id: string): Promise<StoredApiKey | undefined> {
    const row = this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .get();
    return row ? { ...rowToApiKey(row), keyHash: row.keyHash } : undefined;
  }

  async expireApiKey(id: string, expiresAt: Date): Promise<boolean> {
    const result = this.writing(() =>
      this.db
        .update(apiKeys)
        .set({
          expiresAt: sql`min(coalesce(${apiKeys.expiresAt}, ${expiresAt.getTime()}), ${expiresAt.getTime()})`,
        })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .run(),
    );
    return result.changes > 0;
  }

  async recordKeyUse(uses: ReadonlyMap<string, Date>): Promise<void> {
    this.writing(() =>
      this.sqlite.transaction(() => {
        for (const [id, at] of uses)
          this.db
            .update(apiKeys)
            .set({ lastUsedAt: at })
            .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, at))))
            .run();
      })(),
    );
  }

  async createStreamTicket(ticket: Omit<StreamTicketRecord, 'usedAt'>): Promise<void> {
    this.writing(() => this.db.insert(streamTickets).values(ticket).run());
  }

  async useStreamTicket(ticketHash: string, at: Date): Promise<StreamTicketRecord | undefined> {
    // One writer: the read and the mark are one transaction, so a ticket is used once.
    return this.writing(
      this.sqlite.transaction(() => {
        const found = this.db
          .select()
          .from(streamTickets)
          .where(eq(streamTickets.ticketHash, ticketHash))
          .get();
        if (found && found.usedAt === null)
          this.db
            .update(streamTickets)
            .set({ usedAt: at })
            .where(eq(streamTickets.ticketHash, ticketHash))
            .run();
        // Tickets ended more than a minute ago answer "unknown" rather than "expired": nothing keeps them.
        this.db
          .delete(streamTickets)
          .where(lt(streamTickets.expiresAt, new Date(at.getTime() - 60_000)))
          .run();
        return found;
      }),
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.liveKeyByHash.get({ keyHash });
    return row ? rowToApiKey(row) : undefined;
  }

  async listApiKeys(orgId: string): Promise<ApiKeyRecord[]> {
    const rows = this.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.orgId, orgId))
      .orderBy(asc(apiKeys.createdAt))
      .all();
    return rows.map(rowToApiKey);
  }

  /** Runs `read` in one read transaction: everything it reads is one snapshot, whatever others commit meanwhile. */
  async readConsistently<T>(read: () => Promise<T>): Promise<T> {
    this.sqlite.exec('BEGIN');
    try {
      return await read();
    } finally {
      this.sqlite.exec('COMMIT');
    }
  }

  /** Every organisation's config with its creation time: what a copy into PostgreSQL takes along. */
  async allOrgs(): Promise<{ config: OrgConfig; createdAt: Date }[]> {
    const rows = this.db.select().from(orgConfigs).orderBy(asc(orgConfigs.orgId)).all();
    return rows.map((row) => ({ config: rowToConfig(row as OrgConfigRow), createdAt: row.createdAt }));
  }

  /** Every key, revoked ones included, with its hash: what a copy into PostgreSQL takes along. */
  async allApiKeys(): Promise<StoredApiKey[]> {
    const rows = this.db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt)).all();
    return rows.map((row) => ({ ...rowToApiKey(row), keyHash: row.keyHash }));
  }

  async revokeApiKey(id: string): Promise<boolean> {
    const result = this.writing(() =>
      this.db
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .run(),
    );
    return result.changes > 0;
  }

  async isReady(): Promise<boolean> {
    try {
      const applied = this.sqlite.prepare('SELECT count(*) AS count FROM __drizzle_migrations').get() as {
        count: number;
      };
      if (!isMigrated(applied.count, 'sqlite')) return false;
    } catch {
      return false;
    }
    // Not ready while the database cannot write; ready again once it can, without a restart.
    return this.writeFailure === null || this.recover();
  }

  async close(): Promise<void> {
    this.sqlite.close();
  }
}

/** Retries of a database that could not write, at most this often (ms). */
const recoveryIntervalMs = 1_000;

/** The most a probe writes: a larger free list than this, and the probe may not reach a new page. */
const maxProbeBytes = 4 * 1024 * 1024;

/**
 * A write that commits nothing but writes pages like a real write (new pages beyond the free list,
 * the WAL, the disk): it fails as a write would on a full disk, read-only files or an I/O error.
 * Run only at start and while writes fail. Its table is created on first use, outside the
 * migrations: nothing reads it, and it stays empty.
 */
function probeWrite(sqlite: Database.Database): void {
  sqlite.exec('CREATE TABLE IF NOT EXISTS write_probe (filler BLOB)');
  const freePages = sqlite.pragma('freelist_count', { simple: true }) as number;
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  const bytes = Math.min((freePages + 2) * pageSize, maxProbeBytes);
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    sqlite.prepare('INSERT INTO write_probe VALUES (zeroblob(?))').run(bytes);
    sqlite.exec('DELETE FROM write_probe');
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
}

function openConnection(filename: string): Database.Database {
  const sqlite = new Database(filename);
  try {
    sqlite.pragma('journal_mode = WAL');
    // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a commit survives a crash
    // of the process (the SIGKILL test), while a power cut may lose the last few. FULL would cost an
    // fsync per write (not measurable on this machine's disk, but on slower ones).
    sqlite.pragma('synchronous = NORMAL');
    // Another process (the CLI, a second gateway) may hold the write lock for a moment.
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return sqlite;
}

/** SQLite's quick check, one line per problem; damage it cannot even walk past is its one problem. */
function quickCheckProblems(sqlite: Database.Database): string[] {
  let found: { quick_check: string }[];
  try {
    found = sqlite.pragma('quick_check', { simple: false }) as { quick_check: string }[];
  } catch (error) {
    if (isSqliteCorruption(error)) return [(error as Error).message];
    throw error;
  }
  // SQLite heads its lines with "*** in database main ***".
  return found
    .flatMap((row) => row.quick_check.split('\n'))
    .filter((line) => line !== 'ok' && !line.startsWith('***'));
}

/**
 * Opens (creating the file and its folder if needed), checks and migrates a SQLite database. A file
 * that is not a SQLite database, or that fails SQLite's quick check (a damaged page), throws
 * DatabaseFileError. Files the process cannot write open all the same: the store is then not
 * ready, answers writes StorageUnavailableError, and recovers once the files are writable.
 */
export function openSqliteStore(filename: string): SqliteConfigStore {
  const inMemory = filename === ':memory:' || filename === '';
  if (!inMemory) {
    mkdirSync(dirname(filename), { recursive: true });
    checkSqliteHeader(filename);
  }
  let sqlite: Database.Database | undefined;
  try {
    sqlite = openConnection(filename);
    if (!inMemory) {
      const problems = quickCheckProblems(sqlite);
      if (problems.length > 0)
        throw new DatabaseFileError(
          filename,
          `is damaged (SQLite's quick check: ${problems[0]}${problems.length > 1 ? `, and ${problems.length - 1} more` : ''})`,
        );
    }
    migrate(drizzle(sqlite), { migrationsFolder: migrationsFolder('sqlite') });
  } catch (error) {
    sqlite?.close();
    if (isSqliteCorruption(error))
      throw new DatabaseFileError(filename, `is damaged (${(error as Error).message})`);
    throw error;
  }
  const store = new SqliteConfigStore(sqlite, {
    reopen: inMemory ? undefined : () => openConnection(filename),
  });
  if (!inMemory) store.checkWritable();
  return store;
}
