// The REST write fast path answers exactly as yoga's path does, and leaves everything else to yoga.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging.ts';
import { createTestGateway, listen, type TestGateway } from './helpers.ts';
import { countingYogaCalls, sendRaw as send, writeRefusedBothWays } from './support/raw-http.ts';

/** Two gateways on databases built alike: one served without the write fast path, one with it (counting what reaches yoga). */
let viaYoga: TestGateway;
let viaFast: TestGateway;
let slow: { baseUrl: string; close: () => Promise<void> };
let fast: { baseUrl: string; close: () => Promise<void> };
let yogaCalls: () => number;
let fastLog: Record<string, unknown>[];

beforeAll(async () => {
  fastLog = [];
  const limits = { perKeyPerMinute: 1_000, failedAuthPerMinute: 1_000 };
  viaYoga = await createTestGateway({ rateLimits: limits });
  viaFast = await createTestGateway({
    rateLimits: limits,
    logger: createLogger('info', {
      write: (line: string) => void fastLog.push(JSON.parse(line) as Record<string, unknown>),
    }),
  });
  const counted = countingYogaCalls(viaFast.gateway);
  yogaCalls = counted.calls;
  slow = await listen(viaYoga.gateway, { fastPaths: false });
  fast = await listen(counted.gateway);
  // The fast path answers keys that are cached: one read each puts them there.
  for (const [server, gateway] of [
    [slow, viaYoga],
    [fast, viaFast],
  ] as const) {
    for (const key of [gateway.keys.admin, gateway.keys.adviser])
      await send(server.baseUrl, 'GET', path, { 'x-api-key': key });
  }
});

afterAll(async () => {
  await fast.close();
  await slow.close();
  await viaFast.close();
  await viaYoga.close();
});

const path = '/api/orgs/demo/config';
type KeyName = 'admin' | 'adviser' | 'otherAdmin' | 'unknown';

/** The same request to both gateways (each with its own key of that name): the answers, and whether yoga answered the fast one. */
async function both(
  method: string,
  requestPath: string,
  keyName: KeyName,
  headers: Record<string, string>,
  body?: string,
) {
  const keyOf = (gateway: TestGateway) => (keyName === 'unknown' ? 'not-a-key' : gateway.keys[keyName]);
  // A request id of its own, or each side would make up a different one.
  headers = { 'x-request-id': 'same-id', ...headers };
  const yogaAnswer = await send(
    slow.baseUrl,
    method,
    requestPath,
    { 'x-api-key': keyOf(viaYoga), ...headers },
    body,
  );
  const callsBefore = yogaCalls();
  const fastAnswer = await send(
    fast.baseUrl,
    method,
    requestPath,
    { 'x-api-key': keyOf(viaFast), ...headers },
    body,
  );
  return { yogaAnswer, fastAnswer, fellThrough: yogaCalls() > callsBefore };
}

const json = { 'content-type': 'application/json' };

