// Moving up: the CLI copies a SQLite database (organisations, keys, revisions) into an empty PostgreSQL one.
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { operator } from '../../src/auth/actor.ts';
import { authenticate, createApiKey } from '../../src/auth/api-keys.ts';
import { runCli } from '../../src/cli.ts';
import { ConfigService } from '../../src/config/service.ts';
import { exampleSettings } from '../../src/demo.ts';
import { loggableError } from '../../src/loggable-error.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers.ts';
import { createPostgresSchema, testPostgresUrl } from '../support/databases.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function cli(env: NodeJS.ProcessEnv, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** A SQLite database with two organisations, a history of changes, a live key and a revoked one. */
async function embeddedDatabase() {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const path = join(dir.path, 'embedded.db');
  const store = openSqliteStore(path);
  const service = new ConfigService(store);
  await service.createOrg(operator, 'demo', exampleSettings());
  await service.createOrg(operator, 'other');
  for (const color of ['#400001', '#400002', '#400003'])
    await service.update(operator, {
      orgId: 'demo',
      patch: { branding: { color } },
      expectedVersion: null,
      door: 'cli',
    });
  const live = await createApiKey(store, 'demo', 'admin');
  const revoked = await createApiKey(store, 'other', 'adviser');
  await store.revokeApiKey(revoked.record.id);
  return { path, store, liveKey: live.key, revokedKey: revoked.key };
}

