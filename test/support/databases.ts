// The database a test runs on: a fresh SQLite file, or a fresh PostgreSQL schema, dropped at the end.
// The vitest project decides which (ORG_CONFIG_TEST_STORE=postgres in the "postgres" project).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type TestStoreKind = 'sqlite' | 'postgres';

export const testStoreKind: TestStoreKind =
  process.env.ORG_CONFIG_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = testStoreKind === 'postgres';

/** The PostgreSQL server of the suites (the one of this machine unless TEST_POSTGRES_URL says otherwise). */
export const testPostgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  /** DATABASE_URL of the database: file:PATH, or postgres://... with the schema as its search_path. */
  readonly url: string;
  /** The rows of a table, for tests that look at what is stored. */
  rows(table: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** A PostgreSQL URL whose connections use `schema` (created here) for every table, migrations included. */
export function urlWithSchema(baseUrl: string, schema: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

let counter = 0;

export async function createPostgresSchema(): Promise<{
  url: string;
  schema: string;
  drop: () => Promise<void>;
}> {
  const schema = `org_config_test_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  return {
    url: urlWithSchema(testPostgresUrl, schema),
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function createTestDatabase(kind: TestStoreKind = testStoreKind): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const { url, schema, drop } = await createPostgresSchema();
    return {
      url,
      async rows(table) {
        const client = new pg.Client({ connectionString: testPostgresUrl });
        await client.connect();
        try {
          return (await client.query(`SELECT * FROM ${schema}.${pg.escapeIdentifier(table)}`)).rows;
        } finally {
          await client.end();
        }
      },
      drop,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'org-config-test-'));
  const path = join(dir, 'test.db');
  return {
    url: `file:${path}`,
    async rows(table) {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`).all() as Record<
          string,
          unknown
        >[];
      } finally {
        db.close();
      }
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
