// A replica that loses its database or Redis says so on /ready, recovers when they come back, and its
// subscribers resume from their last version without gaps. Only that replica's connections are cut
// (through TCP relays): the shared servers go on serving the others.
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { sseSubscribe } from '../helpers.ts';
import { testPostgresUrl, testRedisUrl } from '../support/databases.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createSharedDatabase, restPut, type SharedDatabase, startReplica } from './replica-helpers.ts';

const CHANGED = `subscription { orgConfigChanged(orgId: "demo", fields: ["branding.color"], sinceVersion: 1) { version config { branding { color } } } }`;

/** The same URL, reaching its server through the relay on `port`. */
function through(url: string, port: number): string {
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return relayed.toString();
}

async function readiness(baseUrl: string): Promise<number> {
  return (await fetch(`${baseUrl}/ready`)).status;
}

/** Polls /ready until it answers `status` (the replica notices a lost connection on its own time). */
async function untilReady(baseUrl: string, status: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readiness(baseUrl)) !== status) {
    if (Date.now() > deadline) throw new Error(`/ready did not answer ${status} in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(redis: boolean): Promise<{
  database: SharedDatabase;
  postgres: TcpProxy;
  redisRelay: TcpProxy | null;
  watched: string;
  writer: string;
}> {
  const database = await createSharedDatabase();
  cleanups.push(() => database.drop());
  const pgUrl = new URL(testPostgresUrl);
  const postgres = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  cleanups.push(() => postgres.close());
  const redisTarget = new URL(testRedisUrl);
  const redisRelay = redis
    ? await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) })
    : null;
  if (redisRelay) cleanups.push(() => redisRelay.close());
  const [watched, writer] = await Promise.all([
    // The replica under test reaches both servers through the relays...
    startReplica(children, {
      DATABASE_URL: through(database.url, postgres.port),
      ...(redisRelay ? { REDIS_URL: through(testRedisUrl, redisRelay.port) } : {}),
    }),
    // ...and the one that writes meanwhile reaches them directly.
    startReplica(children, { DATABASE_URL: database.url, ...(redis ? { REDIS_URL: testRedisUrl } : {}) }),
  ]);
  return { database, postgres, redisRelay, watched, writer };
}

describe.each([
  { carrier: 'PostgreSQL LISTEN/NOTIFY', redis: false },
  { carrier: 'Redis', redis: true },
])('a replica whose changes come through $carrier', ({ redis }) => {
  it('is not ready without its database, ready again when it returns, and its subscriber gets what was written meanwhile, in order', async () => {
    const { database, postgres, watched, writer } = await setUp(redis);
    // Ready once it listens for other replicas' commits, which may come just after it serves.
    await untilReady(watched, 200);
    const sse = await sseSubscribe(watched, CHANGED, {}, { 'x-api-key': database.keys.adviser });
    cleanups.push(async () => sse.close());
    expect((await restPut(writer, database.keys.admin, { color: '#200002' })).status).toBe(200);
    expect(JSON.parse((await sse.next(10_000)).data).data.orgConfigChanged.version).toBe(2);

    postgres.cut();
    await untilReady(watched, 503);
    for (const color of ['#200003', '#200004', '#200005'])
      expect((await restPut(writer, database.keys.admin, { color })).status).toBe(200);
    postgres.restore();
    await untilReady(watched, 200);

    const resumed = [];
    for (let index = 0; index < 3; index++)
      resumed.push(JSON.parse((await sse.next(10_000)).data).data.orgConfigChanged);
    expect(resumed.map((event) => [event.version, event.config.branding.color])).toEqual([
      [3, '#200003'],
      [4, '#200004'],
      [5, '#200005'],
    ]);
    const read = await fetch(`${watched}/api/orgs/demo/config`, {
      headers: { 'x-api-key': database.keys.adviser },
    });
    expect(read.headers.get('etag')).toBe('"v5"');
  });

  it.runIf(redis)(
    'is not ready without Redis, ready again when it returns, and its subscriber gets what was written meanwhile, in order',
    async () => {
      const { database, redisRelay, watched, writer } = await setUp(redis);
      const sse = await sseSubscribe(watched, CHANGED, {}, { 'x-api-key': database.keys.adviser });
      cleanups.push(async () => sse.close());
      expect((await restPut(writer, database.keys.admin, { color: '#300002' })).status).toBe(200);
      expect(JSON.parse((await sse.next(10_000)).data).data.orgConfigChanged.version).toBe(2);

      redisRelay!.cut();
      await untilReady(watched, 503);
      for (const color of ['#300003', '#300004'])
        expect((await restPut(writer, database.keys.admin, { color })).status).toBe(200);
      redisRelay!.restore();
      await untilReady(watched, 200);

      const resumed = [];
      for (let index = 0; index < 2; index++)
        resumed.push(JSON.parse((await sse.next(10_000)).data).data.orgConfigChanged.version);
      expect(resumed).toEqual([3, 4]);
    },
  );
});

describe('a replica whose database is away', () => {
  it('answers writes 503 STORAGE_UNAVAILABLE with Retry-After on REST and a coded error on GraphQL, then writes again once it returns', async () => {
    const { database, postgres, watched } = await setUp(false);
    await untilReady(watched, 200);
    // The admin key read once, so it is known without the database.
    const read = await fetch(`${watched}/api/orgs/demo/config`, {
      headers: { 'x-api-key': database.keys.admin },
    });
    expect(read.status).toBe(200);

    postgres.cut();
    const refused = await restPut(watched, database.keys.admin, { color: '#400001' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect((await refused.json()).code).toBe('STORAGE_UNAVAILABLE');
    const mutation = await fetch(`${watched}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': database.keys.admin },
      body: JSON.stringify({
        query: `mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#400002" } } }) { __typename } }`,
      }),
    });
    expect((await mutation.json()).errors?.[0]?.extensions?.code).toBe('STORAGE_UNAVAILABLE');
    await untilReady(watched, 503);

    postgres.restore();
    await untilReady(watched, 200);
    const written = await restPut(watched, database.keys.admin, { color: '#400003' });
    expect(written.status).toBe(200);
    expect(written.headers.get('etag')).toBe('"v2"');
  }, 60_000);
});
