// The GraphQL read fast path answers exactly as yoga does, only for reads of the caller's own
// configuration that yoga has run once, and leaves everything else to yoga.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashApiKey } from '../src/auth/api-keys.ts';
import { openStore } from '../src/backend.ts';
import { createLogger } from '../src/logging.ts';
import { createTestGateway, listen, type TestGateway } from './helpers.ts';
import { sendRaw, servedBothWays } from './support/raw-http.ts';

const post = (baseUrl: string, body: string, headers: Record<string, string>, path = '/graphql') =>
  sendRaw(baseUrl, 'POST', path, { 'content-type': 'application/json', ...headers }, body);

let gw: TestGateway;
let logLines: Record<string, unknown>[];
let servers: Awaited<ReturnType<typeof servedBothWays>>;

beforeAll(async () => {
  logLines = [];
  const logger = createLogger('info', {
    write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>),
  });
  gw = await createTestGateway({
    logger,
    rateLimits: { perKeyPerMinute: 10_000, failedAuthPerMinute: 1_000 },
  });
  servers = await servedBothWays(gw.gateway);
});

afterAll(async () => {
  await servers.close();
  await gw.close();
});

/** The same request through yoga alone and through the fast path. */
async function both(body: string, headers: Record<string, string>, path?: string) {
  return servers.both((baseUrl) => post(baseUrl, body, headers, path));
}

const widgetQuery =
  'query Widget($orgId: ID!) { orgConfig(orgId: $orgId) { branding { name color } messages { welcome { pl en } } website { phonePrefix } } }';
const widget = JSON.stringify({ query: widgetQuery, variables: { orgId: 'demo' } });

