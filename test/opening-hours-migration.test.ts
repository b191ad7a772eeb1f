// A database made before opening hours (migration 0000 only, rows with UTC working_hours) opened by this code: nothing changes for its users.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import { openBackend } from '../src/backend.ts';
import { ConfigService } from '../src/config/service.ts';
import { migrationsFolder } from '../src/store/migrations.ts';
import { settingColumnName } from '../src/store/setting-columns.ts';
import { createPostgresSchema, onPostgres } from './support/databases.ts';

const example = JSON.parse(
  readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The dialect's migrations up to the first one only, in a folder of their own. */
function firstMigrationOnly(dialect: 'sqlite' | 'postgres'): string {
  const dir = mkdtempSync(join(tmpdir(), 'org-config-before-'));
  dirs.push(dir);
  const folder = join(dir, 'migrations');
  cpSync(migrationsFolder(dialect), folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: unknown[] };
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
  return folder;
}

const columns = Object.keys(example).map(settingColumnName);
const oldRevision = JSON.stringify({ branding: { name: example.name }, workingHours: example.workingHours });

/** A SQLite file at the first migration, holding org "old" with the documented example, as stored then. */
function databaseBeforeOpeningHours(): string {
  const folder = firstMigrationOnly('sqlite');
  const path = join(folder, '..', 'old.db');
  const sqlite = new Database(path);
  migrate(drizzle(sqlite), { migrationsFolder: folder });
  const values = Object.values(example).map((value) =>
    typeof value === 'boolean' ? Number(value) : typeof value === 'object' ? JSON.stringify(value) : value,
  );
  sqlite
    .prepare(
      `INSERT INTO org_configs (org_id, version, created_at, updated_at, ${columns.join(', ')})
       VALUES ('old', 1, 0, 0, ${columns.map(() => '?').join(', ')})`,
    )
    .run(...values);
  sqlite
    .prepare(
      `INSERT INTO revisions (org_id, version, changed_at, actor_role, door, changes, settings)
       VALUES ('old', 1, 0, 'operator', 'cli', '[]', ?)`,
    )
    .run(oldRevision);
  sqlite.close();
  return path;
}

/** The same on PostgreSQL: a schema at the first migration with org "old". */
async function postgresBeforeOpeningHours(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = await createPostgresSchema();
  const client = new pg.Client({ connectionString: schema.url });
  await client.connect();
  try {
    // As the store migrates: its journal in the schema itself.
    await migratePg(drizzlePg(client), {
      migrationsFolder: firstMigrationOnly('postgres'),
      migrationsSchema: schema.schema,
    });
    const values = Object.values(example).map((value) =>
      typeof value === 'object' ? JSON.stringify(value) : value,
    );
    await client.query(
      `INSERT INTO org_configs (org_id, version, created_at, updated_at, ${columns.join(', ')})
       VALUES ('old', 1, now(), now(), ${columns.map((_, index) => `$${index + 1}`).join(', ')})`,
      values,
    );
    await client.query(
      `INSERT INTO revisions (org_id, version, changed_at, actor_role, door, changes, settings)
       VALUES ('old', 1, now(), 'operator', 'cli', '[]', $1)`,
      [oldRevision],
    );
  } finally {
    await client.end();
  }
  return schema;
}

describe('a database from before opening hours', () => {
  it('reads every existing configuration unchanged (zone UTC), and rewrites the row only when it is written', async () => {
    const before = onPostgres ? await postgresBeforeOpeningHours() : null;
    const databaseUrl = before ? before.url : `file:${databaseBeforeOpeningHours()}`;
    const backend = await openBackend(
      { databaseUrl },
      { pollIntervalMs: 20, onError: (error) => console.error(error) },
    );
    try {
      const service = new ConfigService(backend.store, backend.events, () =>
        Date.parse('2026-03-29T01:30:00Z'),
      );
      const config = await service.get(operator, 'old');
      expect(config.settings.openingHours.timeZone).toBe('UTC');
      expect(config.settings.openingHours.exceptions).toEqual([]);
      const { toLegacy } = await import('../src/config/legacy.ts');
      const legacy = toLegacy(config.settings, Date.parse('2026-03-29T01:30:00Z'));
      for (const [key, value] of Object.entries(example)) expect(legacy[key], key).toEqual(value);
      // The old revision reads in today's shape too, so it can be reverted to.
      const first = await service.configAt(operator, 'old', 1);
      expect(first.settings.openingHours.weekly).toEqual(config.settings.openingHours.weekly);
      // Other writes leave the old offsets where they are (read the same); new weekly slots replace them.
      await service.update(operator, {
        orgId: 'old',
        patch: { branding: { color: '#000000' } },
        door: 'cli',
      });
      expect((await service.get(operator, 'old')).settings.openingHours).toEqual(
        config.settings.openingHours,
      );
      const weekly = [{ day: 'MONDAY' as const, start: '09:00', end: '10:00' }];
      await service.update(operator, { orgId: 'old', patch: { openingHours: { weekly } }, door: 'cli' });
      const query = 'SELECT working_hours, opening_hours_weekly FROM org_configs';
      let row: Record<string, unknown>;
      if (before) {
        const client = new pg.Client({ connectionString: before.url });
        await client.connect();
        row = (await client.query(query).finally(() => client.end())).rows[0];
      } else {
        const sqlite = new Database(databaseUrl.slice('file:'.length), { readonly: true });
        row = sqlite.prepare(query).get() as Record<string, unknown>;
        sqlite.close();
      }
      const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
      expect(json(row.working_hours)).toEqual([]);
      expect(json(row.opening_hours_weekly)).toEqual(weekly);
      const again = await service.get(operator, 'old');
      expect(again.settings.openingHours.weekly).toEqual(weekly);
      expect(toLegacy(again.settings, Date.now()).workingHours).toEqual([
        { offsetSeconds: 9 * 3_600, durationSeconds: 3_600 },
      ]);
    } finally {
      await backend.close();
      await before?.drop();
    }
  });
});
