// Per-organisation CORS at the edge: every browser-facing answer allows exactly the organisation's
// allowed origins and varies by Origin; a widget key from an origin not allowed is refused on every
// door; preflights say nothing about any organisation; a request without Origin is not refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';
import { sendRaw } from './support/raw-http.ts';

const allowed = 'https://allowed.example';
const foreign = 'https://evil.example';

let gw: TestGateway;
/** A widget key of "other", which allows `allowed` only; one of "closed", which allows no origin. */
let widgetKey: string;
let closedKey: string;

beforeAll(async () => {
  gw = await createTestGateway();
  const patched = await gw.fetch('http://gateway.test/api/orgs/other/config', {
    method: 'PATCH',
    headers: { 'x-api-key': gw.keys.otherAdmin, 'content-type': 'application/json' },
    body: JSON.stringify({ origin: [allowed] }),
  });
  expect(patched.status).toBe(200);
  await gw.service.createOrg({ kind: 'operator' }, 'closed');
  widgetKey = (await createApiKey(gw.store, 'other', 'widget')).key;
  closedKey = (await createApiKey(gw.store, 'closed', 'widget')).key;
});
afterAll(async () => {
  await gw?.close();
});

/** Every door a widget reads through, with its key and the Origin given. */
function doors(key: string, orgId: string) {
  const query = `{ orgConfig(orgId: "${orgId}") { branding { color } } }`;
  const inUrl = (search: Record<string, string>) => `/graphql?${new URLSearchParams({ ...search, key })}`;
  return {
    'REST GET': (origin: Record<string, string>) =>
      sendRaw(gw.baseUrl, 'GET', `/api/orgs/${orgId}/config`, { 'x-api-key': key, ...origin }),
    'GraphQL POST': (origin: Record<string, string>) =>
      sendRaw(
        gw.baseUrl,
        'POST',
        '/graphql',
        { 'x-api-key': key, 'content-type': 'application/json', ...origin },
        JSON.stringify({ query }),
      ),
    'GraphQL GET': (origin: Record<string, string>) => sendRaw(gw.baseUrl, 'GET', inUrl({ query }), origin),
    'SSE GET': (origin: Record<string, string>) =>
      sendRawUntilHead(
        inUrl({
          query: `subscription { orgConfigChanged(orgId: "${orgId}") { version } }`,
        }),
        { accept: 'text/event-stream', ...origin },
      ),
    snapshot: (origin: Record<string, string>) =>
      sendRaw(gw.baseUrl, 'GET', `/widget/${orgId}/config?key=${key}`, origin),
  };
}

/** The status and headers of an answer that may be a stream, which is then closed. */
async function sendRawUntilHead(path: string, headers: Record<string, string>) {
  const response = await fetch(`${gw.baseUrl}${path}`, { headers });
  const stream = response.headers.get('content-type') === 'text/event-stream';
  const body = stream ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer());
  if (stream) await response.body?.cancel();
  return { status: response.status, headers: [...response.headers.entries()] as [string, string][], body };
}

const header = (answer: { headers: [string, string][] }, name: string) =>
  answer.headers.find(([key]) => key.toLowerCase() === name)?.[1] ?? null;

describe('per-organisation CORS', () => {
  it('allows an allowed origin on every door, with Vary: Origin', async () => {
    for (const [door, send] of Object.entries(doors(widgetKey, 'other'))) {
      const answer = await send({ origin: allowed });
      expect([door, answer.status]).toEqual([door, 200]);
      expect([door, header(answer, 'access-control-allow-origin')]).toEqual([door, allowed]);
      expect([door, header(answer, 'vary')?.includes('Origin')]).toEqual([door, true]);
    }
  });

  it('refuses a widget key from an origin not allowed on every door: 403 ORIGIN_NOT_ALLOWED, no allowance', async () => {
    for (const [orgId, key, origin] of [
      ['other', widgetKey, foreign],
      ['other', widgetKey, 'null'],
      ['closed', closedKey, allowed],
    ] as const)
      for (const [door, send] of Object.entries(doors(key, orgId))) {
        const answer = await send({ origin });
        expect([door, origin, answer.status]).toEqual([door, origin, 403]);
        expect(answer.body.toString()).toContain('ORIGIN_NOT_ALLOWED');
        expect(header(answer, 'access-control-allow-origin')).toBeNull();
        expect(header(answer, 'vary')).toContain('Origin');
      }
  });

  it('refuses a widget key from an origin not allowed over WebSocket', async () => {
    const socket = new WebSocket(`${gw.baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
      headers: { origin: foreign },
    });
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) =>
      socket.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': widgetKey } }));
    expect(await closed).toEqual([4403, 'ORIGIN_NOT_ALLOWED']);
  });

  it('does not refuse a request without Origin (not a browser), and sends it no allowance', async () => {
    for (const [door, send] of Object.entries(doors(widgetKey, 'other'))) {
      const answer = await send({});
      expect([door, answer.status]).toEqual([door, 200]);
      expect(header(answer, 'access-control-allow-origin')).toBeNull();
    }
  });

  it('gives a secret key from an origin not allowed its answer without allowance (a browser cannot read it)', async () => {
    const answer = await sendRaw(gw.baseUrl, 'GET', '/api/orgs/other/config', {
      'x-api-key': gw.keys.otherAdmin,
      origin: foreign,
    });
    expect(answer.status).toBe(200);
    expect(header(answer, 'access-control-allow-origin')).toBeNull();
    expect(header(answer, 'vary')).toContain('Origin');
  });

  it('allows any origin where the list holds "*"', async () => {
    const answer = await sendRaw(gw.baseUrl, 'GET', '/api/orgs/demo/config', {
      'x-api-key': gw.keys.adviser,
      origin: foreign,
    });
    expect(header(answer, 'access-control-allow-origin')).toBe(foreign);
  });

  it('follows a change of the allowed origins at once', async () => {
    const read = () => doors(widgetKey, 'other').snapshot({ origin: 'https://new.example' });
    expect((await read()).status).toBe(403);
    const patch = (origin: string[]) =>
      gw.fetch('http://gateway.test/api/orgs/other/config', {
        method: 'PATCH',
        headers: { 'x-api-key': gw.keys.otherAdmin, 'content-type': 'application/json' },
        body: JSON.stringify({ origin }),
      });
    expect((await patch([allowed, 'https://new.example'])).status).toBe(200);
    try {
      expect((await read()).status).toBe(200);
    } finally {
      expect((await patch([allowed])).status).toBe(200);
    }
  });

  it('answers preflights alike for every path and organisation, existing or not', async () => {
    const preflight = (path: string) =>
      sendRaw(gw.baseUrl, 'OPTIONS', path, {
        origin: foreign,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-api-key',
      });
    const answers = await Promise.all(
      [
        '/graphql',
        '/api/orgs/other/config',
        '/api/orgs/no-such-org/config',
        '/widget/other/config',
        '/widget/no-such-org/config',
      ].map(preflight),
    );
    const shown = answers.map((answer) => ({
      status: answer.status,
      headers: answer.headers.filter(([name]) => name.toLowerCase() !== 'x-request-id'),
    }));
    for (const each of shown) expect(each).toEqual(shown[0]);
    expect(shown[0]!.status).toBe(204);
    expect(header(answers[0]!, 'access-control-allow-origin')).toBe(foreign);
    expect(header(answers[0]!, 'access-control-max-age')).toBe('600');
  });
});
