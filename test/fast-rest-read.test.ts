// The REST read fast path answers exactly as yoga's path does, and leaves everything else to yoga.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/api-keys.ts';
import { createLogger } from '../src/logging.ts';
import { createTestGateway, listen, type TestGateway } from './helpers.ts';
import { countingYogaCalls, sendRaw, servedBothWays } from './support/raw-http.ts';

const send = (baseUrl: string, path: string, headers: Record<string, string>) =>
  sendRaw(baseUrl, 'GET', path, headers);

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
    rateLimits: { perKeyPerMinute: 1_000, failedAuthPerMinute: 1_000 },
  });
  servers = await servedBothWays(gw.gateway);
});

afterAll(async () => {
  await servers.close();
  await gw.close();
});

/** The same request through yoga alone and through the fast path. */
async function both(path: string, headers: Record<string, string>) {
  return servers.both((baseUrl) => send(baseUrl, path, headers));
}

const path = '/api/orgs/demo/config';

describe('GET /api/orgs/{orgId}/config on the fast path', () => {
  const cases: [string, Record<string, string>, number][] = [
    ['plain', {}, 200],
    ['gzip', { 'accept-encoding': 'gzip, deflate, br' }, 200],
    ['br', { 'accept-encoding': 'br' }, 200],
    ['identity only', { 'accept-encoding': 'identity' }, 200],
    ['304 for the current ETag', { 'if-none-match': '"v1"' }, 304],
    ['304, weak ETag among others', { 'if-none-match': '"v0", W/"v1"', 'accept-encoding': 'gzip' }, 304],
    ['200 for an old ETag', { 'if-none-match': '"v0"', 'accept-encoding': 'br' }, 200],
    ['CORS from a browser origin', { origin: 'https://app.example', 'accept-encoding': 'gzip' }, 200],
    ['CORS, 304', { origin: 'https://app.example', 'if-none-match': '"v1"' }, 304],
  ];
  for (const [name, headers, status] of cases) {
    it(`answers byte for byte as yoga does: ${name}`, async () => {
      const sent = { 'x-api-key': gw.keys.adviser, 'x-request-id': `same-id-${status}`, ...headers };
      const { viaYoga, viaFastPath, fellThrough } = await both(path, sent);
      expect(viaYoga.status).toBe(status);
      expect(fellThrough).toBe(false);
      expect(viaFastPath.status).toBe(viaYoga.status);
      expect(viaFastPath.headers).toEqual(viaYoga.headers);
      expect(viaFastPath.body.equals(viaYoga.body)).toBe(true);
    });
  }

  it('leaves a wrong key, another organisation, a query and a preflight question to yoga, which answers as without it', async () => {
    const refused: [string, Record<string, string>, number][] = [
      [path, { 'x-api-key': 'not-a-key' }, 401],
      ['/api/orgs/other/config', { 'x-api-key': gw.keys.adviser }, 404],
      [`${path}?fields=all`, { 'x-api-key': gw.keys.adviser }, 200],
      [
        path,
        {
          'x-api-key': gw.keys.adviser,
          origin: 'https://app.example',
          'access-control-request-headers': 'x-api-key',
        },
        200,
      ],
    ];
    for (const [requestPath, headers, status] of refused) {
      const { viaYoga, viaFastPath, fellThrough } = await both(requestPath, {
        'x-request-id': 'fell-through',
        ...headers,
      });
      expect(viaYoga.status).toBe(status);
      expect(fellThrough).toBe(true);
      expect(viaFastPath.status).toBe(viaYoga.status);
      expect(viaFastPath.headers).toEqual(viaYoga.headers);
    }
  });

  it('answers a key and a configuration not cached yet, reading them into the cache', async () => {
    const cold = await createTestGateway();
    const counted = countingYogaCalls(cold.gateway);
    const server = await listen(counted.gateway);
    try {
      expect(cold.gateway.cache!.peekApiKey(hashApiKey(cold.keys.adviser))).toBeUndefined();
      const first = await send(server.baseUrl, path, { 'x-api-key': cold.keys.adviser });
      expect(first.status).toBe(200);
      expect(first.headers).toContainEqual(['etag', '"v1"']);
      expect(counted.calls()).toBe(0);
      expect(cold.gateway.cache!.peekApiKey(hashApiKey(cold.keys.adviser))).toBeDefined();
    } finally {
      await server.close();
      await cold.close();
    }
  });

  it('logs each answer with its request id, as yoga does', async () => {
    await send(servers.fast.baseUrl, path, {
      'x-api-key': gw.keys.adviser,
      'x-request-id': 'logged-on-the-fast-path',
    });
    const line = logLines.find((entry) => entry.requestId === 'logged-on-the-fast-path');
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path, status: 200 });
    expect(typeof line!.ms).toBe('number');
    expect(JSON.stringify(line)).not.toContain(gw.keys.adviser);
  });

  it('answers the new version at once after a change', async () => {
    const response = await fetch(`${servers.fast.baseUrl}${path}`, {
      method: 'PUT',
      headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ color: '#123456' }),
    });
    expect(response.status).toBe(200);
    const after = await send(servers.fast.baseUrl, path, { 'x-api-key': gw.keys.adviser });
    expect(after.headers).toContainEqual(['etag', '"v2"']);
    expect(JSON.parse(after.body.toString('utf8')).color).toBe('#123456');
  });
});

describe('the fast path and the rate limit', () => {
  it('shares the per-key limit with yoga', async () => {
    const limited = await createTestGateway({
      rateLimits: { perKeyPerMinute: 4, failedAuthPerMinute: 1_000 },
    });
    const server = await listen(limited.gateway);
    try {
      const get = () => send(server.baseUrl, path, { 'x-api-key': limited.keys.adviser });
      const graphql = () =>
        fetch(`${server.baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': limited.keys.adviser },
          body: JSON.stringify({ query: '{ orgConfig(orgId: "demo") { version } }' }),
        });
      expect((await get()).status).toBe(200); // through yoga: fills the caches
      expect((await get()).status).toBe(200); // fast path
      expect((await graphql()).status).toBe(200);
      expect((await get()).status).toBe(200);
      const refused = await get();
      expect(refused.status).toBe(429);
      expect(refused.headers.map(([name]) => name)).toContain('retry-after');
    } finally {
      await server.close();
      await limited.close();
    }
  });
});