describe('POST /graphql reads on the fast path', () => {
  it('leaves an operation to yoga until yoga has run it once, then answers it itself', async () => {
    const first = await both(widget, { 'x-api-key': gw.keys.adviser, 'x-request-id': 'learn' });
    expect(first.fellThrough).toBe(true);
    const second = await both(widget, { 'x-api-key': gw.keys.adviser, 'x-request-id': 'learnt' });
    expect(second.fellThrough).toBe(false);
    expect(second.viaFastPath.body.toString()).toContain('"color":"#fe7f00"');
  });

  const cases: [string, string, Record<string, string>][] = [
    ['no Accept', widget, {}],
    ['Accept: application/json', widget, { accept: 'application/json' }],
    ['Accept: */*', widget, { accept: '*/*' }],
    ['Accept: application/graphql-response+json', widget, { accept: 'application/graphql-response+json' }],
    [
      'Accept: graphql-response+json, then json',
      widget,
      { accept: 'application/graphql-response+json, application/json' },
    ],
    ['CORS from a browser origin', widget, { origin: 'https://app.example' }],
    ['charset in Content-Type', widget, { 'content-type': 'application/json; charset=utf-8' }],
    [
      'the whole configuration, literal orgId, aliases and __typename',
      JSON.stringify({
        query:
          '{ __typename mine: orgConfig(orgId: "demo") { orgId version updatedAt workingHours { offsetSeconds durationSeconds } sla { openedConversations { range { lowerBound upperBound } } } features { cobrowseEnabled } lifecycle { defaultStatusAfterLogin } } again: orgConfig(orgId: "demo") { version } }',
      }),
      {},
    ],
    [
      'one operation of several, by name, with fragments',
      JSON.stringify({
        query:
          'query A { orgConfig(orgId: "demo") { version } } query B($o: ID!) { orgConfig(orgId: $o) { ...Brand } } fragment Brand on OrgConfig { branding { name } }',
        operationName: 'B',
        variables: { o: 'demo' },
      }),
      { accept: 'application/graphql-response+json' },
    ],
  ];
  for (const [name, body, headers] of cases) {
    it(`answers byte for byte as yoga does: ${name}`, async () => {
      const sent = { 'x-api-key': gw.keys.adviser, 'x-request-id': 'same-id', ...headers };
      await post(servers.fast.baseUrl, body, sent); // yoga runs it once, and the fast path learns it
      const { viaYoga, viaFastPath, fellThrough } = await both(body, sent);
      expect(viaYoga.status).toBe(200);
      expect(fellThrough).toBe(false);
      expect(viaFastPath.status).toBe(viaYoga.status);
      expect(viaFastPath.headers).toEqual(viaYoga.headers);
      expect(viaFastPath.body.equals(viaYoga.body)).toBe(true);
    });
  }

  it("leaves to yoga what is not a read of the caller's own configuration, twice (nothing is learnt), with the same answers", async () => {
    const adviser = { 'x-api-key': gw.keys.adviser };
    const handedOver: [string, string, Record<string, string>][] = [
      [
        'another organisation',
        JSON.stringify({ query: widgetQuery, variables: { orgId: 'other' } }),
        adviser,
      ],
      // A body the fast path answers for the adviser's key: another organisation's key may not reuse it.
      [
        "another organisation's key, with a body the fast path answers",
        widget,
        { 'x-api-key': gw.keys.otherAdmin },
      ],
      ['an unknown key', widget, { 'x-api-key': 'not-a-key' }],
      ['no key', widget, {}],
      [
        'a mutation',
        JSON.stringify({
          query:
            'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#fe7f00" } } }) { __typename } }',
        }),
        { 'x-api-key': gw.keys.admin },
      ],
      ['introspection', JSON.stringify({ query: '{ __schema { queryType { name } } }' }), adviser],
      [
        'another root field',
        JSON.stringify({
          query:
            '{ orgConfig(orgId: "demo") { version } orgConfigHistory(orgId: "demo", first: 1) { totalCount } }',
        }),
        adviser,
      ],
      ['a missing variable', JSON.stringify({ query: widgetQuery }), adviser],
      [
        'a variable of the wrong type',
        JSON.stringify({ query: widgetQuery, variables: { orgId: 7 } }),
        adviser,
      ],
      [
        'a defaulted variable',
        JSON.stringify({ query: 'query ($o: ID! = "demo") { orgConfig(orgId: $o) { version } }' }),
        adviser,
      ],
      [
        'extensions',
        JSON.stringify({
          query: widgetQuery,
          variables: { orgId: 'demo' },
          extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } },
        }),
        adviser,
      ],
      ['a syntax error', JSON.stringify({ query: '{ orgConfig(orgId: "demo") { version ' }), adviser],
      ['an unknown field', JSON.stringify({ query: '{ orgConfig(orgId: "demo") { nope } }' }), adviser],
      ['not JSON', '{"query": ', adviser],
      ['an Accept the fast path does not take', widget, { ...adviser, accept: 'text/event-stream' }],
      [
        'a CORS preflight question',
        widget,
        { ...adviser, origin: 'https://app.example', 'access-control-request-headers': 'x-api-key' },
      ],
    ];
    for (const [name, body, headers] of handedOver) {
      for (const attempt of [1, 2]) {
        const { viaYoga, viaFastPath, fellThrough } = await both(body, {
          'x-request-id': 'handed-over',
          ...headers,
        });
        expect({ name, attempt, fellThrough }).toEqual({ name, attempt, fellThrough: true });
        expect({ name, status: viaFastPath.status }).toEqual({ name, status: viaYoga.status });
        expect({ name, body: viaFastPath.body.toString() }).toEqual({ name, body: viaYoga.body.toString() });
      }
    }
  });

  it('answers a key that alternates between bodies, and keys that share a body, each as yoga does', async () => {
    const version = JSON.stringify({ query: '{ orgConfig(orgId: "demo") { version } }' });
    for (const body of [widget, version])
      await post(servers.fast.baseUrl, body, { 'x-api-key': gw.keys.adviser }); // learnt
    const turns: [string, string][] = [
      [gw.keys.adviser, widget],
      [gw.keys.adviser, version],
      [gw.keys.admin, widget],
      [gw.keys.adviser, widget],
      [gw.keys.admin, version],
      [gw.keys.adviser, version],
    ];
    for (const [key, body] of turns) {
      const { viaYoga, viaFastPath, fellThrough } = await both(body, {
        'x-api-key': key,
        'x-request-id': 'in-turn',
      });
      expect(fellThrough).toBe(false);
      expect(viaFastPath.body.equals(viaYoga.body)).toBe(true);
    }
  });

  it('logs each answer with its request id, as yoga does', async () => {
    await post(servers.fast.baseUrl, widget, { 'x-api-key': gw.keys.adviser });
    await post(servers.fast.baseUrl, widget, {
      'x-api-key': gw.keys.adviser,
      'x-request-id': 'logged-on-the-fast-path',
    });
    const line = logLines.find((entry) => entry.requestId === 'logged-on-the-fast-path');
    expect(line).toMatchObject({ msg: 'request', method: 'POST', path: '/graphql', status: 200 });
    expect(typeof line!.ms).toBe('number');
    expect(JSON.stringify(line)).not.toContain(gw.keys.adviser);
  });

  it('answers the new version at once after a change', async () => {
    const read = JSON.stringify({ query: '{ orgConfig(orgId: "demo") { version branding { color } } }' });
    await post(servers.fast.baseUrl, read, { 'x-api-key': gw.keys.adviser });
    const before = JSON.parse(
      (await post(servers.fast.baseUrl, read, { 'x-api-key': gw.keys.adviser })).body.toString(),
    ).data.orgConfig;
    const change = JSON.stringify({
      query:
        'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#123456" } } }) { __typename } }',
    });
    expect((await post(servers.fast.baseUrl, change, { 'x-api-key': gw.keys.admin })).status).toBe(200);
    const callsBefore = servers.yogaCalls();
    const after = JSON.parse(
      (await post(servers.fast.baseUrl, read, { 'x-api-key': gw.keys.adviser })).body.toString(),
    ).data.orgConfig;
    expect(servers.yogaCalls()).toBe(callsBefore);
    expect(after).toEqual({ version: before.version + 1, branding: { color: '#123456' } });
  });

  it('stops answering for a key once it is revoked, wherever it was revoked', async () => {
    const own = await createTestGateway();
    const server = await listen(own.gateway);
    try {
      const ask = () => post(server.baseUrl, widget, { 'x-api-key': own.keys.adviser });
      expect((await ask()).status).toBe(200);
      expect(JSON.parse((await ask()).body.toString()).data.orgConfig.branding.color).toBe('#fe7f00');
      const [adviserKey] = (await own.store.listApiKeys('demo')).filter((key) => key.role === 'adviser');
      // Revoked by another connection to the database, as the CLI does: the change feed tells the cache.
      const cli = await openStore({ databaseUrl: own.databaseUrl }, (error) => console.error(error));
      expect(await cli.revokeApiKey(adviserKey!.id)).toBe(true);
      await cli.close();
      await vi.waitFor(() =>
        expect(own.gateway.cache!.peekApiKey(hashApiKey(own.keys.adviser))).toBeUndefined(),
      );
      const refused = JSON.parse((await ask()).body.toString());
      expect(refused.data?.orgConfig ?? null).toBeNull();
      expect(refused.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual([
        'UNAUTHENTICATED',
      ]);
    } finally {
      await server.close();
      await own.close();
    }
  });
});

describe('the GraphQL fast path and the rate limit', () => {
  it('shares the per-key limit with yoga and the REST fast path', async () => {
    const limited = await createTestGateway({
      rateLimits: { perKeyPerMinute: 4, failedAuthPerMinute: 1_000 },
    });
    const server = await listen(limited.gateway);
    try {
      const ask = () => post(server.baseUrl, widget, { 'x-api-key': limited.keys.adviser });
      const rest = () =>
        fetch(`${server.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': limited.keys.adviser } });
      expect((await ask()).status).toBe(200); // through yoga: learnt
      expect((await ask()).status).toBe(200); // fast path
      expect((await rest()).status).toBe(200);
      expect((await ask()).status).toBe(200);
      const refused = await ask();
      expect(refused.status).toBe(429);
      expect(refused.headers.map(([name]) => name)).toContain('retry-after');
    } finally {
      await server.close();
      await limited.close();
    }
  });
});
