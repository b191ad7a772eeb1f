// The admin CLI on a temporary database (SQLite, or PostgreSQL in the postgres project): organisations, keys, export/import, migrate, bad arguments.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authenticate, checkApiKey } from '../src/auth/api-keys.ts';
import { KeyUseRecorder } from '../src/auth/key-use.ts';
import { openStore } from '../src/backend.ts';
import { runCli } from '../src/cli.ts';
import { tempDir } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';

const example = JSON.parse(
  readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

let dir: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let database: TestDatabase;
beforeEach(async () => {
  dir = tempDir();
  database = await createTestDatabase();
  env = { DATABASE_URL: database.url };
});
afterEach(async () => {
  await database.drop();
  dir.remove();
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

function file(name: string, content: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('cli', () => {
  it('creates and lists organisations', async () => {
    expect((await cli('migrate')).code).toBe(0);
    expect(await cli('org', 'create', 'acme', '--name', 'Acme Ltd')).toMatchObject({ code: 0 });
    expect(await cli('org', 'create', 'acme')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('already exists'),
    });
    expect(await cli('org', 'create', 'bad id!')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('orgId'),
    });
    const listed = await cli('org', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^acme\tversion 1\tupdated .*\tAcme Ltd$/);
    const exported = JSON.parse((await cli('config', 'export', 'acme')).stdout);
    expect(exported.name).toBe('Acme Ltd');
    expect(Object.keys(exported)).toHaveLength(51);
  });

  it('creates keys that authenticate, lists them without the key, and revokes them', async () => {
    await cli('org', 'create', 'acme');
    const created = await cli('key', 'create', '--org', 'acme', '--role', 'adviser');
    expect(created.code).toBe(0);
    const key = created.stdout.split('\n').at(-1)!;
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const listed = await cli('key', 'list', '--org', 'acme');
    expect(listed.stdout).not.toContain(key);
    const keyId = listed.stdout.split('\t')[0]!;
    expect(listed.stdout).toMatch(
      /^key_[0-9a-f]{12}\tadviser\tgroups all\texpires never\tlast used never\tcreated .*\tactive$/,
    );

    const store = await openStore({ databaseUrl: database.url }, () => undefined);
    expect(await authenticate(store, key)).toMatchObject({ orgId: 'acme', role: 'adviser', keyId });
    expect(await cli('key', 'revoke', keyId)).toMatchObject({ code: 0 });
    expect(await authenticate(store, key)).toBeNull();
    await store.close();
    expect(await cli('key', 'revoke', keyId)).toMatchObject({ code: 1 });
    expect((await cli('key', 'list', '--org', 'acme')).stdout).toContain('revoked');
    expect(await cli('key', 'create', '--org', 'nobody', '--role', 'admin')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not found'),
    });
  });

  it('creates widget keys (pk_) and keys limited to groups and expiring; lists grants, expiry and last use', async () => {
    await cli('org', 'create', 'acme');
    const widget = await cli('key', 'create', '--org', 'acme', '--role', 'widget');
    expect(widget.code).toBe(0);
    const pk = widget.stdout.split('\n').at(-1)!;
    expect(pk).toMatch(/^pk_[A-Za-z0-9_-]{32}$/);
    const scoped = await cli(
      'key',
      'create',
      '--org',
      'acme',
      '--role',
      'admin',
      '--groups',
      'branding,messages',
      '--expires-in',
      '90d',
    );
    expect(scoped.code).toBe(0);
    expect(scoped.stdout).toContain('may change branding, messages');
    const secret = scoped.stdout.split('\n').at(-1)!;

    const store = await openStore({ databaseUrl: database.url }, () => undefined);
    expect(await authenticate(store, pk)).toMatchObject({ role: 'widget', groups: null });
    const actor = await authenticate(store, secret);
    expect(actor).toMatchObject({ role: 'admin', groups: ['branding', 'messages'] });
    const expiresIn = (actor as { expiresAt: Date }).expiresAt.getTime() - Date.now();
    expect(Math.abs(expiresIn - 90 * 86_400_000)).toBeLessThan(60_000);
    // Last use, written in one batch.
    const recorder = new KeyUseRecorder(store);
    recorder.saw((actor as { keyId: string }).keyId);
    await recorder.close();
    await store.close();

    const lines = (await cli('key', 'list', '--org', 'acme')).stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(pk);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines[0]).toMatch(/\twidget\tgroups all\texpires never\tlast used never\t/);
    expect(lines[1]).toMatch(
      /\tadmin\tgroups branding,messages\texpires \d{4}-.*Z\tlast used \d{4}-.*Z\tcreated .*\tactive$/,
    );

    expect(
      await cli('key', 'create', '--org', 'acme', '--role', 'admin', '--groups', 'sla,nope'),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--groups takes top-level groups'),
    });
    expect(
      await cli('key', 'create', '--org', 'acme', '--role', 'widget', '--groups', 'branding'),
    ).toMatchObject({ code: 2 });
    expect(
      await cli('key', 'create', '--org', 'acme', '--role', 'admin', '--expires-in', 'soon'),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--expires-in'),
    });
  });

  it('rotates a key: the new one has the same grants, the old one works until the overlap ends', async () => {
    await cli('org', 'create', 'acme');
    const created = await cli('key', 'create', '--org', 'acme', '--role', 'adviser', '--groups', 'branding');
    const oldKey = created.stdout.split('\n').at(-1)!;
    const oldId = /key (key_[0-9a-f]{12})/.exec(created.stdout)![1]!;

    const rotated = await cli('key', 'rotate', oldId, '--overlap', '1h');
    expect(rotated.code).toBe(0);
    const newKey = rotated.stdout.split('\n').at(-1)!;
    const store = await openStore({ databaseUrl: database.url }, () => undefined);
    try {
      const fresh = await authenticate(store, newKey);
      expect(fresh).toMatchObject({ orgId: 'acme', role: 'adviser', groups: ['branding'], expiresAt: null });
      const old = await authenticate(store, oldKey);
      const until = (old as { expiresAt: Date }).expiresAt.getTime() - Date.now();
      expect(until).toBeGreaterThan(3_500_000);
      expect(until).toBeLessThanOrEqual(3_600_000);
      // Checked at use against the stored expiry: past the overlap it stops.
      expect((await checkApiKey(store, oldKey, Date.now() + 3_600_001)).ok).toBe(false);

      // Without an overlap the old key stops at once.
      const freshId = (fresh as { keyId: string }).keyId;
      const again = await cli('key', 'rotate', freshId);
      expect(again.code).toBe(0);
      expect(await checkApiKey(store, newKey)).toEqual({ ok: false, code: 'KEY_EXPIRED' });
      expect((await authenticate(store, again.stdout.split('\n').at(-1)!))?.kind).toBe('apiKey');
    } finally {
      await store.close();
    }
    expect(await cli('key', 'rotate', oldId, '--overlap', 'forever')).toMatchObject({ code: 2 });
    expect(await cli('key', 'rotate', 'key_000000000000')).toMatchObject({ code: 1 });
  });

  it('imports the documented example and exports it unchanged', async () => {
    await cli('org', 'create', 'acme');
    expect(await cli('config', 'import', 'acme', file('example.json', example))).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('version 2'),
    });
    expect(JSON.parse((await cli('config', 'export', 'acme')).stdout)).toEqual(example);
  });

  it('imports a partial file as a validated update, and refuses a bad one whole', async () => {
    await cli('org', 'create', 'acme');
    expect((await cli('config', 'import', 'acme', file('partial.json', { color: '#abcdef' }))).code).toBe(0);
    const bad = await cli(
      'config',
      'import',
      'acme',
      file('bad.json', { color: 'teal', name: 'Fine', unknownThing: true }),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('color: must be a hex colour');
    expect(bad.stderr).toContain('[INVALID_COLOR]');
    expect(bad.stderr).toContain('unknownThing: unknown setting');
    const exported = JSON.parse((await cli('config', 'export', 'acme')).stdout);
    expect(exported.color).toBe('#abcdef');
    expect(exported.name).toBe('acme');
    expect(
      await cli(
        'config',
        'import',
        'acme',
        file('conflict.json', { color: '#000' }),
        '--expected-version',
        '1',
      ),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('current version is 2'),
    });
    expect(await cli('config', 'import', 'acme', file('broken.json', '{ not json'))).toMatchObject({
      code: 1,
    });
    expect(await cli('config', 'import', 'acme', file('array.json', [1]))).toMatchObject({ code: 1 });
  });

  it('lists an unknown key, a broken rule and a bound against the stored other together', async () => {
    await cli('org', 'create', 'acme');
    const bad = await cli(
      'config',
      'import',
      'acme',
      file('bad.json', { color: 'teal', unknownThing: true, openedConversationsSlaRangeLowerBound: 9 }),
    );
    expect(bad.code).toBe(1);
    const lines = bad.stderr.split('\n').slice(1).sort();
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}color: .* \[INVALID_COLOR\]$/),
      expect.stringMatching(/^ {2}openedConversationsSlaRangeLowerBound: .* \[SLA_RANGE_INVERTED\]$/),
      expect.stringMatching(/^ {2}unknownThing: unknown setting .* \[UNKNOWN_SETTING\]$/),
    ]);
    expect(JSON.parse((await cli('config', 'export', 'acme')).stdout).color).not.toBe('teal');
  });

  it('answers bad arguments with a clear message and exit code 2', async () => {
    expect(await cli()).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage') });
    expect(await cli('frobnicate')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command'),
    });
    expect(await cli('key', 'create', '--org', 'acme')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--role is required'),
    });
    expect(await cli('key', 'create', '--org', 'acme', '--role', 'owner')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--role must be one of admin, adviser, widget'),
    });
    expect(await cli('org', 'create')).toMatchObject({ code: 2 });
    expect(await cli('org', 'list', '--bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('bogus'),
    });
    expect(await cli('config', 'import', 'acme', 'f.json', '--expected-version', 'two')).toMatchObject({
      code: 2,
    });
    env = { DATABASE_URL: 'mysql://nope' };
    expect(await cli('org', 'list')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('DATABASE_URL'),
    });
  });

  it('runs as the package command, with --help', () => {
    const bin = new URL('../bin/org-config.js', import.meta.url).pathname;
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('key create --org <orgId> --role admin|adviser');
    const created = spawnSync(process.execPath, [bin, 'org', 'create', 'acme'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    expect(created.status).toBe(0);
    const bad = spawnSync(process.execPath, [bin, 'key', 'revoke'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    expect(bad.status).toBe(2);
  });
});
