// GET /widget/{orgId}/config?key=pk_…: the CDN-ready snapshot of the public settings, through the
// served gateway (a door behind the edge), and the door alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOfKey, createApiKey, hashApiKey } from '../src/auth/api-keys.ts';
import { publicSettings } from '../src/config/visibility.ts';
import { createLogger } from '../src/logging.ts';
import { snapshotAnswerer } from '../src/widget/snapshot.ts';
import { createListeningGateway, createTestGateway, type ListeningGateway, listen } from './helpers.ts';

let gw: ListeningGateway;
let widgetKey: string;
let otherWidgetKey: string;

beforeAll(async () => {
  gw = await createListeningGateway();
  widgetKey = (await createApiKey(gw.store, 'demo', 'widget')).key;
  otherWidgetKey = (await createApiKey(gw.store, 'other', 'widget')).key;
});
afterAll(async () => {
  await gw?.close();
});

const snapshot = (orgId: string, key: string | null, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${gw.baseUrl}/widget/${orgId}/config${key === null ? '' : `?key=${encodeURIComponent(key)}`}`, {
    method,
    headers,
  });

describe('the widget snapshot', () => {
  it('answers the public settings with a strong ETag and CDN caching, 304 on If-None-Match', async () => {
    const response = await snapshot('demo', widgetKey);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=600');
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const body = (await response.json()) as { orgId: string; version: number; settings: any };
    const config = (await gw.service.get(
      { kind: 'operator' },
      'demo',
    )) as import('../src/config/model.ts').OrgConfig;
    expect(body).toEqual({
      orgId: 'demo',
      version: config.version,
      settings: publicSettings(config.settings),
    });
    expect(body.settings).not.toHaveProperty('sla');
    expect(body.settings).not.toHaveProperty('assignment');
    expect(body.settings).not.toHaveProperty('lifecycle');
    expect(body.settings.branding.color).toBe(config.settings.branding.color);

    const again = await snapshot('demo', widgetKey, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    expect((await snapshot('demo', widgetKey, { 'if-none-match': `W/${etag}, "x"` })).status).toBe(304);

    // A change makes a new body and tag.
    const patched = await fetch(`${gw.baseUrl}/api/orgs/demo/config`, {
      method: 'PATCH',
      headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ color: '#abcdef' }),
    });
    expect(patched.status).toBe(200);
    const changed = await snapshot('demo', widgetKey, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as any).settings.branding.color).toBe('#abcdef');
  });

  it('answers a wrong or foreign key, and an unknown organisation, with the same 404', async () => {
    const answers = await Promise.all([
      snapshot('demo', otherWidgetKey),
      snapshot('demo', 'pk_notakeyatall'),
      snapshot('nobody', widgetKey),
      snapshot('other', widgetKey),
    ]);
    const bodies = await Promise.all(answers.map((answer) => answer.json() as Promise<any>));
    for (const [index, answer] of answers.entries()) {
      expect(answer.status).toBe(404);
      expect(bodies[index].code).toBe('NOT_FOUND');
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('refuses a secret key: in the URL (not looked up), or in x-api-key (the wrong kind)', async () => {
    const inUrl = await snapshot('demo', gw.keys.admin);
    expect(inUrl.status).toBe(400);
    expect(((await inUrl.json()) as any).code).toBe('SECRET_KEY_IN_URL');
    const inHeader = await snapshot('demo', null, { 'x-api-key': gw.keys.admin });
    expect(inHeader.status).toBe(403);
    expect(((await inHeader.json()) as any).code).toBe('WRONG_KEY_KIND');
    const none = await snapshot('demo', null);
    expect(none.status).toBe(401);
    const post = await snapshot('demo', widgetKey, {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses an expired publishable key with KEY_EXPIRED', async () => {
    const { key } = await createApiKey(gw.store, 'demo', 'widget', { expiresAt: new Date(Date.now() - 1) });
    const answer = await snapshot('demo', key);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as any).code).toBe('KEY_EXPIRED');
  });

  it('serialises once per version, from memory, and keeps no secret setting in its bytes', async () => {
    const answer = snapshotAnswerer(gw.gateway.cache!, { maxAgeSeconds: 5, staleWhileRevalidateSeconds: 7 });
    const keyHash = hashApiKey(widgetKey);
    const record = (await gw.gateway.cache.findApiKeyByHash(keyHash))!;
    const request = {
      method: 'GET',
      path: '/widget/demo/config',
      ifNoneMatch: undefined,
      actor: actorOfKey(record, keyHash),
      keyGiven: true,
    };
    const first = await answer(request);
    const second = await answer(request);
    expect(first!.headers['cache-control']).toBe('public, max-age=5, stale-while-revalidate=7');
    // The same bytes: made once for this version.
    expect(second!.body).toBe(first!.body);
    expect(first!.body!.toString()).not.toMatch(/autoAssignedLimit|lowerBound|allowedOrigins/);
    expect(await answer({ ...request, path: '/graphql' })).toBeUndefined();
  });

  it('never logs a secret key sent in the URL', async () => {
    const lines: string[] = [];
    const logged = await createTestGateway({
      logger: createLogger('info', { write: (line: string) => void lines.push(line) }),
    });
    const server = await listen(logged.gateway);
    try {
      const answer = await fetch(`${server.baseUrl}/widget/demo/config?key=${logged.keys.admin}`);
      expect(answer.status).toBe(400);
      expect(lines.some((line) => line.includes('/widget/demo/config'))).toBe(true);
      expect(lines.join('\n')).not.toContain(logged.keys.admin);
    } finally {
      await server.close();
      await logged.close();
    }
  });
});

describe('the preview page and the widget script', () => {
  const preview = (orgId: string, query: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.baseUrl}/preview/${orgId}${query}`, { headers });

  it('serves the page for a widget key of the organisation, allowing only its own script', async () => {
    const page = await preview('demo', `?key=${widgetKey}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain(`<script src="/widget.js" data-org="demo" data-key="${widgetKey}">`);
    const script = await fetch(`${gw.baseUrl}/widget.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('new EventSource(');
  });

  it('refuses as the snapshot does: foreign or unknown key 404, no key 401, a secret 400 or 403', async () => {
    const refusals = {
      foreign: await preview('demo', `?key=${otherWidgetKey}`),
      unknown: await preview('demo', '?key=pk_notakey'),
      'no such organisation': await preview('nobody', `?key=${widgetKey}`),
      'no key': await preview('demo', ''),
      'secret in the URL': await preview('demo', `?key=${gw.keys.admin}`),
      'secret in x-api-key': await preview('demo', '', { 'x-api-key': gw.keys.admin }),
    };
    const statuses = Object.fromEntries(
      await Promise.all(
        Object.entries(refusals).map(async ([name, answer]) => [
          name,
          [answer.status, ((await answer.json()) as { code: string }).code],
        ]),
      ),
    );
    expect(statuses).toEqual({
      foreign: [404, 'NOT_FOUND'],
      unknown: [404, 'NOT_FOUND'],
      'no such organisation': [404, 'NOT_FOUND'],
      'no key': [401, 'UNAUTHENTICATED'],
      'secret in the URL': [400, 'SECRET_KEY_IN_URL'],
      'secret in x-api-key': [403, 'WRONG_KEY_KIND'],
    });
  });
});
