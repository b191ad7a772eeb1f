// Hardening: GraphQL limits, production switches, CSRF, batching, body limits, rate limits, health, logs.

import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { createGateway, type GatewayDeps } from '../src/gateway.ts';
import { createLogger } from '../src/logging.ts';
import { createTestBackend, createTestGateway, listen, type TestGateway } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function testGateway(): Promise<TestGateway> {
  const gw = await createTestGateway();
  cleanups.push(() => gw.close());
  return gw;
}

/** A gateway with its own options (limits, production switches, a log sink) on a fresh database. */
async function customGateway(options: Partial<GatewayDeps> = {}) {
  const backend = await createTestBackend({ onError: () => undefined });
  const { store, events } = backend;
  cleanups.push(() => backend.close());
  await new ConfigService(store, events).createOrg(operator, 'demo', exampleSettings());
  const key = (await createApiKey(store, 'demo', 'admin')).key;
  const created = createGateway({ store, events, ...options });
  const server = await listen(created, { webSockets: true });
  cleanups.push(() => server.close());
  const gateway = {
    ...created,
    baseUrl: server.baseUrl,
    fetch: (url: string, init?: RequestInit) =>
      fetch(url.replace('http://gateway.test', server.baseUrl), init),
  };
  const post = (body: unknown, headers: Record<string, string> = {}, path = '/graphql') =>
    gateway.fetch(`http://gateway.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  return { store, gateway, key, post };
}

const graphql = (gw: TestGateway, query: string, headers: Record<string, string> = {}) =>
  gw.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': gw.keys.admin, ...headers },
    body: JSON.stringify({ query }),
  });

const introspectionDepth = (levels: number): string =>
  levels === 0 ? 'name' : `fields { type { ${introspectionDepth(levels - 1)} } }`;
const fullSelection =
  'version branding { name color } sla { openedConversations { range { lowerBound upperBound } } averageResponseTime { range { lowerBound } } } messages { welcome { pl en } }';

describe('GraphQL limits', () => {
  const cases: [string, () => string, number, string][] = [
    [
      'more than 15 aliases',
      () =>
        `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: orgConfig(orgId: "demo") { version }`).join(' ')} }`,
      200,
      'TOO_MANY_ALIASES',
    ],
    ['more than 2000 tokens', () => `{ ${'a '.repeat(2001)} }`, 200, 'TOO_MANY_TOKENS'],
    [
      'more than 10 directives',
      () => `{ __typename ${'@skip(if: false) '.repeat(11)} }`,
      200,
      'TOO_MANY_DIRECTIVES',
    ],
    [
      'a depth over 10',
      () => `{ __type(name: "OrgConfig") { ${introspectionDepth(5)} } }`,
      200,
      'QUERY_TOO_DEEP',
    ],
    [
      'a cost over 5000',
      () =>
        `fragment F on OrgConfig { ${fullSelection} } { ${Array.from({ length: 15 }, (_, i) => `a${i}: orgConfig(orgId: "demo") { ${'...F '.repeat(10)} }`).join(' ')} }`,
      200,
      'QUERY_TOO_COSTLY',
    ],
    ['a document over 16 KiB', () => `{ __typename } #${' '.repeat(17_000)}`, 413, 'DOCUMENT_TOO_LARGE'],
  ];

  it.each(cases)('refuses %s with a coded error, not a 500', async (_, query, status, code) => {
    const gw = await testGateway();
    const response = await graphql(gw, query());
    expect(response.status).toBe(status);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[]; data?: unknown };
    expect(body.errors.map((error) => error.extensions.code)).toContain(code);
    expect(body.data ?? null).toBeNull();
  });

  it('accepts what frontends ask: the whole configuration, a few aliases', async () => {
    const gw = await testGateway();
    const response = await graphql(
      gw,
      `{ a: orgConfig(orgId: "demo") { ${fullSelection} } b: orgConfig(orgId: "demo") { version } }`,
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
  });

  it('hides field suggestions', async () => {
    const gw = await testGateway();
    const body = await (await graphql(gw, '{ orgConfg(orgId: "demo") { version } }')).text();
    expect(body).not.toContain('Did you mean');
    expect(body).not.toContain('"orgConfig"');
  });

  it('refuses batches', async () => {
    const gw = await testGateway();
    const response = await gw.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.keys.admin },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('refuses GraphQL bodies over 1 MiB with 413', async () => {
    const gw = await testGateway();
    const response = await gw.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.keys.admin },
      body: JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(1_100_000) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('closes a WebSocket that sends a message over 1 MiB', async () => {
    const gw = await testGateway();
    const socket = new WebSocket(`${gw.baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('x'.repeat(1_100_000));
    expect(await closed).toBe(1009);
  });
});

describe('browser safety', () => {
  it('refuses a GET that a browser could send without a preflight (CSRF), and serves one with the key', async () => {
    const gw = await testGateway();
    const query = encodeURIComponent('{ orgConfig(orgId: "demo") { version } }');
    expect((await gw.fetch(`http://gateway.test/graphql?query=${query}`)).status).toBe(403);
    const withKey = await gw.fetch(`http://gateway.test/graphql?query=${query}`, {
      headers: { 'x-api-key': gw.keys.adviser, accept: 'application/json' },
    });
    expect(await withKey.json()).toEqual({ data: { orgConfig: { version: 1 } } });
  });

  it('turns introspection and GraphiQL off when asked (production)', async () => {
    const { gateway, post, key } = await customGateway({ introspection: false, graphiql: false });
    const introspection = await (
      await post({ query: '{ __schema { types { name } } }' }, { 'x-api-key': key })
    ).json();
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await gateway.fetch('http://gateway.test/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('GraphiQL');
    const data = await (
      await post({ query: '{ orgConfig(orgId: "demo") { version } }' }, { 'x-api-key': key })
    ).json();
    expect(data).toEqual({ data: { orgConfig: { version: 1 } } });
  });
});

describe('rate limits', () => {
  it('limit requests per API key: 429 with Retry-After on REST, RATE_LIMITED on GraphQL', async () => {
    const { gateway, post, key } = await customGateway({
      rateLimits: { perKeyPerMinute: 3, failedAuthPerMinute: 100 },
    });
    for (let i = 0; i < 3; i++)
      expect((await post({ query: '{ __typename }' }, { 'x-api-key': key })).status).toBe(200);
    const graphqlLimited = await post({ query: '{ __typename }' }, { 'x-api-key': key });
    expect(graphqlLimited.status).toBe(429);
    expect(Number(graphqlLimited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await graphqlLimited.json()).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
    const restLimited = await gateway.fetch('http://gateway.test/api/orgs/demo/config', {
      headers: { 'x-api-key': key },
    });
    expect(restLimited.status).toBe(429);
    expect(restLimited.headers.get('retry-after')).toBeTruthy();
    expect(await restLimited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });

  it('limit requests with unknown keys per client address, whatever key follows', async () => {
    const { gateway, key } = await customGateway({
      rateLimits: { perKeyPerMinute: 1000, failedAuthPerMinute: 3 },
    });
    const read = (apiKey: string) =>
      gateway.fetch('http://gateway.test/api/orgs/demo/config', { headers: { 'x-api-key': apiKey } });
    for (let i = 0; i < 3; i++) expect((await read(`guess-${i}`)).status).toBe(401);
    const blocked = await read(key);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBeTruthy();
  });
});

describe('health', () => {
  it('answers /health while alive and /ready while the database answers with every migration applied', async () => {
    const { gateway, store } = await customGateway();
    expect((await gateway.fetch('http://gateway.test/health')).status).toBe(200);
    expect((await gateway.fetch('http://gateway.test/ready')).status).toBe(200);
    await store.close();
    expect((await gateway.fetch('http://gateway.test/ready')).status).toBe(503);
    expect((await gateway.fetch('http://gateway.test/health')).status).toBe(200);
  });
});

describe('logs', () => {
  it('are JSON lines with a request id, without keys or configuration payloads; unexpected errors are logged with their cause and masked', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(
          ...String(chunk)
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Record<string, unknown>),
        );
        done();
      },
    });
    const { gateway, post, key, store } = await customGateway({ logger: createLogger('info', sink) });
    await post(
      {
        query:
          'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { name: "Secret Name Ltd" } } }) { __typename } }',
      },
      { 'x-api-key': key, 'x-request-id': 'req-42' },
    );
    await gateway.fetch('http://gateway.test/api/orgs/demo/config', {
      method: 'PUT',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{"welcomeMessageEn":"Private hello"}',
    });
    await store.close();
    // History is read from the database, not from the cache.
    const failed = await post(
      { query: '{ orgConfigHistory(orgId: "demo") { nodes { version } } }' },
      { 'x-api-key': key },
    );
    expect(JSON.stringify(await failed.json())).not.toContain('database');

    const text = JSON.stringify(lines);
    expect(text).not.toContain(key);
    expect(text).not.toContain('Secret Name Ltd');
    expect(text).not.toContain('Private hello');
    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const line of requests)
      expect(line).toMatchObject({
        requestId: expect.any(String),
        method: expect.any(String),
        path: expect.any(String),
        status: expect.any(Number),
      });
    expect(requests[0]).toMatchObject({ requestId: 'req-42', path: '/graphql', status: 200 });
    const unexpected = lines.find((line) => line.msg === 'unexpected error');
    // The cause, as the closed database put it (SQLite: connection not open; PostgreSQL: pool ended).
    expect(unexpected).toMatchObject({
      level: 50,
      err: { message: expect.stringMatching(/not open|after calling end/) },
    });
  });
});

