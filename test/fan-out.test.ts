// The fan-out writes live events straight to SSE and WebSocket clients that keep up, and leaves the
// others to their subscription's queue: same events, same order, each once, over a real server.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { operator } from '../src/auth/actor.ts';
import { createListeningGateway, type ListeningGateway, sseSubscribe, until } from './helpers.ts';

const COLOR =
  'subscription ($orgId: ID!) { orgConfigChanged(orgId: $orgId) { version config { branding { color } } } }';

let gw: ListeningGateway | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await gw?.close();
  gw = undefined;
});

/** A graphql-transport-ws subscription on a plain socket, with each message as the server sent it. */
async function rawWsSubscribe(
  baseUrl: string,
  key: string,
  query: string,
  variables: Record<string, unknown>,
) {
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  sockets.push(socket);
  const messages: string[] = [];
  let wake: (() => void) | null = null;
  socket.on('message', (data) => {
    messages.push(String(data));
    wake?.();
  });
  const message = async (): Promise<string> => {
    while (messages.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return messages.shift()!;
  };
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } }));
  expect(JSON.parse(await message()).type).toBe('connection_ack');
  socket.send(JSON.stringify({ id: 'sub-1', type: 'subscribe', payload: { query, variables } }));
  return { message };
}

const colorPut = (gateway: ListeningGateway, color: string) =>
  fetch(`${gateway.baseUrl}/api/orgs/demo/config`, {
    method: 'PUT',
    headers: { 'x-api-key': gateway.keys.admin, 'content-type': 'application/json' },
    body: JSON.stringify({ color }),
  });

