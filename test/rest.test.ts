// The REST shim over a real HTTP server: the documented contract, refusals, caching, concurrency control.

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListeningGateway, type ListeningGateway } from './helpers.ts';

const example = JSON.parse(
  readFileSync(new URL('../spec/org-config.example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

let gw: ListeningGateway;
beforeEach(async () => {
  gw = await createListeningGateway();
});
afterEach(() => gw.close());

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, decoded from its content-encoding. */
  text: string;
  json: () => any;
}

/** A request exactly as given (no headers added but host), over HTTP/1.1, like curl sends it. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.baseUrl}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const decode = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync }[
          String(res.headers['content-encoding'])
        ];
        const text = (decode ? decode(raw) : raw).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const path = '/api/orgs/demo/config';
const json = { 'content-type': 'application/json' };
const get = (key: string | null = gw.keys.adviser, headers: Record<string, string> = {}) =>
  send('GET', path, { ...(key ? { 'x-api-key': key } : {}), ...headers });
const put = (body: unknown, headers: Record<string, string> = {}, method = 'PUT') =>
  send(
    method,
    path,
    { 'x-api-key': gw.keys.admin, ...json, ...headers },
    typeof body === 'string' ? body : JSON.stringify(body),
  );
/** A PUT whose body goes in chunks without a content-length, so the limit is found while reading. */
function sendChunked(chunks: string[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${gw.baseUrl}${path}`,
      { method: 'PUT', headers: { 'x-api-key': gw.keys.admin, ...json } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
    );
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const storedVersion = async () => (await gw.store.getConfig('demo'))!.version;

describe('GET /api/orgs/{orgId}/config', () => {
  it('returns the documented flat object, exactly the example, to any key of the org', async () => {
    for (const key of [gw.keys.adviser, gw.keys.admin]) {
      const response = await get(key);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.json()).toEqual(example);
      expect(Object.keys(response.json())).toHaveLength(51);
    }
  });

  it('sends an ETag of the version and answers If-None-Match with 304', async () => {
    const first = await get();
    expect(first.headers.etag).toBe('"v1"');
    const unchanged = await get(gw.keys.adviser, { 'if-none-match': '"v1"' });
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');
    expect(unchanged.headers.etag).toBe('"v1"');
    await put({ color: '#000000' });
    const changed = await get(gw.keys.adviser, { 'if-none-match': '"v1"' });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).toBe('"v2"');
  });

  it('honours accept-encoding', async () => {
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const response = await get(gw.keys.adviser, { 'accept-encoding': encoding });
      expect(response.headers['content-encoding']).toBe(encoding);
      expect(response.json()).toEqual(example);
    }
    expect(
      (await get(gw.keys.adviser, { 'accept-encoding': 'gzip;q=0, identity' })).headers['content-encoding'],
    ).toBeUndefined();
    expect((await get()).headers.vary).toBe('accept-encoding');
  });
});

describe('PUT, POST and PATCH /api/orgs/{orgId}/config', () => {
  it('accept the documented curl request verbatim, every header included, and store the body', async () => {
    // Org "other" starts from the defaults, so the example body changes it; the demo org already holds it.
    const body = example;
    // The documentation's curl example, browser headers and --compressed included.
    const response = await send(
      'PUT',
      '/api/orgs/other/config',
      {
        authority: 'wheelhouse.stage.closer.app',
        accept: 'application/json, text/plain, */*',
        'accept-language': 'pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7',
        'content-type': 'application/json',
        dnt: '1',
        origin: 'https://wheelhouse.stage.closer.app',
        'sec-ch-ua': '"Google Chrome";v="119", "Chromium";v="119", "Not?A_Brand";v="24"',
        'sec-ch-ua-mobile': '?0',
        'sec-ch-ua-platform': '"macOS"',
        'sec-fetch-dest': 'empty',
        'sec-fetch-mode': 'cors',
        'sec-fetch-site': 'same-origin',
        'user-agent':
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
        'x-api-key': gw.keys.otherAdmin,
        'accept-encoding': 'deflate, gzip, br, zstd',
      },
      JSON.stringify(body, null, 4),
    );
    expect(response.status).toBe(200);
    expect(['gzip', 'br', 'deflate']).toContain(response.headers['content-encoding']);
    expect(response.json()).toEqual(example);
    expect(response.headers.vary).toContain('accept-encoding');
    expect((await gw.store.getConfig('other'))!.version).toBe(2);
    const stored = await send('GET', '/api/orgs/other/config', { 'x-api-key': gw.keys.otherAdmin });
    expect(stored.json()).toEqual(example);
  });

  it('PUT and POST behave identically: keys present change, keys absent stay, the whole object comes back', async () => {
    const viaPut = await put({ color: '#aaaaaa', welcomeMessageEn: 'Hello' });
    expect(viaPut.status).toBe(200);
    expect(viaPut.json()).toEqual({ ...example, color: '#aaaaaa', welcomeMessageEn: 'Hello' });
    expect(viaPut.headers.etag).toBe('"v2"');
    const viaPost = await put({ color: '#bbbbbb', welcomeMessageEn: 'Hi' }, {}, 'POST');
    expect(viaPost.status).toBe(200);
    expect(viaPost.json()).toEqual({ ...example, color: '#bbbbbb', welcomeMessageEn: 'Hi' });
    expect(viaPost.headers.etag).toBe('"v3"');
  });

  it('takes back an object just read, unchanged, without a new version', async () => {
    const read = (await get()).json();
    const response = await put(read);
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"v1"');
  });

  it('PATCH takes a JSON merge patch; null, which would remove a key, is refused since every setting is required', async () => {
    const merge = (body: unknown) =>
      send(
        'PATCH',
        path,
        { 'x-api-key': gw.keys.admin, 'content-type': 'application/merge-patch+json' },
        JSON.stringify(body),
      );
    const response = await merge({ callsDisabled: true, workingHours: [] });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ ...example, callsDisabled: true, workingHours: [] });
    const removal = await merge({ agreement: null });
    expect(removal.status).toBe(422);
    expect(removal.json().problems).toEqual([
      { pointer: '/agreement', message: expect.any(String), code: 'NOT_NULLABLE' },
    ]);
  });

  it('honours If-Match: 412 and nothing written when stale, applied when current', async () => {
    const stale = await put({ color: '#cccccc' }, { 'if-match': '"v7"' });
    expect(stale.status).toBe(412);
    expect(stale.json()).toMatchObject({ status: 412, code: 'VERSION_MISMATCH' });
    expect(await storedVersion()).toBe(1);
    const current = await put({ color: '#cccccc' }, { 'if-match': '"v1"' });
    expect(current.status).toBe(200);
    expect((await put({ color: '#dddddd' }, { 'if-match': '"v1"' })).status).toBe(412);
    expect((await put({ color: '#dddddd' }, { 'if-match': '"v1", "v2"' })).status).toBe(200);
    expect((await put({ color: '#eeeeee' }, { 'if-match': '*' })).status).toBe(200);
    expect((await put({ color: '#ffffff' }, { 'if-match': '"something-else"' })).status).toBe(412);
  });

  it('compares If-Match strongly and exactly, and checks preconditions before the body', async () => {
    for (const ifMatch of ['W/"v1"', '"v01"', '', ' , ']) {
      const response = await put({ color: '#cccccc' }, { 'if-match': ifMatch });
      expect([ifMatch, response.status]).toEqual([ifMatch, 412]);
    }
    const staleAndBroken = await put('{ not json', { 'if-match': '"v9"' });
    expect(staleAndBroken.status).toBe(412);
    expect(staleAndBroken.headers.etag).toBe('"v1"');
    expect((await put({ color: '#cccccc' }, { 'if-none-match': '*' })).status).toBe(412);
    expect((await put({ color: '#cccccc' }, { 'if-none-match': 'W/"v1"' })).status).toBe(412);
    expect(await storedVersion()).toBe(1);
    expect((await put({ color: '#cccccc' }, { 'if-none-match': '"v7"' })).status).toBe(200);
  });
});

describe('refusals', () => {
  const refusals: [string, () => Promise<RawResponse>, number, string][] = [
    ['invalid JSON', () => put('{"color": "#fff",'), 400, 'INVALID_JSON'],
    ['an empty body', () => put(''), 400, 'EMPTY_BODY'],
    ['a JSON array', () => put([{ color: '#fff' }]), 400, 'NOT_AN_OBJECT'],
    ['a JSON string', () => put('"color"'), 400, 'NOT_AN_OBJECT'],
    ['null', () => put('null'), 400, 'NOT_AN_OBJECT'],
    ['a body over 1 MiB', () => put({ agreement: 'x'.repeat(1_100_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    [
      'a chunked body over 1 MiB',
      () => sendChunked([`{"agreement":"${'x'.repeat(600_000)}`, `${'x'.repeat(600_000)}"}`]),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a wrong content type',
      () => put({ color: '#fff' }, { 'content-type': 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'no content type',
      () => send('PUT', path, { 'x-api-key': gw.keys.admin }, '{}'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a merge patch by PUT',
      () => put({ color: '#fff' }, { 'content-type': 'application/merge-patch+json' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ];

  it.each(refusals)('refuses %s whole, writing nothing', async (_, call, status, code) => {
    const response = await call();
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.json()).toMatchObject({
      type: 'about:blank',
      status,
      code,
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(await storedVersion()).toBe(1);
    expect((await get()).json()).toEqual(example);
  });

  it('refuses an unknown key, a wrong type, a broken rule and a bound against the stored other together, naming each, with the codes GraphQL uses', async () => {
    const response = await put({
      color: 'orange',
      colour: '#fff',
      autoAssignedLimit: '4',
      openedConversationsSlaRangeLowerBound: 9,
      name: 'Fine',
    });
    expect(response.status).toBe(422);
    expect(response.json()).toMatchObject({ status: 422, code: 'VALIDATION_FAILED' });
    expect(response.json().problems).toEqual(
      expect.arrayContaining([
        { pointer: '/colour', message: 'unknown setting "colour"', code: 'UNKNOWN_SETTING' },
        { pointer: '/color', message: expect.any(String), code: 'INVALID_COLOR' },
        { pointer: '/autoAssignedLimit', message: expect.any(String), code: 'INVALID_TYPE' },
        // Above the stored upper bound (3): a rule across settings, reported with the rest.
        {
          pointer: '/openedConversationsSlaRangeLowerBound',
          message: expect.any(String),
          code: 'SLA_RANGE_INVERTED',
        },
      ]),
    );
    expect(response.json().problems).toHaveLength(4);
    expect(await storedVersion()).toBe(1);
  });

  it('checks a bound against the stored other bound and points at list items', async () => {
    const inverted = await put({ openedConversationsSlaRangeLowerBound: 9 });
    expect(inverted.status).toBe(422);
    expect(inverted.json().problems).toEqual([
      {
        pointer: '/openedConversationsSlaRangeLowerBound',
        message: expect.any(String),
        code: 'SLA_RANGE_INVERTED',
      },
    ]);
    const overlap = await put({
      workingHours: [
        { offsetSeconds: 0, durationSeconds: 100 },
        { offsetSeconds: 50, durationSeconds: 1 },
      ],
    });
    expect(overlap.json().problems).toEqual([
      { pointer: '/workingHours/1', message: expect.any(String), code: 'WORKING_HOURS_OVERLAP' },
    ]);
    const nullValue = await put({ name: null });
    expect(nullValue.json().problems).toEqual([
      { pointer: '/name', message: expect.any(String), code: 'NOT_NULLABLE' },
    ]);
    expect(await storedVersion()).toBe(1);
  });

  it('answers 401 with WWW-Authenticate without a key or with an unknown one', async () => {
    for (const key of [null, 'bf4dd784-1277-4e32-b60e-a86a82623147']) {
      const response = await get(key);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('ApiKey header="x-api-key"');
      expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });

  it('answers 403 to an adviser writing, before reading the body', async () => {
    for (const body of [{ color: '#fff' }, '{ not json']) {
      const response = await put(body, { 'x-api-key': gw.keys.adviser });
      expect(response.status).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await storedVersion()).toBe(1);
  });

  it('answers 404 alike for an unknown org and for another org than the key’s', async () => {
    const unknown = await send('GET', '/api/orgs/nope/config', { 'x-api-key': gw.keys.admin });
    const foreign = await send('GET', '/api/orgs/other/config', { 'x-api-key': gw.keys.admin });
    const foreignWrite = await send(
      'PUT',
      '/api/orgs/other/config',
      { 'x-api-key': gw.keys.admin, ...json },
      '{"color":"#fff"}',
    );
    for (const response of [unknown, foreign, foreignWrite]) {
      expect(response.status).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(unknown.json().detail.replace('nope', 'other')).toBe(foreign.json().detail);
    expect((await gw.store.getConfig('other'))!.version).toBe(1);
  });

  it('answers 405 with Allow to other methods', async () => {
    for (const method of ['DELETE', 'TRACE']) {
      const response = await send(method, path, { 'x-api-key': gw.keys.admin });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD, PUT, POST, PATCH');
    }
    expect((await send('DELETE', `${path}/history`, { 'x-api-key': gw.keys.admin })).headers.allow).toBe(
      'GET, HEAD',
    );
    expect((await send('POST', '/api/openapi.json', {})).status).toBe(405);
  });

  it('answers a CORS preflight (OPTIONS) and keeps Vary: accept-encoding beside Vary: Origin', async () => {
    const preflight = await send('OPTIONS', path, {
      origin: 'https://admin.example.com',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'x-api-key, content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('PUT');
    const read = await get(gw.keys.adviser, {
      origin: 'https://admin.example.com',
      'accept-encoding': 'gzip',
    });
    expect(read.headers['content-encoding']).toBe('gzip');
    expect(read.headers.vary).toMatch(/accept-encoding/i);
    expect(read.headers.vary).toMatch(/origin/i);
  });

  it('answers an unexpected failure 500 with a masked problem, no internals', async () => {
    await gw.events.close();
    await gw.store.close();
    const response = await get();
    expect(response.status).toBe(500);
    expect(response.json()).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      code: 'INTERNAL_SERVER_ERROR',
      detail: 'Unexpected error.',
    });
  });
});

describe('one path for both doors', () => {
  const GRAPHQL_READ =
    '{ orgConfig(orgId: "demo") { version branding { color } assignment { autoAssignedLimit } } }';

  it('a GraphQL read after a REST write and a REST read after a GraphQL write agree', async () => {
    await put({ color: '#0a0b0c', autoAssignedLimit: 9 });
    expect((await gw.graphql(GRAPHQL_READ)).data?.orgConfig).toEqual({
      version: 2,
      branding: { color: '#0a0b0c' },
      assignment: { autoAssignedLimit: 9 },
    });

    const mutation =
      'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#0d0e0f" } } }) { __typename } }';
    expect((await gw.graphql(mutation)).data?.updateOrgConfig.__typename).toBe('UpdateOrgConfigSuccess');
    const rest = await get();
    expect(rest.headers.etag).toBe('"v3"');
    expect(rest.json()).toMatchObject({ color: '#0d0e0f', autoAssignedLimit: 9 });
  });
});