describe('PUT /api/orgs/{orgId}/config on the fast path', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['plain', json, JSON.stringify({ welcomeMessageEn: 'hello 1' })],
    [
      'with a request id',
      { ...json, 'x-request-id': 'sent-by-the-client' },
      JSON.stringify({ welcomeMessageEn: 'hello 2' }),
    ],
    ['gzip', { ...json, 'accept-encoding': 'gzip, deflate, br' }, JSON.stringify({ color: '#123456' })],
    [
      'br',
      { 'content-type': 'application/json; charset=utf-8', 'accept-encoding': 'br' },
      JSON.stringify({ color: '#654321', welcomeMessagePl: 'cześć' }),
    ],
    ['a change of nothing', json, JSON.stringify({ color: '#654321' })],
  ];
  for (const [name, headers, body] of cases) {
    it(`answers byte for byte as yoga does: ${name}`, async () => {
      const { yogaAnswer, fastAnswer, fellThrough } = await both('PUT', path, 'admin', headers, body);
      expect(yogaAnswer.status).toBe(200);
      expect(fellThrough).toBe(false);
      expect(fastAnswer.status).toBe(yogaAnswer.status);
      expect(fastAnswer.headers).toEqual(yogaAnswer.headers);
      expect(fastAnswer.body.equals(yogaAnswer.body)).toBe(true);
    });
  }

  it('leaves refusals, conditions, browsers and other methods to yoga, which answers as without it (reading the body it was handed)', async () => {
    const cases: [string, KeyName, Record<string, string>, string | undefined, number, string][] = [
      [path, 'admin', json, '{"welcomeMessageEn": ', 400, 'PUT'],
      [path, 'admin', json, '   ', 400, 'PUT'],
      [path, 'admin', json, '[1, 2]', 400, 'PUT'],
      [path, 'admin', json, JSON.stringify({ noSuchSetting: 1, color: 'blue' }), 422, 'PUT'],
      [path, 'admin', json, JSON.stringify({ color: 'blue' }), 422, 'PUT'],
      [path, 'admin', json, JSON.stringify({ openedConversationsSlaRangeLowerBound: 50 }), 422, 'PUT'],
      [path, 'admin', { 'content-type': 'text/plain' }, JSON.stringify({ color: '#000001' }), 415, 'PUT'],
      [path, 'admin', { ...json, 'if-match': '"v1"' }, JSON.stringify({ color: '#000001' }), 412, 'PUT'],
      [path, 'admin', { ...json, 'if-match': '"v5"' }, JSON.stringify({ color: '#000002' }), 200, 'PUT'],
      [
        path,
        'admin',
        { ...json, origin: 'https://app.example' },
        JSON.stringify({ color: '#000003' }),
        200,
        'PUT',
      ],
      [`${path}?x=1`, 'admin', json, JSON.stringify({ color: '#000004' }), 200, 'PUT'],
      [path, 'admin', json, JSON.stringify({ color: '#000005' }), 200, 'PATCH'],
      [path, 'adviser', json, JSON.stringify({ color: '#000006' }), 403, 'PUT'],
      [path, 'unknown', json, JSON.stringify({ color: '#000006' }), 401, 'PUT'],
      ['/api/orgs/other/config', 'admin', json, JSON.stringify({ color: '#000006' }), 404, 'PUT'],
    ];
    for (const [requestPath, keyName, headers, body, status, method] of cases) {
      const { yogaAnswer, fastAnswer, fellThrough } = await both(
        method,
        requestPath,
        keyName,
        { 'x-request-id': 'fell-through', ...headers },
        body,
      );
      const which = `${method} ${requestPath} ${JSON.stringify(headers)} ${body}`;
      expect(yogaAnswer.status, which).toBe(status);
      expect(fellThrough, which).toBe(true);
      expect(fastAnswer.status, which).toBe(yogaAnswer.status);
      expect(fastAnswer.headers, which).toEqual(yogaAnswer.headers);
      expect(fastAnswer.body.toString('utf8'), which).toBe(yogaAnswer.body.toString('utf8'));
    }
  });

  it('logs each answer with its request id, as yoga does, and records the revision as a REST change', async () => {
    await send(
      fast.baseUrl,
      'PUT',
      path,
      { ...json, 'x-api-key': viaFast.keys.admin, 'x-request-id': 'logged-on-the-fast-path' },
      JSON.stringify({ welcomeMessageEn: 'logged' }),
    );
    const line = fastLog.find((entry) => entry.requestId === 'logged-on-the-fast-path');
    expect(line).toMatchObject({ msg: 'request', method: 'PUT', path, status: 200 });
    expect(typeof line!.ms).toBe('number');
    expect(JSON.stringify(line)).not.toContain(viaFast.keys.admin);
    const [latest] = await viaFast.store.listRevisions('demo', { limit: 1 });
    expect(latest).toMatchObject({
      door: 'rest',
      actor: { role: 'admin' },
      changes: [{ legacyKey: 'welcomeMessageEn', after: 'logged' }],
    });
  });
});

describe('a write the database refuses', () => {
  it('is answered 503 STORAGE_UNAVAILABLE and logged as yoga answers it, not tried again', async () => {
    const headersOf = (gateway: TestGateway) => ({
      ...json,
      'x-api-key': gateway.keys.admin,
      'x-request-id': 'refused-write',
    });
    const answers = await writeRefusedBothWays(
      (baseUrl, gateway) => send(baseUrl, 'GET', path, headersOf(gateway)), // caches the key
      (baseUrl, gateway) =>
        send(baseUrl, 'PUT', path, headersOf(gateway), JSON.stringify({ color: '#000007' })),
    );
    expect(answers.fellThrough).toBe(false); // the fast path answered its failure itself
    expect(answers.viaYoga.status).toBe(503);
    expect(answers.viaFast.status).toBe(503);
    expect(JSON.parse(answers.viaFast.body.toString('utf8')).code).toBe('STORAGE_UNAVAILABLE');
    expect(answers.viaFast.headers).toEqual(answers.viaYoga.headers);
    expect(answers.viaFast.body.toString('utf8')).toBe(answers.viaYoga.body.toString('utf8'));
    expect(answers.unexpectedLogged).toEqual([1, 1]);
  });
});

describe('the write fast path and the rate limit', () => {
  it('counts each request once against the key, whoever answers it', async () => {
    const limited = await createTestGateway({
      rateLimits: { perKeyPerMinute: 4, failedAuthPerMinute: 1_000 },
    });
    const server = await listen(limited.gateway);
    try {
      const put = (body: string) =>
        send(server.baseUrl, 'PUT', path, { ...json, 'x-api-key': limited.keys.admin }, body);
      expect((await send(server.baseUrl, 'GET', path, { 'x-api-key': limited.keys.admin })).status).toBe(200); // through yoga: fills the caches
      expect((await put(JSON.stringify({ color: '#000001' }))).status).toBe(200); // fast path
      expect((await put(JSON.stringify({ color: 'blue' }))).status).toBe(422); // counted on the fast path, answered by yoga
      expect((await put(JSON.stringify({ color: '#000002' }))).status).toBe(200);
      const refused = await put(JSON.stringify({ color: '#000003' }));
      expect(refused.status).toBe(429);
      expect(refused.headers.map(([name]) => name)).toContain('retry-after');
    } finally {
      await server.close();
      await limited.close();
    }
  });
});
