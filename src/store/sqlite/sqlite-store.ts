// The embedded store: SQLite through better-sqlite3 and drizzle, WAL mode, migrated when opened.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { getPath, setPath } from '../../config/catalogue.ts';
import { OrgExistsError } from '../../config/errors.ts';
import { settingsLeaves, type OrgConfig, type OrgConfigSettings } from '../../config/model.ts';
import type { ApiKeyRecord, ConfigStore, OrgSummary, Role, UpdateDecision } from '../config-store.ts';
import { apiKeys, orgConfigs } from './schema.ts';

const migrationsFolder = fileURLToPath(new URL('../../../drizzle/sqlite', import.meta.url));

type OrgConfigRow = typeof orgConfigs.$inferSelect & Record<string, unknown>;

function rowToConfig(row: OrgConfigRow): OrgConfig {
  const settings: Record<string, unknown> = {};
  for (const { path, setting } of settingsLeaves) setPath(settings, path, row[setting.legacyKey]);
  return { orgId: row.orgId, version: row.version, updatedAt: row.updatedAt, settings: settings as OrgConfigSettings };
}

function settingsToColumns(settings: OrgConfigSettings): Record<string, unknown> {
  return Object.fromEntries(settingsLeaves.map(({ path, setting }) => [setting.legacyKey, getPath(settings, path)]));
}

function rowToApiKey(row: typeof apiKeys.$inferSelect): ApiKeyRecord {
  return { id: row.id, orgId: row.orgId, role: row.role, createdAt: row.createdAt, revokedAt: row.revokedAt };
}

export class SqliteConfigStore implements ConfigStore {
  private readonly db: BetterSQLite3Database;

  constructor(private readonly sqlite: Database.Database) {
    this.db = drizzle(sqlite);
  }

  async createOrg(orgId: string, settings: OrgConfigSettings): Promise<OrgConfig> {
    const now = new Date();
    const row = { orgId, version: 1, createdAt: now, updatedAt: now, ...settingsToColumns(settings) };
    const inserted = this.db
      .insert(orgConfigs)
      .values(row as typeof orgConfigs.$inferInsert)
      .onConflictDoNothing()
      .returning()
      .all();
    if (inserted.length === 0) throw new OrgExistsError(orgId);
    return rowToConfig(inserted[0] as OrgConfigRow);
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
    const row = this.db.select().from(orgConfigs).where(eq(orgConfigs.orgId, orgId)).get();
    return row ? rowToConfig(row as OrgConfigRow) : undefined;
  }

  async updateConfig(orgId: string, decide: UpdateDecision): Promise<OrgConfig | undefined> {
    // IMMEDIATE takes the write lock before the read, so writers in other processes cannot
    // interleave between our read and our write.
    return this.db.transaction(
      (tx) => {
        const row = tx.select().from(orgConfigs).where(eq(orgConfigs.orgId, orgId)).get();
        if (!row) return undefined;
        const current = rowToConfig(row as OrgConfigRow);
        const next = decide(current);
        if (next === null) return current;
        const updated = tx
          .update(orgConfigs)
          .set({ ...settingsToColumns(next), version: current.version + 1, updatedAt: new Date() })
          .where(eq(orgConfigs.orgId, orgId))
          .returning()
          .get();
        return rowToConfig(updated as OrgConfigRow);
      },
      { behavior: 'immediate' },
    );
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
    const row = this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
      .get();
    return row ? rowToApiKey(row) : undefined;
  }

  async listApiKeys(orgId: string): Promise<ApiKeyRecord[]> {
    const rows = this.db.select().from(apiKeys).where(eq(apiKeys.orgId, orgId)).orderBy(asc(apiKeys.createdAt)).all();
    return rows.map(rowToApiKey);
  }

  async revokeApiKey(id: string): Promise<boolean> {
    const result = this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .run();
    return result.changes > 0;
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
  // Another process (the CLI, a second gateway) may hold the write lock for a moment.
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  migrate(drizzle(sqlite), { migrationsFolder });
  return new SqliteConfigStore(sqlite);
}