describe('copy --from file:PATH', () => {
  it('copies every organisation, key and revision into an empty PostgreSQL database; keys keep working', async () => {
    const embedded = await embeddedDatabase();
    const target = await createPostgresSchema();
    cleanups.push(() => target.drop());

    const copied = await cli({ DATABASE_URL: target.url }, 'copy', '--from', `file:${embedded.path}`);
    expect(copied).toMatchObject({
      code: 0,
      stdout: 'copied 2 organisation(s), 2 key(s) and 5 revision(s) into PostgreSQL',
    });

    const store = await openPostgresStore(target.url);
    cleanups.push(() => store.close());
    for (const orgId of ['demo', 'other'])
      expect(await store.getConfig(orgId)).toEqual(await embedded.store.getConfig(orgId));
    expect(await store.listOrgs()).toEqual(await embedded.store.listOrgs());
    const strip = ({ seq: _seq, ...revision }: { seq: number }) => revision;
    expect((await store.revisionsAfter(0, 100)).map(strip)).toEqual(
      (await embedded.store.revisionsAfter(0, 100)).map(strip),
    );
    expect(await store.listApiKeys('other')).toEqual(await embedded.store.listApiKeys('other'));
    expect(await authenticate(store, embedded.liveKey)).toMatchObject({ orgId: 'demo', role: 'admin' });
    expect(await authenticate(store, embedded.revokedKey)).toBeNull();
    // The copy goes on where the embedded database stopped.
    const next = await new ConfigService(store).update(operator, {
      orgId: 'demo',
      patch: { branding: { color: '#400004' } },
      expectedVersion: 4,
      door: 'cli',
    });
    expect(next.config.version).toBe(5);
    await embedded.store.close();
  });

  it('refuses a database that holds anything, and writes nothing into it', async () => {
    const embedded = await embeddedDatabase();
    await embedded.store.close();
    const target = await createPostgresSchema();
    cleanups.push(() => target.drop());
    expect((await cli({ DATABASE_URL: target.url }, 'org', 'create', 'acme')).code).toBe(0);

    const refused = await cli({ DATABASE_URL: target.url }, 'copy', '--from', `file:${embedded.path}`);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('already holds') });
    expect((await cli({ DATABASE_URL: target.url }, 'org', 'list')).stdout.split('\n')).toHaveLength(1);
  });

  it('refuses text PostgreSQL cannot keep, naming where it is and never printing a value', async () => {
    const secret = 'secret clause';
    const meta = { actor: { keyId: null, role: 'operator' as const }, door: 'cli' as const };
    for (const [name, seed] of [
      [
        'current settings',
        async (store: ReturnType<typeof openSqliteStore>) => {
          // As an older gateway accepted it: straight into the store, past today's rules.
          const settings = exampleSettings();
          await store.createOrg(
            'leaky',
            {
              ...settings,
              privacy: { ...settings.privacy, agreementText: `${secret}\u0000 tail` },
            },
            meta,
          );
          return { version: 1 };
        },
      ],
      [
        'an earlier revision',
        async (store: ReturnType<typeof openSqliteStore>) => {
          const settings = exampleSettings();
          await store.createOrg('leaky', settings, meta);
          for (const name of [`${secret}\u0000`, 'Fixed since'])
            await store.updateConfig(
              'leaky',
              (current) => ({
                settings: { ...current.settings, branding: { ...current.settings.branding, name } },
                changes: [],
              }),
              meta,
            );
          return { version: 2 };
        },
      ],
    ] as const) {
      const dir = tempDir();
      cleanups.push(() => dir.remove());
      const path = join(dir.path, 'embedded.db');
      const store = openSqliteStore(path);
      await new ConfigService(store).createOrg(operator, 'demo', exampleSettings());
      const { version } = await seed(store);
      await store.close();
      const target = await createPostgresSchema();
      cleanups.push(() => target.drop());

      const refused = await cli({ DATABASE_URL: target.url }, 'copy', '--from', `file:${path}`);
      expect(refused.code, name).toBe(1);
      expect(refused.stderr, name).toContain('organisation "leaky"');
      expect(refused.stderr, name).toContain(`at version ${version}`);
      expect(refused.stderr, name).toContain('INVALID_TEXT');
      expect(`${refused.stdout}${refused.stderr}`, name).not.toContain(secret);
      expect((await cli({ DATABASE_URL: target.url }, 'org', 'list')).stdout, name).toBe('');
    }
  });

  it('describes a failed query without its parameters', async () => {
    const target = await createPostgresSchema();
    cleanups.push(() => target.drop());
    const store = await openPostgresStore(target.url);
    cleanups.push(() => store.close());
    const settings = exampleSettings();
    const failure = await store
      .createOrg(
        'leaky',
        { ...settings, branding: { ...settings.branding, name: 'secret\u0000name' } },
        {
          actor: { keyId: null, role: 'operator' },
          door: 'cli',
        },
      )
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(String((failure as Error).message)).toContain('secret'); // what would have been printed
    const described = JSON.stringify(loggableError(failure));
    expect(described).not.toContain('secret');
    expect(described).toContain('22'); // a data exception's SQLSTATE class
  });

  it('says what is wrong with its arguments', async () => {
    const target = await createPostgresSchema();
    cleanups.push(() => target.drop());
    expect(await cli({ DATABASE_URL: target.url }, 'copy')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--from is required'),
    });
    expect(
      await cli({ DATABASE_URL: target.url }, 'copy', '--from', 'file:/nowhere/at/all.db'),
    ).toMatchObject({ code: 2, stderr: expect.stringContaining('no SQLite database') });
    expect(
      await cli({ DATABASE_URL: target.url }, 'copy', '--from', 'postgres://elsewhere/db'),
    ).toMatchObject({ code: 2, stderr: expect.stringContaining('--from must be file:PATH') });
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    expect(
      await cli(
        { DATABASE_URL: `file:${join(dir.path, 'x.db')}` },
        'copy',
        '--from',
        `file:${join(dir.path, 'x.db')}`,
      ),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('copy writes into PostgreSQL'),
    });
  });
});

describe('migrations', () => {
  it('are applied once when several replicas open the same empty database at the same time', async () => {
    const target = await createPostgresSchema();
    cleanups.push(() => target.drop());
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(target.url)));
    cleanups.push(() => Promise.all(stores.map((store) => store.close())).then(() => undefined));
    for (const store of stores) expect(await store.isReady()).toBe(true);
  });
});

describe('long database and schema names', () => {
  it("still take writes: the notification channel stays within PostgreSQL's 63 bytes", async () => {
    const long = `org_config_test_${process.pid}_${'x'.repeat(40)}`.slice(0, 63);
    const base = new URL(testPostgresUrl);
    const admin = new pg.Client({ connectionString: testPostgresUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${long}`);
    cleanups.push(async () => {
      await admin.query(`DROP SCHEMA ${long} CASCADE`);
      await admin.end();
    });
    base.searchParams.set('options', `-c search_path=${long}`);
    const store = await openPostgresStore(base.toString());
    cleanups.push(() => store.close());
    const service = new ConfigService(store);
    await service.createOrg(operator, 'demo', exampleSettings());
    const { config } = await service.update(operator, {
      orgId: 'demo',
      patch: { branding: { color: '#500001' } },
      expectedVersion: 1,
      door: 'cli',
    });
    expect(config.version).toBe(2);
  });
});
