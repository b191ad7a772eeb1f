// GET /metrics: Prometheus text of what the edge and the doors counted, behind a bearer token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { createTestBackend, listen, sseSubscribe, until } from './helpers.ts';

const token = 'scraper-token-0123456789';
let backend: Awaited<ReturnType<typeof createTestBackend>>;
let gateway: Gateway;
let server: Awaited<ReturnType<typeof listen>>;
let key: string;

beforeAll(async () => {
  backend = await createTestBackend();
  const service = new ConfigService(backend.store, backend.events);
  await service.createOrg(operator, 'demo', exampleSettings());
  key = (await createApiKey(backend.store, 'demo', 'admin')).key;
  gateway = createGateway({
    store: backend.store,
    events: backend.events,
    metricsToken: token,
    rateLimits: { perKeyPerMinute: 12, failedAuthPerMinute: 100 },
  });
  server = await listen(gateway, { webSockets: true });
});

afterAll(async () => {
  await server.close();
  await gateway.close();
  await backend.close();
});

/** The metrics as name{labels} -> value. */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${server.baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

const graphql = (body: object) =>
  fetch(`${server.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });

describe('GET /metrics', () => {
  it('asks for the bearer token, and is not there without one set', async () => {
    expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(401);
    const other = createGateway({ store: backend.store, events: backend.events });
    const otherServer = await listen(other);
    try {
      expect(
        (await fetch(`${otherServer.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      ).toBe(404);
    } finally {
      await otherServer.close();
      await other.close();
    }
  });

  it('counts requests by door, plan, status class and operation, subscribers, lag, refusals and the cache, with no org, key or query in a label', async () => {
    const widget = {
      query: 'query W($orgId: ID!) { orgConfig(orgId: $orgId) { version } }',
      variables: { orgId: 'demo' },
    };
    await fetch(`${server.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': key } });
    await fetch(`${server.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': 'unknown' } });
    await graphql(widget); // yoga
    await graphql(widget); // its plan
    const sse = await sseSubscribe(
      server.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo") { version } }',
      {},
      { 'x-api-key': key },
    );
    const socket = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const acked = new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } }));
    await acked;
    socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: 'subscription { orgConfigChanged(orgId: "demo") { version } }' },
      }),
    );
    await until(() => backend.events.subscriberCount('demo') === 2);
    await fetch(`${server.baseUrl}/api/orgs/demo/config`, {
      method: 'PATCH',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ color: '#010203' }),
    });
    await sse.next();
    let live = await scrape();
    expect(live.get('gateway_subscribers{transport="sse"}')).toBe(1);
    expect(live.get('gateway_subscribers{transport="websocket"}')).toBe(1);
    // Over the key's limit of 12 a minute.
    for (let i = 0; i < 8; i++)
      await fetch(`${server.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': key } });
    sse.close();
    socket.close();
    await until(() => backend.events.subscriberCount('demo') === 0);

    const metrics = await scrape();
    const get = (name: string) => metrics.get(name) ?? 0;
    expect(
      get('gateway_requests_total{door="rest",plan="no",status="2xx",operation="none"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(
      get('gateway_requests_total{door="rest",plan="no",status="4xx",operation="none"}'),
    ).toBeGreaterThanOrEqual(2);
    expect(get('gateway_requests_total{door="graphql",plan="no",status="2xx",operation="query"}')).toBe(1);
    expect(get('gateway_requests_total{door="graphql",plan="yes",status="2xx",operation="query"}')).toBe(1);
    expect(get('gateway_requests_total{door="sse",plan="no",status="2xx",operation="subscription"}')).toBe(1);
    expect(
      get('gateway_requests_total{door="websocket",plan="no",status="2xx",operation="subscription"}'),
    ).toBe(1);
    expect(get('gateway_request_duration_seconds_count{door="graphql",plan="yes"}')).toBe(1);
    expect(get('gateway_rate_limit_refusals_total{limit="per-key"}')).toBeGreaterThanOrEqual(1);
    expect(get('gateway_change_feed_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(get('gateway_cache_lookups_total{kind="key",result="hit"}')).toBeGreaterThan(0);
    expect(get('gateway_cache_lookups_total{kind="config",result="hit"}')).toBeGreaterThan(0);
    live = await scrape();
    expect(live.get('gateway_subscribers{transport="sse"}')).toBe(0);
    await until(() => gateway.metrics.subscribers.websocket === 0);
    const text = [...metrics.keys()].join('\n');
    for (const secret of ['demo', key, 'orgConfig']) expect(text).not.toContain(secret);
  });
});
