// Three gateway processes on one PostgreSQL deliver webhooks: each endpoint by one replica at a time, every change
// in version order, at least once, through a receiver that fails on purpose and a replica stopping midway.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exited } from '../helpers.ts';
import { type Receiver, startReceiver, verifiedVersion } from '../support/webhook-receiver.ts';
import { createSharedDatabase, restPut, type SharedDatabase, startReplica } from './replica-helpers.ts';

const children: ChildProcess[] = [];
let database: SharedDatabase;
let receiver: Receiver;
let replicas: string[];

beforeAll(async () => {
  database = await createSharedDatabase();
  receiver = await startReceiver();
  const env = {
    DATABASE_URL: database.url,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    WEBHOOK_POLL_MS: '50',
    WEBHOOK_RETRY_BASE_MS: '20',
    WEBHOOK_RETRY_MAX_MS: '200',
    WEBHOOK_TIMEOUT_MS: '2000',
  };
  replicas = await Promise.all([
    startReplica(children, env),
    startReplica(children, env),
    startReplica(children, env),
  ]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map(exited));
  await receiver.close();
  await database.drop();
});

const CREATE = `mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) { ... on CreateWebhookSuccess { secret webhook { webhookId deliveredVersion } } }
}`;

async function createWebhook(replica: string, path: string) {
  const response = await fetch(`${replica}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': database.keys.admin },
    body: JSON.stringify({
      query: CREATE,
      variables: { input: { orgId: 'demo', url: `${receiver.baseUrl}${path}` } },
    }),
  });
  return (
    (await response.json()) as {
      data: { createWebhook: { secret: string; webhook: { deliveredVersion: number } } };
    }
  ).data.createWebhook;
}

it('deliver each endpoint from one replica at a time, every change in version order, while a replica stops midway', async () => {
  const paths = ['/a', '/b', '/c'];
  const created = await Promise.all(paths.map((path, index) => createWebhook(replicas[index]!, path)));
  const start = created[0]!.webhook.deliveredVersion;
  // Every fourth request fails, and answers take a little while: retries and leases overlap across the replicas.
  receiver.behave((_path, index) =>
    index % 4 === 3 ? { kind: 'status', status: 500 } : { kind: 'ok', delayMs: 5 + (index % 3) * 5 },
  );
  const changes = 20;
  for (let index = 0; index < changes; index++) {
    // Replica 2 stops halfway: its leases are let go and the others take its endpoints over.
    if (index === changes / 2) {
      children[1]!.kill('SIGTERM');
      await exited(children[1]!);
    }
    const replica = index >= changes / 2 && index % 3 === 1 ? replicas[0]! : replicas[index % 3]!;
    expect(
      (await restPut(replica, database.keys.admin, { color: `#20${(0x1000 + index).toString(16)}` })).status,
    ).toBe(200);
  }
  const expected = Array.from({ length: changes }, (_, index) => start + 1 + index);
  const firstAcknowledged = (path: string, secret: string) => {
    const seen: number[] = [];
    for (const entry of receiver.acknowledged(path)) {
      const version = verifiedVersion(entry, secret);
      if (!seen.includes(version)) seen.push(version);
    }
    return seen;
  };
  await receiver.waitFor(
    () => paths.every((path, index) => firstAcknowledged(path, created[index]!.secret).length >= changes),
    45_000,
  );
  for (const [index, path] of paths.entries()) {
    expect(firstAcknowledged(path, created[index]!.secret)).toEqual(expected);
    // Never two requests to one endpoint at once, whichever replicas sent them.
    expect(receiver.maxInFlight.get(path)).toBe(1);
  }
}, 60_000);
