// Storage failures are named: real SQLite failures (a full database, files the process cannot write,
// damaged files) answer 503 STORAGE_UNAVAILABLE on both doors and /ready, recover by themselves, and
// stop a start with one clear line. (A PostgreSQL outage: test/postgres/faults.test.ts.)
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { createLogger } from '../src/logging.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { createTestGateway, exited, tempDir, until } from './helpers.ts';

const projectRoot = new URL('..', import.meta.url).pathname;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The SQLite connection a store holds now (it may reopen it). */
const connectionOf = (store: unknown) => (store as { sqlite: Database.Database }).sqlite;

const UPDATE = `mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) {
  __typename ... on UpdateOrgConfigSuccess { config { version } } } }`;

async function untilStatus(url: string, status: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = (await fetch(url)).status;
    if (answered === status) return;
    if (Date.now() > deadline) throw new Error(`${url} answered ${answered}, not ${status}, in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function put(baseUrl: string, key: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${baseUrl}/api/orgs/demo/config`, {
    method: 'PUT',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function expectStorageUnavailable(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('retry-after')).toBe('5');
  expect((await response.json()).code).toBe('STORAGE_UNAVAILABLE');
}

describe('a database that cannot write', () => {
  it('full: writes answer 503 STORAGE_UNAVAILABLE on REST (with and without a condition) and GraphQL, /ready 503, the cause logged; all recover by themselves once there is room', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const gw = await createTestGateway({ logger });
    cleanups.push(() => gw.close());
    // Warm the key cache, as in steady use.
    expect(
      (await fetch(`${gw.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': gw.keys.admin } })).status,
    ).toBe(200);
    await untilStatus(`${gw.baseUrl}/ready`, 200);

    // SQLite's own limit on the file's pages: the failure a full disk gives (SQLITE_FULL).
    const sqlite = connectionOf(gw.store);
    const pages = sqlite.pragma('page_count', { simple: true }) as number;
    sqlite.pragma(`max_page_count = ${pages}`);
    const long = 'x'.repeat(9_000);
    await expectStorageUnavailable(await put(gw.baseUrl, gw.keys.admin, { agreement: long }));
    // With a condition (If-Match), the write reads the current version first.
    const conditional = await fetch(`${gw.baseUrl}/api/orgs/demo/config`, {
      method: 'PATCH',
      headers: {
        'x-api-key': gw.keys.admin,
        'content-type': 'application/merge-patch+json',
        'if-match': '"v1"',
      },
      body: JSON.stringify({ agreement: `${long}y` }),
    });
    await expectStorageUnavailable(conditional);
    const graphql = await gw.graphql(UPDATE, {
      input: { orgId: 'demo', patch: { privacy: { agreementText: `${long}z` } } },
    });
    expect(graphql.errors?.[0]?.extensions?.code).toBe('STORAGE_UNAVAILABLE');
    expect((await fetch(`${gw.baseUrl}/ready`)).status).toBe(503);
    expect(lines.filter((line) => line.includes('"databaseCode":"SQLITE_FULL"')).length).toBe(3);
    // Reads go on.
    expect(
      (await fetch(`${gw.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': gw.keys.admin } })).status,
    ).toBe(200);

    sqlite.pragma('max_page_count = 1073741823');
    await untilStatus(`${gw.baseUrl}/ready`, 200);
    const written = await put(gw.baseUrl, gw.keys.admin, { agreement: long });
    expect(written.status).toBe(200);
    expect(written.headers.get('etag')).toBe('"v2"');
  });

  it('full: minting a stream ticket answers STORAGE_UNAVAILABLE, as every write does', async () => {
    const gw = await createTestGateway();
    cleanups.push(() => gw.close());
    const sqlite = connectionOf(gw.store);
    sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count', { simple: true }) as number}`);
    const keyId = (await gw.store.listApiKeys('demo'))[0]!.id;
    // Fill the last pages with tickets, until the file is full.
    const insert = sqlite.prepare(
      'insert into stream_tickets (ticket_hash, key_id, org_id, expires_at) values (?, ?, ?, ?)',
    );
    for (let i = 0; ; i++) {
      try {
        insert.run(`filler-${i}`, keyId, 'demo', Date.now() + 60_000);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('SQLITE_FULL');
        break;
      }
    }
    const minted = await gw.graphql('mutation { createStreamTicket(orgId: "demo") { ticket } }', {});
    expect(minted.errors?.[0]?.extensions?.code).toBe('STORAGE_UNAVAILABLE');
    sqlite.pragma('max_page_count = 1073741823');
  });

  // Needs root, to hand the files to nobody (as non-root, chmod alone makes them read-only to us).
  it.runIf(process.getuid?.() === 0)(
    'read-only files: a gateway started on them starts, is not ready, answers writes 503, and once the files are writable is ready and writes without a restart',
    async () => {
      const dir = tempDir();
      cleanups.push(() => dir.remove());
      const path = join(dir.path, 'read-only.db');
      const store = openSqliteStore(path);
      const service = new ConfigService(store);
      await service.createOrg(operator, 'demo');
      const { key } = await createApiKey(store, 'demo', 'admin');
      await store.close();
      // Tests run as root, whom file modes do not stop: the gateway runs as nobody, who owns the files
      // but may not write them (chmod 444), as after a copy from a read-only backup.
      const nobody = 65534;
      for (const entry of [dir.path, ...readdirSync(dir.path).map((name) => join(dir.path, name))])
        chownSync(entry, nobody, nobody);
      chmodSync(path, 0o444);

      const started = await startAs(nobody, { DATABASE_URL: `file:${path}` });
      await untilStatus(`${started.baseUrl}/ready`, 503);
      await expectStorageUnavailable(await put(started.baseUrl, key, { color: '#123456' }));
      await until(() => started.output().includes('"databaseCode":"SQLITE_READONLY"'));

      for (const name of readdirSync(dir.path)) chmodSync(join(dir.path, name), 0o644);
      await untilStatus(`${started.baseUrl}/ready`, 200);
      const written = await put(started.baseUrl, key, { color: '#123456' });
      expect(written.status).toBe(200);
      expect(written.headers.get('etag')).toBe('"v2"');
    },
  );
});

/** Starts the gateway as another user, resolving once it listens; output() is everything it printed. */
function startAs(
  uid: number,
  env: Record<string, string>,
): Promise<{ baseUrl: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', SEED_DEMO: 'false', HOME: '/tmp', ...env },
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
    child.stdout!.on('data', () => {
      const baseUrl = /listening on (http:\/\/\S+)\/graphql/.exec(output)?.[1];
      if (baseUrl) resolve({ baseUrl, output: () => output });
    });
  });
}

/** Starts the gateway on a database file and waits for it to stop; its exit code and what it printed. */
async function failedStart(path: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: `file:${path}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await exited(child);
  return { code, stderr, stdout };
}

describe('a damaged database file', () => {
  it('that is not a database stops the start with one line naming the file and what to do', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const path = join(dir.path, 'garbage.db');
    writeFileSync(
      path,
      Buffer.from('this is no database, but a text someone saved under its name\n'.repeat(200)),
    );
    const { code, stderr, stdout } = await failedStart(path);
    expect(code).not.toBe(0);
    expect(stdout).not.toContain('listening');
    expect(stderr.trim().split('\n')).toEqual([
      `cannot start: the database file ${path} is not a SQLite database. Restore it from a backup, or move it away to start with a new, empty database.`,
    ]);
  });

  it('with a page damaged in the middle stops the start with one line naming the file, the quick check and what to do', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const path = join(dir.path, 'damaged.db');
    const store = openSqliteStore(path);
    const service = new ConfigService(store);
    await service.createOrg(operator, 'demo');
    for (let index = 0; index < 60; index++)
      await service.update(operator, {
        orgId: 'demo',
        patch: { privacy: { agreementText: `${index} ${'consent '.repeat(400)}` } },
        door: 'cli',
      });
    await store.close(); // checkpoints the WAL into the file
    const pageSize = 4096;
    const pages = statSync(path).size / pageSize;
    expect(pages).toBeGreaterThan(20);
    const fd = openSync(path, 'r+');
    // Garbage over a page in the middle of the file.
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, Math.floor(pages / 2) * pageSize);
    closeSync(fd);

    const { code, stderr, stdout } = await failedStart(path);
    expect(code).not.toBe(0);
    expect(stdout).not.toContain('listening');
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^cannot start: the database file ${path} is damaged \\(SQLite's quick check: .+\\)\\. Restore it from a backup, or move it away to start with a new, empty database\\.$`,
      ),
    );
  });
});
