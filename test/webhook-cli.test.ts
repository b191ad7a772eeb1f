// The webhook commands of the admin CLI on a temporary database (SQLite, or PostgreSQL in the postgres project).
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import { type Receiver, startReceiver, verifiedVersion } from './support/webhook-receiver.ts';

let database: TestDatabase;
let receiver: Receiver;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  database = await createTestDatabase();
  receiver = await startReceiver();
  env = { DATABASE_URL: database.url };
});
afterEach(async () => {
  await receiver.close();
  await database.drop();
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, stderr: err.join('\n') };
}

it('adds a webhook (its secret alone on the last line), lists, disables, enables, rotates, redelivers, shows the log and removes it', async () => {
  expect((await cli('org', 'create', 'acme')).code).toBe(0);

  // The safe settings refuse the receiver on this machine.
  const refused = await cli('webhook', 'add', '--org', 'acme', '--url', `${receiver.baseUrl}/hook`);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('ADDRESS_NOT_ALLOWED');

  env = { ...env, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' };
  const added = await cli(
    'webhook',
    'add',
    '--org',
    'acme',
    '--url',
    `${receiver.baseUrl}/hook`,
    '--fields',
    'branding.color, sla',
  );
  expect(added.code).toBe(0);
  const secret = added.out.at(-1)!;
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  const id = /created webhook (wh_[0-9a-f]{16}) for acme, from version 1 on/.exec(added.out[0]!)![1]!;

  const listed = await cli('webhook', 'list', '--org', 'acme');
  expect(listed.out).toEqual([
    `${id}\t${receiver.baseUrl}/hook\tfields branding.color,sla\tdelivered to version 1\tenabled`,
  ]);
  expect(listed.out.join('\n')).not.toContain(secret);

  expect((await cli('webhook', 'disable', id)).out).toEqual([`disabled webhook ${id}`]);
  expect((await cli('webhook', 'list', '--org', 'acme')).out[0]).toContain('disabled: disabled by an admin');
  expect((await cli('webhook', 'enable', `Webhook:${id}`)).out).toEqual([
    `enabled webhook ${id}; delivery resumes after version 1`,
  ]);

  const rotated = await cli('webhook', 'rotate', id);
  const newSecret = rotated.out.at(-1)!;
  expect(newSecret).toMatch(/^whsec_/);
  expect(newSecret).not.toBe(secret);

  const redelivered = await cli('webhook', 'redeliver', id, '--version', '1');
  expect(redelivered.code).toBe(0);
  expect(redelivered.out[0]).toMatch(
    /\tversion 1\tattempt 1 \(manual\)\t\d+ ms\tdelivered\tHTTP 200\t"thanks"$/,
  );
  expect(verifiedVersion(receiver.received[0]!, newSecret)).toBe(1);
  expect(verifiedVersion(receiver.received[0]!, secret)).toBe(1);

  receiver.behave(() => ({ kind: 'status', status: 500, body: 'broken' }));
  const failed = await cli('webhook', 'redeliver', id, '--version', '1');
  expect(failed.code).toBe(1);
  expect(failed.stderr).toBe('version 1 was not delivered');

  const log = await cli('webhook', 'deliveries', id);
  expect(log.out).toHaveLength(2);
  expect(log.out[0]).toContain('failed\tHTTP 500\t"broken"');
  expect(log.out[1]).toContain('delivered\tHTTP 200');

  expect((await cli('webhook', 'remove', id)).out).toEqual([`removed webhook ${id}`]);
  const gone = await cli('webhook', 'remove', id);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toBe(`webhook "${id}" not found`);
  expect((await cli('webhook', 'list', '--org', 'acme')).out).toEqual([]);
  expect((await cli('webhook', 'list', '--org', 'nope')).code).toBe(1);
  expect((await cli('webhook', 'add', '--org', 'acme')).code).toBe(2);
});
