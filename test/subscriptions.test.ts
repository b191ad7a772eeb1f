// orgConfigChanged over SSE (yoga's own and the graphql-sse client) and WebSocket (graphql-ws), over a real server.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { operator as operatorActor } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createListeningGateway, type ListeningGateway, sseSubscribe, tempDir, until } from './helpers.ts';

const CHANGED = `subscription ($orgId: ID!, $fields: [String!], $sinceVersion: Int) {
  orgConfigChanged(orgId: $orgId, fields: $fields, sinceVersion: $sinceVersion) {
    version changedFields changedAt door actor { role } config { version branding { color } }
  }
}`;

let gw: ListeningGateway;
let baseUrl: string;
const wsClients: WsClient[] = [];

beforeEach(async () => {
  gw = await createListeningGateway({ webSockets: true });
  baseUrl = gw.baseUrl;
});
afterEach(async () => {
  for (const client of wsClients.splice(0)) await client.dispose();
  await gw.close();
});

const restPut = (body: Record<string, unknown>, orgId = 'demo', key = gw.keys.admin) =>
  fetch(`${baseUrl}/api/orgs/${orgId}/config`, {
    method: 'PUT',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Revokes a key from another process, as an operator would, and waits until the gateway has noticed. */
async function revokeWithCli(keyId: string): Promise<void> {
  const noticed = new Promise<void>((resolve) => gw.events.watchKeyChanges(resolve));
  const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'key', 'revoke', keyId], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, DATABASE_URL: gw.databaseUrl },
    stdio: 'ignore',
  });
  expect(await new Promise((resolve) => cli.once('exit', resolve))).toBe(0);
  await noticed;
}

const subscribe = (variables: Record<string, unknown>, key = gw.keys.adviser) =>
  sseSubscribe(baseUrl, CHANGED, { orgId: 'demo', ...variables }, { 'x-api-key': key });

