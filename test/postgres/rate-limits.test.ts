// With Redis, replicas count rate limits together; while Redis is away, each counts for itself.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/auth/actor.ts';
import { openBackend } from '../../src/backend.ts';
import { RequestGuard } from '../../src/edge/guard.ts';
import type { ConfigStore } from '../../src/store/config-store.ts';
import { createPostgresSchema, testRedisUrl } from '../support/databases.ts';

const clients: Redis[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

function redisClient(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/** A replica's guard: the rate limits as each gateway process builds them (no store needed to count). */
function replicaGuard(client: Redis, prefix: string): RequestGuard {
  return new RequestGuard({
    store: {} as ConfigStore,
    limits: { perKeyPerMinute: 5, failedAuthPerMinute: 5 },
    trustProxy: false,
    shared: { client, prefix },
  });
}

const actor: Actor = {
  kind: 'apiKey',
  keyId: `key_${randomUUID().slice(0, 12)}`,
  keyHash: 'unused',
  groups: null,
  expiresAt: null,
  orgId: 'demo',
  role: 'admin',
};

describe('rate limits with Redis', () => {
  it('are counted across replicas: a key gets its limit once, not once per replica', async () => {
    const prefix = `test-${randomUUID()}`;
    const client = redisClient(testRedisUrl);
    await new Promise((resolve) => client.once('ready', resolve));
    const [first, second] = [replicaGuard(client, prefix), replicaGuard(redisClient(testRedisUrl), prefix)];
    await new Promise((resolve) => clients[1]!.once('ready', resolve));
    for (const guard of [first, first, first, second, second])
      expect(await guard.keyThrottled(actor)).toBeNull();
    expect(await second.keyThrottled(actor)).toMatchObject({ reason: 'too many requests with this API key' });
    expect(await first.keyThrottled(actor)).toMatchObject({ reason: 'too many requests with this API key' });
  });

  it('still hold in each replica while Redis cannot be reached', async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    const guard = replicaGuard(redisClient('redis://127.0.0.1:1'), `test-${randomUUID()}`);
    for (let request = 0; request < 5; request++) expect(await guard.keyThrottled(actor)).toBeNull();
    expect(await guard.keyThrottled(actor)).toMatchObject({ reason: 'too many requests with this API key' });
  });
});

describe('RATE_LIMITS_IN_REDIS', () => {
  it('decides whether a backend with Redis shares its rate limits', async () => {
    const { url, drop } = await createPostgresSchema();
    try {
      for (const rateLimitsInRedis of [true, false]) {
        const backend = await openBackend(
          { databaseUrl: url, redisUrl: testRedisUrl, rateLimitsInRedis },
          { onError: () => undefined },
        );
        expect(backend.sharedRateLimits !== undefined).toBe(rateLimitsInRedis);
        await backend.close();
      }
    } finally {
      await drop();
    }
  });
});