describe('client addresses', () => {
  it('behind a proxy, are the last X-Forwarded-For entry, the one the proxy appended', async () => {
    const { RequestGuard } = await import('../src/edge/guard.ts');
    const gw = await testGateway();
    const request = {
      socket: { remoteAddress: '10.0.0.5' },
      headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' },
    };
    expect(
      new RequestGuard({
        store: gw.store,
        limits: { perKeyPerMinute: 1, failedAuthPerMinute: 1 },
        trustProxy: true,
      }).clientAddress(request),
    ).toBe('203.0.113.7');
    expect(
      new RequestGuard({
        store: gw.store,
        limits: { perKeyPerMinute: 1, failedAuthPerMinute: 1 },
        trustProxy: false,
      }).clientAddress(request),
    ).toBe('10.0.0.5');
  });
});

describe('the WebSocket door', () => {
  /** A raw graphql-transport-ws session on a gateway with the given options. */
  async function wsGateway(options: Partial<GatewayDeps> = {}) {
    const { gateway, key } = await customGateway(options);
    const url = `${gateway.baseUrl.replace('http', 'ws')}/graphql`;
    return { key, url };
  }

  function session(url: string, key: string | null) {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const messages: { type: string; id?: string; payload?: any }[] = [];
    const waiters: (() => void)[] = [];
    socket.on('message', (data) => {
      messages.push(JSON.parse(String(data)));
      for (const wake of waiters.splice(0)) wake();
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const opened = new Promise((resolve) => socket.once('open', resolve)).then(() =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: key ? { 'x-api-key': key } : {} })),
    );
    async function next(type: string, id?: string) {
      for (;;) {
        const index = messages.findIndex(
          (message) => message.type === type && (id === undefined || message.id === id),
        );
        if (index >= 0) return messages.splice(index, 1)[0]!;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    }
    const subscribe = (id: string, query: string) =>
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    cleanups.push(() => socket.terminate());
    return { opened, closed, next, subscribe };
  }

  it('closes a connection without a valid key (4403), and counts unknown keys against the address', async () => {
    const { url, key } = await wsGateway({ rateLimits: { perKeyPerMinute: 1000, failedAuthPerMinute: 2 } });
    for (const attempt of [null, 'wrong-1', 'wrong-2']) {
      const refused = session(url, attempt);
      expect(await refused.closed).toBe(4403);
    }
    const blocked = session(url, key); // the address is now blocked, whatever key it sends
    expect(await blocked.closed).toBe(4429);
  });

  it('rate-limits operations per key, and refuses oversized and unparsable documents with codes', async () => {
    const { url, key } = await wsGateway({ rateLimits: { perKeyPerMinute: 4, failedAuthPerMinute: 100 } });
    const ws = session(url, key);
    await ws.opened;
    await ws.next('connection_ack');
    ws.subscribe(
      'too-large',
      `subscription { orgConfigChanged(orgId: "demo") { version } } #${' '.repeat(17_000)}`,
    );
    expect((await ws.next('error', 'too-large')).payload[0].extensions.code).toBe('DOCUMENT_TOO_LARGE');
    ws.subscribe('broken', 'subscription { orgConfigChanged(');
    expect((await ws.next('error', 'broken')).payload[0].message).toMatch(/Syntax Error/);
    ws.subscribe('other-org', 'subscription { orgConfigChanged(orgId: "nope") { version } }');
    expect((await ws.next('next', 'other-org')).payload.errors[0].extensions.code).toBe('NOT_FOUND');
    ws.subscribe('fine', 'subscription { orgConfigChanged(orgId: "demo", sinceVersion: 0) { version } }');
    expect((await ws.next('next', 'fine')).payload.data.orgConfigChanged.version).toBe(1);
    ws.subscribe('limited', 'subscription { orgConfigChanged(orgId: "demo") { version } }');
    expect((await ws.next('error', 'limited')).payload[0].extensions.code).toBe('RATE_LIMITED');
  });
});
