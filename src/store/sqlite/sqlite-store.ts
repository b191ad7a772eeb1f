// The embedded store: SQLite through better-sqlite3 and drizzle, WAL mode, migrated when opened.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { OrgExistsError } from '../../config/errors.ts';
import type { OrgConfig, OrgConfigSettings } from '../../config/model.ts';
import type { Revision, RevisionMeta } from '../../config/revision.ts';
import { settingsJson } from '../../config/settings-json.ts';
import type {
  ApiKeyRecord,
  ConfigStore,
  OrgSummary,
  Role,
  StoredApiKey,
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
import { ChangedSettingsUpdate } from './changed-settings-update.ts';
import { directStatement } from './direct-statement.ts';
import { OwnWrites } from './own-writes.ts';
import { apiKeys, orgConfigs, revisions } from './schema.ts';

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
  private readonly db: BetterSQLite3Database;
  /** The statements of the read and write paths, built and prepared once rather than per call. */
  private readonly statements;
  private readonly updateChangedSettings: ChangedSettingsUpdate;
  private readonly writeConfig: Database.Transaction<
    (orgId: string, decide: UpdateDecision, meta: RevisionMeta) => Committed | undefined
  >;
  /** What this connection committed, not read back from the database. */
  private readonly ownWrites = new OwnWrites();

  constructor(private readonly sqlite: Database.Database) {
    this.db = drizzle(sqlite);
    this.statements = prepareStatements(this.db, sqlite);
    this.updateChangedSettings = new ChangedSettingsUpdate(sqlite, this.db);
    this.writeConfig = sqlite.transaction((orgId: string, decide: UpdateDecision, meta: RevisionMeta) =>
      this.writeConfigTransaction(orgId, decide, meta),
    );
  }

  async createOrg(orgId: string, settings: OrgConfigSettings, meta: RevisionMeta): Promise<OrgConfig> {
    const now = new Date();
    const row = { orgId, version: 1, createdAt: now, updatedAt: now, ...settingsToColumns(settings) };
    const created = this.db.transaction((tx) => {
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
    });
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
    const committed = this.writeConfig.immediate(orgId, decide, meta);
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

  async createApiKey(key: { id: string; orgId: string; role: Role; keyHash: string }): Promise<ApiKeyRecord> {
    const row = this.db
      .insert(apiKeys)
      .values({ ...key, createdAt: new Date() })
      .returning()
      .get();
    return rowToApiKey(row);
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
    const result = this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .run();
    return result.changes > 0;
  }

  async isReady(): Promise<boolean> {
    try {
      const applied = this.sqlite.prepare('SELECT count(*) AS count FROM __drizzle_migrations').get() as {
        count: number;
      };
      return isMigrated(applied.count, 'sqlite');
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.sqlite.close();
  }
}

/** Opens (creating the file and its folder if needed) and migrates a SQLite database. */
export function openSqliteStore(filename: string): SqliteConfigStore {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const sqlite = new Database(filename);
  sqlite.pragma('journal_mode = WAL');
  // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a commit survives a crash
  // of the process (the SIGKILL test), while a power cut may lose the last few. FULL would cost an
  // fsync per write (not measurable on this machine's disk, but on slower ones).
  sqlite.pragma('synchronous = NORMAL');
  // Another process (the CLI, a second gateway) may hold the write lock for a moment.
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  migrate(drizzle(sqlite), { migrationsFolder: migrationsFolder('sqlite') });
  return new SqliteConfigStore(sqlite);
}
