// Three gateway processes on one PostgreSQL: changes fan out across them (through PostgreSQL, or Redis),
// exactly once and in order; concurrent writes through different replicas all land; conflicts are seen across them.
import type { ChildProcess } from 'node:child_process';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exited, sseSubscribe, startGatewayProcess } from '../helpers.ts';
import { createPostgresSchema, testRedisUrl } from '../support/databases.ts';
import { createSharedDatabase, restPut, type SharedDatabase, startReplica } from './replica-helpers.ts';

const CHANGED = `subscription ($sinceVersion: Int) {
  orgConfigChanged(orgId: "demo", fields: ["branding.color"], sinceVersion: $sinceVersion) { version config { version branding { color } } }
}`;

/** The version an ETag ("v12") names. */
const versionIn = (etag: string | null) => Number(/^"v(\d+)"$/.exec(etag ?? '')?.[1]);

async function versionOf(replica: string, key: string): Promise<number> {
  const response = await fetch(`${replica}/api/orgs/demo/config`, {
    method: 'HEAD',
    headers: { 'x-api-key': key },
  });
  return versionIn(response.headers.get('etag'));
}

const colors = ['#100001', '#100002', '#100003', '#100004', '#100005'];

describe.each([
  { carrier: 'PostgreSQL LISTEN/NOTIFY', redis: false },
  { carrier: 'Redis', redis: true },
])('three replicas, changes carried by $carrier', ({ redis }) => {
  const children: ChildProcess[] = [];
  const wsClients: WsClient[] = [];
  let database: SharedDatabase;
  let replicas: string[];

  beforeAll(async () => {
    database = await createSharedDatabase();
    const env = { DATABASE_URL: database.url, ...(redis ? { REDIS_URL: testRedisUrl } : {}) };
    // Started together: one migrates (nothing left to do here) while the others wait, and all serve.
    replicas = await Promise.all([
      startReplica(children, env),
      startReplica(children, env),
      startReplica(children, env),
    ]);
  });
  afterAll(async () => {
    for (const client of wsClients) await client.dispose();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await database.drop();
  });

  it('a change written through replica 1 reaches SSE subscribers on replica 2 and WebSocket subscribers on replica 3 exactly once, in order; their next read has it', async () => {
    const [first, second, third] = replicas as [string, string, string];
    const since = await versionOf(first, database.keys.adviser);
    // sinceVersion makes the subscriptions start from a known version, however soon the writes come.
    const sse = await sseSubscribe(
      second,
      CHANGED,
      { sinceVersion: since },
      { 'x-api-key': database.keys.adviser },
    );
    expect(sse.status).toBe(200);
    const ws = createWsClient({
      url: `${third.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { 'x-api-key': database.keys.adviser },
      lazy: false,
      retryAttempts: 0,
    });
    wsClients.push(ws);
    const wsEvents = ws.iterate<{
      orgConfigChanged: { version: number; config: { branding: { color: string } } };
    }>({ query: CHANGED, variables: { sinceVersion: since } });

    for (const color of colors)
      expect((await restPut(first, database.keys.admin, { color })).status).toBe(200);

    const sseSeen: [number, string][] = [];
    const wsSeen: [number, string][] = [];
    for (let index = 0; index < colors.length; index++) {
      const event = JSON.parse((await sse.next(10_000)).data).data.orgConfigChanged;
      sseSeen.push([event.version, event.config.branding.color]);
      const wsEvent = (await wsEvents.next()).value!.data!.orgConfigChanged;
      wsSeen.push([wsEvent.version, wsEvent.config.branding.color]);
    }
    const expected = colors.map((color, index): [number, string] => [since + 1 + index, color]);
    expect(sseSeen).toEqual(expected);
    expect(wsSeen).toEqual(expected);

    // The replicas that delivered the change read it too (their caches heard of it first).
    for (const replica of [second, third]) {
      const read = await fetch(`${replica}/api/orgs/demo/config`, {
        headers: { 'x-api-key': database.keys.adviser },
      });
      expect(read.headers.get('etag')).toBe(`"v${since + colors.length}"`);
      expect(((await read.json()) as { color: string }).color).toBe(colors.at(-1));
    }

    // Exactly once: the next event is the next change, not a repeat of an earlier one.
    expect((await restPut(third, database.keys.admin, { color: '#1000ff' })).status).toBe(200);
    expect(JSON.parse((await sse.next(10_000)).data).data.orgConfigChanged.version).toBe(
      since + colors.length + 1,
    );
    expect((await wsEvents.next()).value!.data!.orgConfigChanged.version).toBe(since + colors.length + 1);
    sse.close();
  });

  it('applies every one of concurrent updates sent through all three replicas, and sees If-Match conflicts across them', async () => {
    const [first, second] = replicas as [string, string, string];
    const before = { version: await versionOf(first, database.keys.adviser) };
    const perReplica = 15;
    const writes = replicas.flatMap((replica, r) =>
      Array.from({ length: perReplica }, (_, i) =>
        restPut(replica, database.keys.admin, {
          messageMaxAllowedCharactersForClient: 100 + r * perReplica + i,
        }),
      ),
    );
    const responses = await Promise.all(writes);
    expect(responses.map((response) => response.status)).toEqual(writes.map(() => 200));
    const versions = responses.map((response) => versionIn(response.headers.get('etag')));
    // Each write answered with the version it made: all different, none lost.
    expect(new Set(versions).size).toBe(writes.length);
    expect(Math.max(...versions)).toBe(before.version + writes.length);

    const history = (await (
      await fetch(`${second}/api/orgs/demo/config/history?limit=100`, {
        headers: { 'x-api-key': database.keys.admin },
      })
    ).json()) as {
      revisions: { version: number }[];
    };
    const recent = history.revisions
      .filter((revision) => revision.version > before.version)
      .map((revision) => revision.version);
    expect(recent.sort((a, b) => a - b)).toEqual(
      Array.from({ length: writes.length }, (_, i) => before.version + 1 + i),
    );

    // A client holding the ETag it read from replica 2 is refused once replica 1 has written.
    const read = await fetch(`${second}/api/orgs/demo/config`, {
      headers: { 'x-api-key': database.keys.admin },
    });
    const etag = read.headers.get('etag')!;
    expect(
      (await restPut(first, database.keys.admin, { welcomeMessageEn: 'Hello from replica 1' })).status,
    ).toBe(200);
    const stale = await restPut(
      second,
      database.keys.admin,
      { welcomeMessageEn: 'Hello from replica 2' },
      { 'if-match': etag },
    );
    expect(stale.status).toBe(412);
  });
});

describe('replicas starting together on an empty database', () => {
  const children: ChildProcess[] = [];

  it('migrate once, seed the demo organisation once, and print its key once; the start line hides the password', async () => {
    const { url, drop } = await createPostgresSchema();
    try {
      // Trust authentication ignores the password; it is here to be hidden.
      const withPassword = url.replace('postgres://postgres@', 'postgres://postgres:s3cret@');
      const started = await Promise.all(
        [1, 2].map(() => startGatewayProcess({ DATABASE_URL: withPassword, LOG_LEVEL: 'error' }, children)),
      );
      const seeded = started.filter(({ output }) => output.includes('Created the organisation "demo"'));
      expect(seeded).toHaveLength(1);
      for (const { output } of started) {
        expect(output).not.toContain('s3cret');
        expect(output).toContain('postgres://postgres:***@');
      }
      const key = /^ {2}([0-9a-f-]{36})$/m.exec(seeded[0]!.output)![1]!;
      for (const { baseUrl } of started) {
        const read = await fetch(`${baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': key } });
        expect(read.status).toBe(200);
      }
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map(exited));
      await drop();
    }
  });
});