describe('the fan-out', () => {
  it('writes a live event once per selection straight to each SSE and WebSocket subscriber, as the result stream would', async () => {
    {
      const gateway = (gw = await createListeningGateway({ webSockets: true }));
      const sse = [
        await sseSubscribe(gateway.baseUrl, COLOR, { orgId: 'demo' }, { 'x-api-key': gateway.keys.adviser }),
        await sseSubscribe(gateway.baseUrl, COLOR, { orgId: 'demo' }, { 'x-api-key': gateway.keys.adviser }),
      ];
      const ws = await rawWsSubscribe(gateway.baseUrl, gateway.keys.adviser, COLOR, { orgId: 'demo' });
      await until(() => gateway.events.subscriberCount('demo') === 3);
      expect((await colorPut(gateway, '#0a0b0c')).status).toBe(200);

      const data = { data: { orgConfigChanged: { version: 2, config: { branding: { color: '#0a0b0c' } } } } };
      for (const subscriber of sse)
        expect(await subscriber.next()).toEqual({ event: 'next', id: '2', data: JSON.stringify(data) });
      // Byte for byte the message graphql-ws makes: id, type, payload, in that order.
      expect(await ws.message()).toBe(JSON.stringify({ id: 'sub-1', type: 'next', payload: data }));
      expect(gateway.gateway.sharedEvents!.directDeliveries).toBe(3);
      for (const subscriber of sse) subscriber.close();
      for (const socket of sockets.splice(0)) socket.terminate();
      await gateway.close();
      gw = undefined;
    }
  });

  it('writes the events of an HTTP/1.0 SSE client, whose body is not chunked, as they are', async () => {
    const gateway = (gw = await createListeningGateway());
    const socket = connect(Number(new URL(gateway.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    const body = JSON.stringify({ query: COLOR, variables: { orgId: 'demo' } });
    socket.write(
      `POST /graphql HTTP/1.0\r\ncontent-type: application/json\r\naccept: text/event-stream\r\nx-api-key: ${gateway.keys.adviser}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await until(() => gateway.events.subscriberCount('demo') === 1 && received.includes('\r\n\r\n'));
    expect((await colorPut(gateway, '#0a0b0d')).status).toBe(200);
    await until(() => received.includes('event: next'));
    await until(() => received.endsWith('\n\n'));
    const data = JSON.stringify({
      data: { orgConfigChanged: { version: 2, config: { branding: { color: '#0a0b0d' } } } },
    });
    expect(received.slice(received.indexOf('\r\n\r\n') + 4)).toBe(
      `:\n\nevent: next\nid: 2\ndata: ${data}\n\n`,
    );
    expect(gateway.gateway.sharedEvents!.directDeliveries).toBe(1);
    socket.destroy();
  });

  it('keeps each subscriber in version order, each change once, while changes come faster than their events are written', async () => {
    const gateway = (gw = await createListeningGateway({ webSockets: true }));
    const sse = [
      await sseSubscribe(gateway.baseUrl, COLOR, { orgId: 'demo' }, { 'x-api-key': gateway.keys.adviser }),
      await sseSubscribe(gateway.baseUrl, COLOR, { orgId: 'demo' }, { 'x-api-key': gateway.keys.admin }),
    ];
    const ws = [
      await rawWsSubscribe(gateway.baseUrl, gateway.keys.adviser, COLOR, { orgId: 'demo' }),
      await rawWsSubscribe(gateway.baseUrl, gateway.keys.admin, COLOR, { orgId: 'demo' }),
    ];
    await until(() => gateway.events.subscriberCount('demo') === 4);
    const changes = 60;
    // Not awaited one by one: commits land while earlier events are still on their way.
    await Promise.all(
      Array.from({ length: changes }, (_, n) =>
        gateway.service.update(operator, {
          orgId: 'demo',
          patch: { branding: { color: `#0000${String(n).padStart(2, '0')}` } },
          door: 'cli',
        }),
      ),
    );
    const expected = Array.from({ length: changes }, (_, n) => n + 2);
    for (const subscriber of sse) {
      const versions = [];
      for (let n = 0; n < changes; n++)
        versions.push(JSON.parse((await subscriber.next()).data).data.orgConfigChanged.version);
      expect(versions).toEqual(expected);
      subscriber.close();
    }
    for (const subscriber of ws) {
      const versions = [];
      for (let n = 0; n < changes; n++)
        versions.push(JSON.parse(await subscriber.message()).payload.data.orgConfigChanged.version);
      expect(versions).toEqual(expected);
    }
    // Some went straight to their clients, and no event was written twice (the counts above).
    expect(gateway.gateway.sharedEvents!.directDeliveries).toBeGreaterThan(0);
  });

  it('gives changes made while a backlog is replayed after it, in order, each once', async () => {
    const gateway = (gw = await createListeningGateway({ webSockets: true }));
    const update = (n: number) =>
      gateway.service.update(operator, {
        orgId: 'demo',
        patch: { branding: { color: `#${String(n).padStart(6, '0')}` } },
        door: 'cli',
      });
    for (let n = 0; n < 300; n++) await update(n);
    const since = { orgId: 'demo', sinceVersion: 1 };
    const query =
      'subscription ($orgId: ID!, $sinceVersion: Int) { orgConfigChanged(orgId: $orgId, sinceVersion: $sinceVersion) { version config { branding { color } } } }';
    const sse = await sseSubscribe(gateway.baseUrl, query, since, { 'x-api-key': gateway.keys.adviser });
    const ws = await rawWsSubscribe(gateway.baseUrl, gateway.keys.adviser, query, since);
    const total = 400;
    // The other 100 are committed one by one while both read the backlog.
    const committing = (async () => {
      for (let n = 300; n < total; n++) await update(n);
    })();
    const sseVersions: number[] = [];
    const wsVersions: number[] = [];
    await Promise.all([
      (async () => {
        while (sseVersions.length < total)
          sseVersions.push(JSON.parse((await sse.next()).data).data.orgConfigChanged.version);
      })(),
      (async () => {
        while (wsVersions.length < total)
          wsVersions.push(JSON.parse(await ws.message()).payload.data.orgConfigChanged.version);
      })(),
      committing,
    ]);
    const expected = Array.from({ length: total }, (_, n) => n + 2);
    expect(sseVersions).toEqual(expected);
    expect(wsVersions).toEqual(expected);
    sse.close();
  });

  it('leaves a client that stopped reading to its queue, and ends it once too far behind, while the others get every change', async () => {
    const gateway = (gw = await createListeningGateway());
    // Events of some 10 kB each, so that the socket's buffers fill after a few hundred.
    const big =
      'subscription ($orgId: ID!) { orgConfigChanged(orgId: $orgId) { version changes { before after } config { privacy { agreementText } } } }';
    const reader = await sseSubscribe(
      gateway.baseUrl,
      big,
      { orgId: 'demo' },
      { 'x-api-key': gateway.keys.adviser },
    );
    const stalled = await stalledSseSubscriber(gateway, big);
    await until(() => gateway.events.subscriberCount('demo') === 2);
    let version = 1;
    const read: number[] = [];
    // Commit in steps the reader keeps up with, until the stalled one has been ended.
    while (gateway.events.subscriberCount('demo') === 2 && version < 5_000) {
      for (let n = 0; n < 50; n++, version++) {
        await gateway.service.update(operator, {
          orgId: 'demo',
          patch: { privacy: { agreementText: (version % 2 ? 'a' : 'b').repeat(3_000) } },
          door: 'cli',
        });
      }
      while (read.length < version - 1)
        read.push(JSON.parse((await reader.next()).data).data.orgConfigChanged.version);
    }
    expect(gateway.events.subscriberCount('demo')).toBe(1);
    expect(read).toEqual(Array.from({ length: version - 1 }, (_, n) => n + 2));
    // Events went straight to the clients while their buffers had room, then waited in their queues.
    expect(gateway.gateway.sharedEvents!.directDeliveries).toBeGreaterThan(0);
    reader.close();
    stalled.destroy();
  });
});

/** An SSE subscription whose client reads the response head and then nothing more. */
async function stalledSseSubscriber(gateway: ListeningGateway, query: string): Promise<Socket> {
  const { port } = new URL(gateway.baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  const body = JSON.stringify({ query, variables: { orgId: 'demo' } });
  socket.write(
    `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: text/event-stream\r\nx-api-key: ${gateway.keys.adviser}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return socket;
}