/** A graphql-ws subscription whose events are read one by one. */
function wsSubscribe(variables: Record<string, unknown>, key: string) {
  const client = createWsClient({
    url: `${baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-api-key': key },
    lazy: false,
    retryAttempts: 0,
  });
  wsClients.push(client);
  const iterator = client.iterate({ query: CHANGED, variables: { orgId: 'demo', ...variables } });
  return {
    next: async () => (await iterator.next()).value,
    /** Resolves once the server has acknowledged the connection. */
    connected: new Promise<void>((resolve) => client.on('connected', () => resolve())),
  };
}

/**
 * A stream of a revoked key: the edge ends it once the revocation reaches this gateway; a change
 * committed before that gets UNAUTHENTICATED rather than the change. No change is delivered.
 */
async function expectRefusedUntilComplete(sse: Awaited<ReturnType<typeof subscribe>>): Promise<void> {
  for (;;) {
    const event = await sse.next(10_000);
    if (event.event === 'complete') return;
    const result = JSON.parse(event.data);
    expect(result.data?.orgConfigChanged ?? null).toBeNull();
    expect(result.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  }
}

describe('orgConfigChanged', () => {
  it('delivers a REST change to an SSE subscriber and a WebSocket subscriber, with the version as the SSE event id', async () => {
    const sse = await subscribe({ sinceVersion: 1 });
    expect(sse.status).toBe(200);
    const ws = wsSubscribe({ sinceVersion: 1 }, gw.keys.adviser);
    await ws.connected;

    expect((await restPut({ color: '#abcdef' })).status).toBe(200);

    const event = await sse.next();
    expect(event.event).toBe('next');
    expect(event.id).toBe('2');
    const expected = {
      version: 2,
      changedFields: ['branding.color'],
      changedAt: expect.any(String),
      door: 'REST',
      actor: null, // who changed it is for admin keys only
      config: { version: 2, branding: { color: '#abcdef' } },
    };
    expect(JSON.parse(event.data).data.orgConfigChanged).toEqual(expected);
    expect((await ws.next()).data.orgConfigChanged).toEqual(expected);
    sse.close();
  });

  it('delivers only the changes touching the fields asked for', async () => {
    const sse = await subscribe({ fields: ['sla', 'branding.color'] });
    await restPut({ autoAssignedLimit: 9 });
    await restPut({ waitingConversationsSlaRangeUpperBound: 31 });
    await restPut({ name: 'Renamed' });
    await restPut({ color: '#010203', name: 'Renamed again' });
    const first = JSON.parse((await sse.next()).data).data.orgConfigChanged;
    const second = JSON.parse((await sse.next()).data).data.orgConfigChanged;
    expect([first.version, first.changedFields]).toEqual([3, ['sla.waitingConversations.range.upperBound']]);
    expect([second.version, second.changedFields]).toEqual([5, ['branding.name', 'branding.color']]);
    sse.close();
  });

  it('refuses unknown field paths', async () => {
    const sse = await subscribe({ fields: ['branding.colour'] });
    const event = await sse.next();
    expect(JSON.parse(event.data).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    sse.close();
  });

  it('never shows a subscriber of one organisation the changes of another', async () => {
    const demo = await subscribe({});
    await restPut({ color: '#999999' }, 'other', gw.keys.otherAdmin);
    await restPut({ color: '#888888' });
    const event = JSON.parse((await demo.next()).data).data.orgConfigChanged;
    expect(event.config.branding.color).toBe('#888888');
    demo.close();

    const foreign = await subscribe({}, gw.keys.otherAdmin);
    expect(JSON.parse((await foreign.next()).data).errors[0].extensions.code).toBe('NOT_FOUND');
    foreign.close();
    const anonymous = await sseSubscribe(baseUrl, CHANGED, { orgId: 'demo' }, {});
    expect(JSON.parse((await anonymous.next()).data).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    anonymous.close();
  });

  it('gives a reconnecting subscriber the missed revisions first, in order, then the live ones', async () => {
    for (const color of ['#000001', '#000002', '#000003']) await restPut({ color });
    const resumed = await subscribe({ sinceVersion: 2 });
    const versions = [];
    for (let i = 0; i < 2; i++)
      versions.push(JSON.parse((await resumed.next()).data).data.orgConfigChanged.version);
    expect(versions).toEqual([3, 4]);
    await restPut({ color: '#000005' });
    expect(JSON.parse((await resumed.next()).data).data.orgConfigChanged.version).toBe(5);
    resumed.close();

    // EventSource sends the id of the last event it had as Last-Event-ID.
    const viaLastEventId = await sseSubscribe(
      baseUrl,
      CHANGED,
      { orgId: 'demo' },
      { 'x-api-key': gw.keys.adviser, 'last-event-id': '4' },
    );
    const event = await viaLastEventId.next();
    expect([event.id, JSON.parse(event.data).data.orgConfigChanged.version]).toEqual(['5', 5]);
    viaLastEventId.close();
  });

  it('works with the fetch-based graphql-sse client, the way for browsers to send the key as a header', async () => {
    const client = createSseClient({
      url: `${baseUrl}/graphql`,
      headers: { 'x-api-key': gw.keys.adviser },
      retryAttempts: 0,
    });
    const iterator = client.iterate({ query: CHANGED, variables: { orgId: 'demo', sinceVersion: 1 } });
    const received = iterator.next();
    await restPut({ color: '#fedcba' });
    expect((await received).value?.data?.orgConfigChanged).toMatchObject({
      version: 2,
      config: { branding: { color: '#fedcba' } },
    });
    await iterator.return?.();
    client.dispose();
  });

  it('reaches a subscriber with a change committed by the CLI in another process', async () => {
    const sse = await subscribe({}, gw.keys.admin);
    const dir = tempDir();
    try {
      const file = join(dir.path, 'patch.json');
      writeFileSync(file, JSON.stringify({ color: '#c0ffee' }));
      const cli = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', 'config', 'import', 'demo', file],
        {
          cwd: new URL('..', import.meta.url).pathname,
          env: { ...process.env, DATABASE_URL: gw.databaseUrl },
          stdio: 'ignore',
        },
      );
      expect(await new Promise((resolve) => cli.once('exit', resolve))).toBe(0);
      const event = JSON.parse((await sse.next(2_000)).data).data.orgConfigChanged;
      expect(event).toMatchObject({
        version: 2,
        door: 'CLI',
        actor: { role: 'operator' },
        config: { branding: { color: '#c0ffee' } },
      });
      // The read cache has it too.
      const read = await fetch(`${baseUrl}/api/orgs/demo/config`, {
        headers: { 'x-api-key': gw.keys.adviser },
      });
      expect([read.headers.get('etag'), (await read.json()).color]).toEqual(['"v2"', '#c0ffee']);
    } finally {
      sse.close();
      dir.remove();
    }
  });

  it('stops accepting a key revoked by the CLI in another process', async () => {
    const read = () =>
      fetch(`${baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': gw.keys.adviser } }).then(
        (response) => response.status,
      );
    expect(await read()).toBe(200); // the key is cached now
    const keyId = (await gw.store.listApiKeys('demo')).find((key) => key.role === 'adviser')!.id;
    await revokeWithCli(keyId);
    expect(await read()).toBe(401);
  });

  it('publishes nothing for a dry run or a rejected change, and each revision once', async () => {
    const sse = await subscribe({});
    const mutate = (patch: unknown, dryRun = false) =>
      gw.graphql(
        'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }',
        { input: { orgId: 'demo', patch, dryRun } },
      );
    await mutate({ branding: { color: '#101010' } }, true);
    await mutate({ branding: { color: 'nope' } });
    await restPut({ color: 'nope' });
    await mutate({ branding: { color: '#202020' } });
    await mutate({ branding: { color: '#303030' } });
    await restPut({ color: '#404040' });
    const versions = [];
    for (let i = 0; i < 3; i++)
      versions.push(JSON.parse((await sse.next()).data).data.orgConfigChanged.version);
    // Nothing came between or twice: the three events are exactly the three commits.
    expect(versions).toEqual([2, 3, 4]);
    sse.close();
  });

  it('frees the subscription when the client goes away, a fields-filtered one included', async () => {
    const sse = await subscribe({ fields: ['sla'] });
    await until(() => gw.events.subscriberCount('demo') === 1);
    sse.close();
    await until(() => gw.events.subscriberCount('demo') === 0);
  });

  it('replays a backlog longer than a page, in order, then goes live', async () => {
    for (let n = 0; n < 620; n++) {
      await gw.service.update(operatorActor, {
        orgId: 'demo',
        patch: { assignment: { autoAssignedLimit: n % 2 === 0 ? 5 : 6 } },
        door: 'cli',
      });
    }
    const sse = await subscribe({ sinceVersion: 1 });
    let expected = 2;
    for (; expected <= 621; expected++)
      expect(JSON.parse((await sse.next()).data).data.orgConfigChanged.version).toBe(expected);
    await restPut({ color: '#123456' });
    expect(JSON.parse((await sse.next()).data).data.orgConfigChanged.version).toBe(622);
    sse.close();
  });

  it('refuses a sinceVersion the organisation has not reached', async () => {
    for (const sinceVersion of [5, -1]) {
      const sse = await subscribe({ sinceVersion });
      const [error] = JSON.parse((await sse.next()).data).errors;
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      // About the argument, not "the configuration is not valid".
      expect(error.message).toBe(
        `sinceVersion: ${sinceVersion} is not a version to follow from: give one from 0 to the current version, 1`,
      );
      sse.close();
    }
    const sse = await subscribe({ fields: ['branding.colour', 'sla'] });
    const [error] = JSON.parse((await sse.next()).data).errors;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.message).toBe(
      'fields: "branding.colour" is not a setting or group path of OrgConfig, such as "branding.color" or "sla"',
    );
    sse.close();
  });

  it('stops giving changes to a key revoked while it listens', async () => {
    const sse = await subscribe({});
    const keyId = (await gw.store.listApiKeys('demo')).find((key) => key.role === 'adviser')!.id;
    await revokeWithCli(keyId);
    await restPut({ color: '#0f0f0f' });
    await expectRefusedUntilComplete(sse);
    sse.close();
  });

  it('gives subscribers of the same selection the same event, each as its role may see it', async () => {
    const advisers = [await subscribe({}), await subscribe({})];
    const admin = await subscribe({}, gw.keys.admin);
    const otherSelection = await sseSubscribe(
      baseUrl,
      'subscription { orgConfigChanged(orgId: "demo") { version } }',
      {},
      { 'x-api-key': gw.keys.adviser },
    );
    const ws = wsSubscribe({}, gw.keys.adviser);
    await until(
      () =>
        (gw.events as unknown as { subscriberCount(orgId: string): number }).subscriberCount('demo') === 5,
    );
    await restPut({ color: '#0e0e0e' });
    const [first, second] = await Promise.all(advisers.map((sse) => sse.next()));
    expect(second).toEqual(first);
    expect(first!.id).toBe('2');
    const event = JSON.parse(first!.data);
    expect(event.data.orgConfigChanged).toMatchObject({
      version: 2,
      actor: null,
      config: { branding: { color: '#0e0e0e' } },
    });
    expect(JSON.parse((await admin.next()).data).data.orgConfigChanged.actor).toEqual({ role: 'admin' });
    expect(JSON.parse((await otherSelection.next()).data)).toEqual({
      data: { orgConfigChanged: { version: 2 } },
    });
    expect((await ws.next()).data).toEqual(event.data);
    for (const sse of [...advisers, admin, otherSelection]) sse.close();
  });

  it('refuses a key revoked while it listens even when others of the same selection still get the change', async () => {
    const revoked = await createApiKey(gw.store, 'demo', 'adviser');
    const keeps = await subscribe({});
    const loses = await subscribe({}, revoked.key);
    await revokeWithCli(revoked.record.id);
    await restPut({ color: '#0d0d0d' });
    expect(JSON.parse((await keeps.next()).data).data.orgConfigChanged.config.branding.color).toBe('#0d0d0d');
    await expectRefusedUntilComplete(loses);
    keeps.close();
    loses.close();
  });
});
