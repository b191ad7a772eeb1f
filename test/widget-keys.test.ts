// Publishable (widget) keys and scoped, expiring secret keys on every door, behind the edge's key
// step: what a widget key reads (public settings only, never an answer made for a secret key),
// what a scoped key may change, and how expiry is checked at use.
import { readFileSync } from 'node:fs';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../src/auth/api-keys.ts';
import { publicSettingPaths, secretSettingPaths } from '../src/config/visibility.ts';
import { createListeningGateway, type ListeningGateway, sseSubscribe } from './helpers.ts';

let gw: ListeningGateway;
let widgetKey: string;
let scopedKey: string;
let otherWidgetKey: string;

beforeAll(async () => {
  gw = await createListeningGateway({ webSockets: true });
  widgetKey = (await createApiKey(gw.store, 'demo', 'widget')).key;
  otherWidgetKey = (await createApiKey(gw.store, 'other', 'widget')).key;
  scopedKey = (await createApiKey(gw.store, 'demo', 'admin', { groups: ['branding', 'messages'] })).key;
});
const wsClients: WsClient[] = [];
afterAll(async () => {
  for (const client of wsClients) await client.dispose();
  await gw?.close();
});

async function graphql(query: string, key: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${gw.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function rest(method: string, key: string, body?: unknown) {
  const response = await fetch(`${gw.baseUrl}/api/orgs/demo/config`, {
    method,
    headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const fullRead = `query Full($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color }
  sla { openedConversations { range { lowerBound } } } } }`;
const publicRead = `query Public($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color name }
  messages { welcome { en } } workingHours { offsetSeconds } } }`;

describe('the catalogue decides what is public', () => {
  it('lists the widget settings as public and SLA, assignment and lifecycle as not', () => {
    expect(publicSettingPaths).toEqual(
      expect.arrayContaining([
        'branding.color',
        'branding.name',
        'messages.welcome.en',
        'messages.header.pl',
        'privacy.agreementText',
        'privacy.agreementEnabled',
        'attachments.allowedExtensions',
        'workingHours',
        'website.phonePrefix',
        'features.cobrowseEnabled',
      ]),
    );
    for (const path of publicSettingPaths) expect(path).not.toMatch(/^(sla|assignment|lifecycle)\./);
    expect(secretSettingPaths).toEqual(
      expect.arrayContaining(['sla.openedConversations.range.lowerBound', 'assignment.autoAssignedLimit']),
    );
    expect(secretSettingPaths).toContain('website.allowedOrigins');
  });

  it('is listed in the README as the catalogue says', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const quoted = (paths: readonly string[]) => paths.map((path) => `\`${path}\``).join(', ');
    expect(readme.replace(/\n\s*/g, ' ')).toContain(`Public: ${quoted(publicSettingPaths)}.`);
    expect(readme.replace(/\n\s*/g, ' ')).toContain(`Not public: ${quoted(secretSettingPaths)}.`);
  });

  it('gives widget keys the pk_ prefix', () => {
    expect(widgetKey).toMatch(/^pk_[A-Za-z0-9_-]{32}$/);
  });
});

describe('a widget key reads public settings only, on every door', () => {
  it('GraphQL: a non-public field is FORBIDDEN by name, however often the text was answered to an admin', async () => {
    // The admin's reads make the plan and the kept answer; the widget's must never get them.
    for (let round = 0; round < 30; round++) {
      const admin = await graphql(fullRead, gw.keys.admin, { orgId: 'demo' });
      expect(admin.body.data.orgConfig.sla.openedConversations.range.lowerBound).toBeTypeOf('number');
      const widget = await graphql(fullRead, widgetKey, { orgId: 'demo' });
      expect(widget.body.data?.orgConfig ?? null).toBeNull();
      expect(widget.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(widget.body.errors[0].message).toContain('"sla"');
      expect(JSON.stringify(widget.body)).not.toContain('lowerBound":');
    }
    expect(gw.gateway.readPlans?.get(`\n${fullRead}`)).toBeTruthy();
  });

  it('GraphQL: a public read answers, and the two roles never share a kept answer', async () => {
    for (let round = 0; round < 30; round++) {
      const widget = await graphql(publicRead, widgetKey, { orgId: 'demo' });
      expect(widget.body.errors).toBeUndefined();
      expect(widget.body.data.orgConfig.branding.color).toMatch(/^#/);
      const admin = await graphql(publicRead, gw.keys.admin, { orgId: 'demo' });
      expect(admin.body).toEqual(widget.body);
    }
    // A secret setting inside a group that holds public ones is refused by its own path.
    const origins = await graphql(
      '{ orgConfig(orgId: "demo") { website { phonePrefix allowedOrigins } } }',
      widgetKey,
    );
    expect(origins.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(origins.body.errors[0].message).toContain('"website.allowedOrigins"');
    // Another organisation's widget key is told the organisation does not exist.
    const foreign = await graphql(publicRead, otherWidgetKey, { orgId: 'demo' });
    expect(foreign.body.errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('GraphQL: no history, no versions of the past, no authors, no writes', async () => {
    const history = await graphql(
      '{ orgConfigHistory(orgId: "demo", first: 1) { nodes { version } } }',
      widgetKey,
    );
    expect(history.body.errors[0].extensions.code).toBe('WRONG_KEY_KIND');
    const at = await graphql('{ orgConfigAt(orgId: "demo", version: 1) { version } }', widgetKey);
    expect(at.body.errors[0].extensions.code).toBe('WRONG_KEY_KIND');
    const update = await graphql(
      `mutation($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) {
        ... on UpdateOrgConfigSuccess { config { version } } ... on Error { message } } }`,
      widgetKey,
      { input: { orgId: 'demo', patch: { branding: { color: '#000000' } } } },
    );
    expect(update.body.errors[0].extensions.code).toBe('WRONG_KEY_KIND');
  });

  it('REST: reads the public settings only, again and again, and may not write', async () => {
    const admin = await rest('GET', gw.keys.admin);
    expect(admin.body).toHaveProperty('openedConversationsSlaRangeLowerBound');
    for (let round = 0; round < 20; round++) {
      const widget = await rest('GET', widgetKey);
      expect(widget.status).toBe(200);
      expect(widget.body.color).toBe(admin.body.color);
      expect(widget.body).toHaveProperty('welcomeMessageEn');
      expect(widget.body).not.toHaveProperty('openedConversationsSlaRangeLowerBound');
      expect(widget.body).not.toHaveProperty('autoAssignedLimit');
      expect(widget.body).not.toHaveProperty('origin');
      // The admin's answer stays whole after the widget's.
      expect((await rest('GET', gw.keys.admin)).body).toEqual(admin.body);
    }
    const write = await rest('PUT', widgetKey, { color: '#000000' });
    expect(write).toMatchObject({ status: 403, body: { code: 'WRONG_KEY_KIND' } });
  });

  it('SSE: only changes of public settings, with only public changes and fields', async () => {
    const subscription = `subscription($orgId: ID!) { orgConfigChanged(orgId: $orgId) {
      version changedFields changes { path } actor { keyId } config { branding { color } } } }`;
    const admin = await sseSubscribe(
      gw.baseUrl,
      subscription,
      { orgId: 'demo' },
      { 'x-api-key': gw.keys.admin },
    );
    const widget = await sseSubscribe(
      gw.baseUrl,
      subscription,
      { orgId: 'demo' },
      { 'x-api-key': widgetKey },
    );
    expect(widget.status).toBe(200);
    // A secret change: the admin hears it, the widget does not.
    expect((await rest('PATCH', gw.keys.admin, { autoAssignedLimit: 7 })).status).toBe(200);
    const secret = JSON.parse((await admin.next()).data).data.orgConfigChanged;
    expect(secret.changedFields).toEqual(['assignment.autoAssignedLimit']);
    // A change of both: the widget hears only the public part, and no author.
    expect((await rest('PATCH', gw.keys.admin, { color: '#123456', autoAssignedLimit: 8 })).status).toBe(200);
    const both = JSON.parse((await admin.next()).data).data.orgConfigChanged;
    expect(both.changedFields).toEqual(['branding.color', 'assignment.autoAssignedLimit']);
    const seen = JSON.parse((await widget.next()).data).data.orgConfigChanged;
    expect(seen).toEqual({
      version: both.version,
      changedFields: ['branding.color'],
      changes: [{ path: 'branding.color' }],
      actor: null,
      config: { branding: { color: '#123456' } },
    });
    admin.close();
    widget.close();

    // Following a secret group is refused; selecting a secret field of the config is FORBIDDEN.
    const followSla = await sseSubscribe(
      gw.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo", fields: ["sla"]) { version } }',
      {},
      { 'x-api-key': widgetKey },
    );
    expect((await followSla.next()).data).toContain('FORBIDDEN');
    followSla.close();
    const selectSla = await sseSubscribe(
      gw.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo") { config { sla { openedConversations { slaEnabled } } } } }',
      {},
      { 'x-api-key': widgetKey },
    );
    expect((await rest('PATCH', gw.keys.admin, { color: '#654321' })).status).toBe(200);
    const refused = JSON.parse((await selectSla.next()).data);
    expect(refused.errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(refused.errors[0].message).toContain('"sla"');
    selectSla.close();
  });
});

describe('a widget key over WebSocket', () => {
  it('shares no event with a secret key of the same document', async () => {
    const query = `subscription($orgId: ID!) { orgConfigChanged(orgId: $orgId) {
      version changedFields changes { path after } config { branding { color } } } }`;
    const follow = (key: string) => {
      const client = createWsClient({
        url: `${gw.baseUrl.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { 'x-api-key': key },
        lazy: false,
        retryAttempts: 0,
      });
      wsClients.push(client);
      const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
      const iterator = client.iterate({ query, variables: { orgId: 'demo' } });
      return { connected, next: async () => (await iterator.next()).value as any };
    };
    const admin = follow(gw.keys.admin);
    const widget = follow(widgetKey);
    await Promise.all([admin.connected, widget.connected]);
    // Both subscribed once the admin hears a first change (the subscriptions start before it).
    expect((await rest('PATCH', gw.keys.admin, { autoAssignedLimit: 3 })).status).toBe(200);
    expect((await admin.next()).data.orgConfigChanged.changedFields).toEqual([
      'assignment.autoAssignedLimit',
    ]);
    expect((await rest('PATCH', gw.keys.admin, { color: '#0a0b0c', autoAssignedLimit: 4 })).status).toBe(200);
    const adminEvent = (await admin.next()).data.orgConfigChanged;
    expect(adminEvent.changes).toHaveLength(2);
    const widgetEvent = (await widget.next()).data.orgConfigChanged;
    expect(widgetEvent).toEqual({
      version: adminEvent.version,
      changedFields: ['branding.color'],
      changes: [{ path: 'branding.color', after: '#0a0b0c' }],
      config: { branding: { color: '#0a0b0c' } },
    });
  });
});

describe('a key limited to groups', () => {
  it('changes its groups, and is refused outside them before anything is written (dry runs too)', async () => {
    const before = (await rest('GET', gw.keys.admin)).body;
    const version = (await graphql('{ orgConfig(orgId: "demo") { version } }', gw.keys.admin)).body.data
      .orgConfig.version;
    const refused = await rest('PATCH', scopedKey, { color: '#111111', autoAssignedLimit: 2 });
    expect(refused).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(refused.body.detail).toContain('assignment.autoAssignedLimit');
    expect(refused.body.detail).not.toContain('branding.color');
    const mutation = `mutation($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) {
      ... on UpdateOrgConfigSuccess { config { version } } ... on Error { message } } }`;
    for (const dryRun of [false, true]) {
      const viaGraphQL = await graphql(mutation, scopedKey, {
        input: { orgId: 'demo', dryRun, patch: { sla: { openedConversations: { slaEnabled: true } } } },
      });
      expect(viaGraphQL.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(viaGraphQL.body.errors[0].message).toContain('sla.openedConversations.slaEnabled');
    }
    const after = await graphql('{ orgConfig(orgId: "demo") { version } }', gw.keys.admin);
    expect(after.body.data.orgConfig.version).toBe(version);
    expect((await rest('GET', gw.keys.admin)).body).toEqual(before);

    const allowed = await graphql(mutation, scopedKey, {
      input: {
        orgId: 'demo',
        patch: { branding: { color: '#222222' }, messages: { welcome: { en: 'Hi' } } },
      },
    });
    expect(allowed.body.data.updateOrgConfig.config.version).toBe(version + 1);
    expect((await rest('PATCH', scopedKey, { color: '#333333' })).status).toBe(200);
  });
});

describe('last use', () => {
  it('is noted by every door and written in a batch, not per request', async () => {
    const { key, record } = await createApiKey(gw.store, 'demo', 'adviser');
    const lastUse = async () =>
      (await gw.store.listApiKeys('demo')).find((listed) => listed.id === record.id)!.lastUsedAt;
    const before = Date.now();
    for (let round = 0; round < 5; round++) {
      expect((await rest('GET', key)).status).toBe(200);
      expect((await graphql(publicRead, key, { orgId: 'demo' })).status).toBe(200);
    }
    expect(await lastUse()).toBeNull();
    await gw.gateway.keyUse.flush();
    expect((await lastUse())!.getTime()).toBeGreaterThanOrEqual(before);
  });
});

describe('expiry, checked at use', () => {
  it('ends a live subscription once its key has expired', async () => {
    const expiresAt = new Date(Date.now() + 1_500);
    const { key } = await createApiKey(gw.store, 'demo', 'adviser', { expiresAt });
    const stream = await sseSubscribe(
      gw.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo") { version } }',
      {},
      { 'x-api-key': key },
    );
    expect(stream.status).toBe(200);
    expect((await rest('PATCH', gw.keys.admin, { autoAssignedLimit: 5 })).status).toBe(200);
    expect(JSON.parse((await stream.next()).data).data.orgConfigChanged.version).toBeTypeOf('number');
    // At the stored expiry, the stream completes (the edge's key lifetimes, step 12).
    expect((await stream.next(10_000)).event).toBe('complete');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime() - 5);
    stream.close();
  });

  it('refuses an expired key with KEY_EXPIRED on REST and GraphQL', async () => {
    const { key } = await createApiKey(gw.store, 'demo', 'admin', { expiresAt: new Date(Date.now() - 1) });
    expect(await rest('GET', key)).toMatchObject({ status: 401, body: { code: 'KEY_EXPIRED' } });
    const viaGraphQL = await graphql('{ orgConfig(orgId: "demo") { version } }', key);
    expect(viaGraphQL.status).toBe(401);
    expect(viaGraphQL.body.errors[0].extensions.code).toBe('KEY_EXPIRED');
  });

  it('stops a key the cache holds once its stored expiry passes, on the cached paths too', async () => {
    const { key } = await createApiKey(gw.store, 'demo', 'admin', {
      expiresAt: new Date(Date.now() + 1_500),
    });
    // Read twice: the key is cached and the reads are answered from the caches (REST, GraphQL plans).
    expect((await rest('GET', key)).status).toBe(200);
    expect((await graphql(publicRead, key, { orgId: 'demo' })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) status = (await rest('GET', key)).status;
    expect(status).toBe(401);
    expect(Date.now()).toBeLessThan(deadline);
    expect((await graphql(publicRead, key, { orgId: 'demo' })).body.errors[0].extensions.code).toBe(
      'KEY_EXPIRED',
    );
  });
});
