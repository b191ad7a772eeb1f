// The edge (src/edge/edge.ts): each rule applied once per request, in its order, for every door;
// and no header of one answer reaching another.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../src/logging.ts';
import { createTestGateway, sseSubscribe, type TestGateway, until } from './helpers.ts';
import { sendRaw } from './support/raw-http.ts';

const gateways: TestGateway[] = [];
afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.close();
});

async function gateway(options: Parameters<typeof createTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await createTestGateway(options);
  gateways.push(gw);
  return gw;
}

const widgetQuery = 'query Widget($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color } } }';
const updateMutation =
  'mutation Update($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename ... on UpdateOrgConfigSuccess { config { version } } } }';

const header = (answer: { headers: [string, string][] }, name: string) =>
  answer.headers.find(([key]) => key.toLowerCase() === name)?.[1];

describe('the edge', () => {
  it('refuses a body over the limit with 413 before it looks at the key, in the format of the door asked', async () => {
    const gw = await gateway();
    const big = JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(1_100_000) });
    const graphql = await sendRaw(
      gw.baseUrl,
      'POST',
      '/graphql',
      { 'content-type': 'application/json' },
      big,
    );
    expect(graphql.status).toBe(413);
    expect(JSON.parse(graphql.body.toString())).toMatchObject({
      errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    const rest = await sendRaw(
      gw.baseUrl,
      'PUT',
      '/api/orgs/demo/config',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      big,
    );
    expect(rest.status).toBe(413);
    expect(header(rest, 'content-type')).toBe('application/problem+json');
    expect(JSON.parse(rest.body.toString())).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('counts each request once against its key, whichever door answers it (REST, a plan, yoga), then refuses with 429', async () => {
    const gw = await gateway({ rateLimits: { perKeyPerMinute: 8, failedAuthPerMinute: 100 } });
    const key = gw.keys.admin;
    const graphqlPost = (query: string, variables: object) =>
      sendRaw(
        gw.baseUrl,
        'POST',
        '/graphql',
        { 'content-type': 'application/json', 'x-api-key': key },
        JSON.stringify({ query, variables }),
      );
    const statuses = [
      (await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', { 'x-api-key': key })).status,
      (
        await sendRaw(
          gw.baseUrl,
          'PUT',
          '/api/orgs/demo/config',
          { 'x-api-key': key, 'content-type': 'application/json' },
          '{"color":"#123456"}',
        )
      ).status,
      // Yoga, then the plan it learnt, for a read and for an update.
      (await graphqlPost(widgetQuery, { orgId: 'demo' })).status,
      (await graphqlPost(widgetQuery, { orgId: 'demo' })).status,
      (
        await graphqlPost(updateMutation, {
          input: { orgId: 'demo', patch: { branding: { color: '#000001' } } },
        })
      ).status,
      (
        await graphqlPost(updateMutation, {
          input: { orgId: 'demo', patch: { branding: { color: '#000002' } } },
        })
      ).status,
      (await graphqlPost('{ __typename }', {})).status,
      (await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config/history', { 'x-api-key': key })).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    const refusedRest = await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', { 'x-api-key': key });
    expect(refusedRest.status).toBe(429);
    expect(header(refusedRest, 'retry-after')).toMatch(/^\d+$/);
    expect(JSON.parse(refusedRest.body.toString())).toMatchObject({ code: 'RATE_LIMITED' });
    const refusedGraphql = await graphqlPost(widgetQuery, { orgId: 'demo' });
    expect(refusedGraphql.status).toBe(429);
    expect(JSON.parse(refusedGraphql.body.toString())).toMatchObject({
      errors: [{ extensions: { code: 'RATE_LIMITED' } }],
    });
    // Two updates committed, once each.
    expect((await gw.store.getConfig('demo'))!.version).toBe(4);
  });

  it('refuses an address that sent too many unknown keys, whatever it sends next', async () => {
    const gw = await gateway({ rateLimits: { perKeyPerMinute: 100, failedAuthPerMinute: 2 } });
    for (let i = 0; i < 2; i++)
      expect(
        (await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', { 'x-api-key': 'wrong' })).status,
      ).toBe(401);
    const refused = await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', { 'x-api-key': gw.keys.admin });
    expect(refused.status).toBe(429);
    const socket = new WebSocket(`${gw.baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': gw.keys.admin } }));
    expect(await closed).toBe(4429);
  });

  it('logs one line per answer with its request id, which the answer carries, and never the key', async () => {
    const lines: Record<string, unknown>[] = [];
    const gw = await gateway({
      logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    const sent = [
      ['GET', '/api/orgs/demo/config', undefined],
      ['POST', '/graphql', JSON.stringify({ query: widgetQuery, variables: { orgId: 'demo' } })],
      ['POST', '/graphql', JSON.stringify({ query: widgetQuery, variables: { orgId: 'demo' } })],
      ['GET', '/nowhere', undefined],
    ] as const;
    for (const [index, [method, path, body]] of sent.entries()) {
      const answer = await sendRaw(
        gw.baseUrl,
        method,
        path,
        { 'x-api-key': gw.keys.admin, 'content-type': 'application/json', 'x-request-id': `id-${index}` },
        body,
      );
      expect(header(answer, 'x-request-id')).toBe(`id-${index}`);
    }
    const requestLines = lines.filter((line) => line.msg === 'request');
    expect(requestLines.map(({ requestId, method, path }) => [requestId, method, path])).toEqual(
      sent.map(([method, path], index) => [`id-${index}`, method, path]),
    );
    expect(JSON.stringify(lines)).not.toContain(gw.keys.admin);
  });

  it('answers a CORS preflight itself, as yoga did, and adds CORS headers to answers to an Origin', async () => {
    const gw = await gateway();
    const preflight = await sendRaw(gw.baseUrl, 'OPTIONS', '/graphql', {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-api-key',
    });
    expect(preflight.status).toBe(204);
    expect(
      Object.fromEntries(preflight.headers.map(([name, value]) => [name.toLowerCase(), value])),
    ).toMatchObject({
      'content-length': '0',
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, x-api-key',
      'access-control-allow-credentials': 'true',
      vary: 'Origin, Access-Control-Request-Headers',
    });
    const rest = await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', {
      'x-api-key': gw.keys.admin,
      origin: 'https://app.example',
      'accept-encoding': 'gzip',
    });
    expect(rest.headers.map(([name, value]) => [name.toLowerCase(), value])).toEqual([
      ['vary', 'Origin, accept-encoding'],
      ['content-type', 'application/json; charset=utf-8'],
      ['etag', '"v1"'],
      ['cache-control', 'private, no-cache'],
      ['content-encoding', 'gzip'],
      ['access-control-allow-origin', 'https://app.example'],
      ['access-control-allow-credentials', 'true'],
      ['content-length', String(rest.body.byteLength)],
      ['x-request-id', header(rest, 'x-request-id')!],
      ['connection', 'keep-alive'],
      ['keep-alive', 'timeout=5'],
    ]);
  });
});

describe('no header or other state of one request reaches another (issue 20, item 7)', () => {
  it('answers requests alternating with and without Origin, on every door, each with its own headers', async () => {
    const gw = await gateway();
    const { admin } = gw.keys;
    const json = { 'content-type': 'application/json', 'x-api-key': admin };
    let color = 0;
    /** Each door: a request, with the headers given added. */
    const doors: Record<
      string,
      (headers: Record<string, string>) => Promise<{ headers: [string, string][] }>
    > = {
      'REST read': (headers) =>
        sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', { 'x-api-key': admin, ...headers }),
      'REST 304': (headers) =>
        sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', {
          'x-api-key': admin,
          'if-none-match': '*',
          ...headers,
        }),
      'REST write': (headers) =>
        sendRaw(
          gw.baseUrl,
          'PATCH',
          '/api/orgs/demo/config',
          { ...json, ...headers },
          JSON.stringify({ color: `#0000${String(++color).padStart(2, '0')}` }),
        ),
      'REST refusal': (headers) => sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', headers),
      'GraphQL read (yoga, then its plan)': (headers) =>
        sendRaw(
          gw.baseUrl,
          'POST',
          '/graphql',
          { ...json, ...headers },
          JSON.stringify({ query: widgetQuery, variables: { orgId: 'demo' } }),
        ),
      'GraphQL update (yoga, then its plan)': (headers) =>
        sendRaw(
          gw.baseUrl,
          'POST',
          '/graphql',
          { ...json, ...headers },
          JSON.stringify({
            query: updateMutation,
            variables: {
              input: {
                orgId: 'demo',
                patch: { branding: { color: `#0001${String(++color).padStart(2, '0')}` } },
              },
            },
          }),
        ),
      'GraphQL through yoga': (headers) =>
        sendRaw(
          gw.baseUrl,
          'POST',
          '/graphql',
          { ...json, ...headers },
          JSON.stringify({ query: '{ __typename }' }),
        ),
      GraphiQL: (headers) => sendRaw(gw.baseUrl, 'GET', '/graphql', { accept: 'text/html', ...headers }),
      health: (headers) => sendRaw(gw.baseUrl, 'GET', '/health', headers),
      'not found': (headers) => sendRaw(gw.baseUrl, 'GET', '/nowhere', headers),
      SSE: async (headers) => {
        const controller = new AbortController();
        const response = await fetch(`${gw.baseUrl}/graphql`, {
          method: 'POST',
          headers: { ...json, accept: 'text/event-stream', ...headers },
          body: JSON.stringify({ query: 'subscription { orgConfigChanged(orgId: "demo") { version } }' }),
          signal: controller.signal,
        });
        const pairs = [...response.headers] as [string, string][];
        controller.abort();
        return { headers: pairs };
      },
    };
    const namesNoOrganisation = new Set(['GraphiQL', 'health', 'not found']);
    for (const [door, send] of Object.entries(doors)) {
      for (const origin of [
        'https://one.example',
        undefined,
        'https://two.example',
        undefined,
        'https://one.example',
        undefined,
      ]) {
        const answer = await send(origin ? { origin } : {});
        const allowed = header(answer, 'access-control-allow-origin');
        const credentials = header(answer, 'access-control-allow-credentials');
        const vary = header(answer, 'vary') ?? '';
        if (origin) {
          // An answer naming no organisation (no key, no organisation in its path) allows no origin.
          const allowing = !namesNoOrganisation.has(door);
          expect([door, allowed, credentials]).toEqual(
            allowing ? [door, origin, 'true'] : [door, undefined, undefined],
          );
          expect([door, vary.startsWith('Origin')]).toEqual([door, true]);
        } else {
          expect([door, allowed, credentials, vary.includes('Origin')]).toEqual([
            door,
            undefined,
            undefined,
            false,
          ]);
        }
      }
    }
    // The WebSocket door: each connection authenticated by its own connection_init.
    const sessions = [admin, 'not-a-key', admin].map(async (key) => {
      const socket = new WebSocket(`${gw.baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
        headers: { origin: 'https://one.example' },
      });
      await new Promise((resolve) => socket.once('open', resolve));
      const first = new Promise<string>((resolve) => {
        socket.once('message', (data) => resolve(JSON.parse(String(data)).type));
        socket.once('close', (code) => resolve(String(code)));
      });
      socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } }));
      const outcome = await first;
      socket.terminate();
      return outcome;
    });
    expect(await Promise.all(sessions)).toEqual(['connection_ack', '4403', 'connection_ack']);
  });

  it('keeps each SSE subscriber to its own request: one without Origin after one with it gets no CORS headers', async () => {
    const gw = await gateway();
    const query = 'subscription { orgConfigChanged(orgId: "demo") { version } }';
    const withOrigin = await sseSubscribe(
      gw.baseUrl,
      query,
      {},
      { 'x-api-key': gw.keys.admin, origin: 'https://one.example' },
    );
    const without = await fetch(`${gw.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'x-api-key': gw.keys.admin,
      },
      body: JSON.stringify({ query }),
    });
    expect(without.headers.get('access-control-allow-origin')).toBeNull();
    await without.body?.cancel();
    withOrigin.close();
    await until(() => gw.events.subscriberCount('demo') === 0);
  });
});
