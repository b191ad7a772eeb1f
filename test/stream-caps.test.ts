// Streams are capped per client address and per secret key, over SSE and WebSocket together; a
// stream over a cap is refused with TOO_MANY_STREAMS (SSE: HTTP 429; WebSocket: the subscribe's
// one result carries the error, then complete), and a closed stream frees its place.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Actor } from '../src/auth/actor.ts';
import { StreamCaps, streamKeyOf } from '../src/edge/stream-caps.ts';
import { createListeningGateway, type ListeningGateway, sseSubscribe, until } from './helpers.ts';

const CHANGED = 'subscription { orgConfigChanged(orgId: "demo") { version } }';

describe('StreamCaps', () => {
  it('counts a secret key by its id, and a publishable key (shared by a site) by address alone', () => {
    const key = (role: 'admin' | 'adviser' | 'widget'): Actor => ({
      kind: 'apiKey',
      keyId: `key_${role}`,
      keyHash: 'hash',
      orgId: 'demo',
      role,
      groups: null,
      expiresAt: null,
    });
    expect(streamKeyOf(key('admin'))).toBe('key_admin');
    expect(streamKeyOf(key('adviser'))).toBe('key_adviser');
    expect(streamKeyOf(key('widget'))).toBeNull();
  });

  it('counts per address and per key, refuses over either, frees on release (once), and keeps no entry for nothing held', () => {
    const caps = new StreamCaps({ perAddress: 3, perKey: 2 });
    const first = caps.acquire('10.0.0.1', 'key_a');
    const second = caps.acquire('10.0.0.2', 'key_a');
    expect(typeof first).toBe('function');
    expect(typeof second).toBe('function');
    expect(caps.acquire('10.0.0.3', 'key_a')).toBe('key');
    // A key shared by a site's visitors (null) is bounded by address alone.
    const shared = [caps.acquire('10.0.0.1', null), caps.acquire('10.0.0.1', null)];
    expect(caps.acquire('10.0.0.1', null)).toBe('address');
    (first as () => void)();
    (first as () => void)(); // twice frees once
    expect(caps.held()).toEqual({ addresses: 2, keys: 1, streams: 3 });
    expect(typeof caps.acquire('10.0.0.3', 'key_a')).toBe('function');
    expect(caps.acquire('10.0.0.4', 'key_a')).toBe('key');
    for (const release of [second, ...shared]) (release as () => void)();
    expect(caps.held()).toEqual({ addresses: 1, keys: 1, streams: 1 });
  });
});

/** A graphql-ws connection (raw protocol) with one subscription: its first message after subscribing. */
async function wsSubscribe(
  baseUrl: string,
  key: string,
): Promise<{ first: Promise<Record<string, any>>; messages: Record<string, any>[]; close: () => void }> {
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: Record<string, any>[] = [];
  let firstResolve: (message: Record<string, any>) => void;
  const first = new Promise<Record<string, any>>((resolve) => (firstResolve = resolve));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => resolve());
  });
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: CHANGED } }));
      return;
    }
    messages.push(message);
    if (messages.length === 1) firstResolve(message);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } }));
  return { first, messages, close: () => socket.close() };
}

let gw: ListeningGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('streams over the caps', () => {
  it('are refused with TOO_MANY_STREAMS on SSE (429) and WebSocket, per key and per address, and a closed one frees its place', async () => {
    const gateway = await createListeningGateway({
      webSockets: true,
      streamLimits: { perAddress: 3, perKey: 2 },
    });
    gw = gateway;
    const headers = (key: string) => ({ 'x-api-key': key });
    const sse = [
      await sseSubscribe(gateway.baseUrl, CHANGED, {}, headers(gateway.keys.admin)),
      await sseSubscribe(gateway.baseUrl, CHANGED, {}, headers(gateway.keys.admin)),
    ];
    expect(sse.map((stream) => stream.status)).toEqual([200, 200]);

    // The key's third stream, over SSE and over WebSocket.
    const refused = await fetch(`${gateway.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...headers(gateway.keys.admin),
      },
      body: JSON.stringify({ query: CHANGED }),
    });
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('"code":"TOO_MANY_STREAMS"');
    const overKey = await wsSubscribe(gateway.baseUrl, gateway.keys.admin);
    const message = await overKey.first;
    expect(message.type).toBe('next');
    expect(message.payload.errors[0].extensions.code).toBe('TOO_MANY_STREAMS');
    await until(() => overKey.messages.some((m) => m.type === 'complete'));
    overKey.close();

    // Another key from the same address: one more (live: it hears the next change), then the address is full.
    const third = await wsSubscribe(gateway.baseUrl, gateway.keys.adviser);
    const deadline = Date.now() + 5_000;
    for (let color = 1; !third.messages.length; color++) {
      if (Date.now() > deadline) throw new Error('the WebSocket stream heard no change');
      await gateway.graphql(
        `mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#0102${String(color).padStart(2, '0')}" } } }) { __typename } }`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await third.first).type).toBe('next');
    expect((await third.first).payload.data.orgConfigChanged.version).toBeGreaterThanOrEqual(2);
    const overAddress = await sseSubscribe(gateway.baseUrl, CHANGED, {}, headers(gateway.keys.otherAdmin));
    expect(overAddress.status).toBe(429);

    // Closing one (the client goes away) frees its place.
    sse[0]!.close();
    let again: Awaited<ReturnType<typeof sseSubscribe>> | undefined;
    const freed = Date.now() + 5_000;
    while (again?.status !== 200) {
      again?.close();
      if (Date.now() > freed) throw new Error('the closed stream did not free its place');
      again = await sseSubscribe(gateway.baseUrl, CHANGED, {}, headers(gateway.keys.admin));
    }
    again.close();
    sse[1]!.close();
    third.close();
  });
});
