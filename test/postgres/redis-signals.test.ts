// Commit signals through Redis: a replica that starts while Redis is away subscribes once it is back.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommitSignal } from '../../src/events/commit-signals.ts';
import { RedisSignals } from '../../src/events/redis-signals.ts';
import { until } from '../helpers.ts';
import { testRedisUrl } from '../support/databases.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Redis commit signals', () => {
  it('subscribe when Redis comes back after a start without it, and only then count as connected', async () => {
    const target = new URL(testRedisUrl);
    const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    cleanups.push(() => relay.close());
    relay.cut();
    const channel = `org_config_test_${randomUUID()}`;
    let failures = 0;
    const signals = new RedisSignals(`redis://127.0.0.1:${relay.port}`, channel, () => (failures += 1));
    cleanups.push(() => signals.close());
    const received: CommitSignal[] = [];
    signals.start((signal) => received.push(signal));

    // Several failed connection attempts: a SUBSCRIBE queued at the start has failed for good by now.
    await until(() => failures >= 6, 10_000);
    expect(signals.isConnected()).toBe(false);
    relay.restore();
    await until(() => signals.isConnected(), 10_000);
    expect(received).toContain('unknown');

    const publisher = new Redis(testRedisUrl);
    cleanups.push(() => publisher.disconnect());
    await publisher.publish(channel, 'keys');
    await until(() => received.includes('keys'));
  });
});
