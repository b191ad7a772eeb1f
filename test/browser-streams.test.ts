// Streams a browser can open (EventSource): GET /graphql with the subscription in the URL, a widget
// key as ?key= or a secret key's single-use ?ticket=; event ids are versions and Last-Event-ID
// resumes; a stream ends once its key is revoked or expires; every wrong credential is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createLogger } from '../src/logging.ts';
import { createTestGateway, type SseEvent, sseGet, type TestGateway } from './helpers.ts';

const followColor =
  'subscription ($org: ID!) { orgConfigChanged(orgId: $org) { version config { branding { color } } } }';

let gw: TestGateway;
let widgetKey: string;
const logLines: string[] = [];

beforeAll(async () => {
  gw = await createTestGateway({
    streamKeyRecheckMs: 100,
    logger: createLogger('info', { write: (line: string) => void logLines.push(line) }),
  });
  widgetKey = (await createApiKey(gw.store, 'demo', 'widget')).key;
});
afterAll(async () => {
  await gw?.close();
});

async function setColor(color: string): Promise<number> {
  const answer = await gw.fetch('http://gateway.test/api/orgs/demo/config', {
    method: 'PATCH',
    headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
    body: JSON.stringify({ color }),
  });
  expect(answer.status).toBe(200);
  return Number(answer.headers.get('etag')!.replace(/\D/g, ''));
}

async function ticketFor(key: string, orgId = 'demo'): Promise<string> {
  const { data, errors } = await gw.graphql(
    'mutation ($org: ID!) { createStreamTicket(orgId: $org) { ticket } }',
    { org: orgId },
    key,
  );
  expect(errors).toBeUndefined();
  return data!.createStreamTicket.ticket;
}

/** What an EventSource reconnecting to demo's colour stream with this credential gets: status and error code. */
async function reconnected(credential: { ticket: string } | { key: string }) {
  const answer = await gw.fetch(
    `http://gateway.test/graphql?${new URLSearchParams({ query: followColor, variables: '{"org":"demo"}', ...credential })}`,
    { headers: { accept: 'text/event-stream' } },
  );
  return { status: answer.status, code: ((await answer.json()) as any).errors[0].extensions.code };
}

/** The next `next` event (pings and comments skipped by the reader). */
const dataOf = (event: SseEvent) => JSON.parse(event.data) as { data?: any; errors?: any[] };

describe('EventSource streams: GET /graphql with the subscription in the URL', () => {
  it('follows changes with a widget key in ?key=, each event id its version', async () => {
    const stream = await sseGet(gw.baseUrl, followColor, { org: 'demo' }, { key: widgetKey });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    try {
      const version = await setColor('#123456');
      const event = await stream.next();
      expect(event.event).toBe('next');
      expect(event.id).toBe(String(version));
      expect(dataOf(event).data.orgConfigChanged).toEqual({
        version,
        config: { branding: { color: '#123456' } },
      });
    } finally {
      stream.close();
    }
  });

  it('resumes after Last-Event-ID without a gap', async () => {
    const from = await setColor('#200000');
    const missed = [await setColor('#200001'), await setColor('#200002')];
    const stream = await sseGet(
      gw.baseUrl,
      followColor,
      { org: 'demo' },
      { key: widgetKey },
      { 'last-event-id': String(from) },
    );
    try {
      const ids = [(await stream.next()).id, (await stream.next()).id];
      expect(ids).toEqual(missed.map(String));
      const live = await setColor('#200003');
      expect((await stream.next()).id).toBe(String(live));
    } finally {
      stream.close();
    }
  });

  it('gives a widget key the public settings only', async () => {
    const stream = await sseGet(
      gw.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo") { config { assignment { autoAssignedLimit } } } }',
      {},
      { key: widgetKey },
    );
    try {
      await setColor('#111111');
      const first = await stream.next();
      expect(dataOf(first).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      stream.close();
    }
  });

  it('opens with a secret key through a single-use ticket, never the key itself', async () => {
    const ticket = await ticketFor(gw.keys.adviser);
    const stream = await sseGet(gw.baseUrl, followColor, { org: 'demo' }, { ticket });
    expect(stream.status).toBe(200);
    try {
      const version = await setColor('#345678');
      expect((await stream.next()).id).toBe(String(version));
    } finally {
      stream.close();
    }
    // Spent: the same URL again (an EventSource reconnecting) is refused.
    expect(await reconnected({ ticket })).toEqual({ status: 401, code: 'TICKET_REUSED' });
  });

  it("answers a ticket used for another organisation's stream as that organisation unknown", async () => {
    const ticket = await ticketFor(gw.keys.admin);
    const stream = await sseGet(gw.baseUrl, followColor, { org: 'other' }, { ticket });
    expect(stream.status).toBe(404);
    stream.close();
  });

  it('ends the stream once its key is revoked, and refuses it then', async () => {
    const { key, record } = await createApiKey(gw.store, 'demo', 'widget');
    const stream = await sseGet(gw.baseUrl, followColor, { org: 'demo' }, { key });
    expect(stream.status).toBe(200);
    await gw.store.revokeApiKey(record.id);
    gw.gateway.cache.forgetKeys();
    expect((await stream.next()).event).toBe('complete');
    expect(await reconnected({ key })).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('ends the stream when its key expires', async () => {
    const { key } = await createApiKey(gw.store, 'demo', 'widget', {
      expiresAt: new Date(Date.now() + 1_000),
    });
    const stream = await sseGet(gw.baseUrl, followColor, { org: 'demo' }, { key });
    expect(stream.status).toBe(200);
    expect((await stream.next(10_000)).event).toBe('complete');
    const reconnect = await gw.fetch(
      `http://gateway.test/graphql?${new URLSearchParams({ query: followColor, variables: '{"org":"demo"}', key })}`,
      { headers: { accept: 'text/event-stream' } },
    );
    expect(reconnect.status).toBe(401);
    expect(((await reconnect.json()) as any).errors[0].extensions.code).toBe('KEY_EXPIRED');
  });
});

describe('wrong credentials in a URL', () => {
  const url = (credential: Record<string, string>) =>
    `http://gateway.test/graphql?${new URLSearchParams({ query: followColor, variables: '{"org":"demo"}', ...credential })}`;
  const stream = { headers: { accept: 'text/event-stream' } };
  const refusal = async (answer: Response) => ({
    status: answer.status,
    code: ((await answer.json()) as any).errors?.[0]?.extensions?.code,
  });

  it('refuses a secret key in the URL unread, and never logs it', async () => {
    for (const key of [gw.keys.admin, gw.keys.adviser])
      expect(await refusal(await gw.fetch(url({ key }), stream))).toEqual({
        status: 400,
        code: 'SECRET_KEY_IN_URL',
      });
    const rest = await gw.fetch(`http://gateway.test/api/orgs/demo/config?key=${gw.keys.admin}`);
    expect(rest.status).toBe(400);
    expect(((await rest.json()) as any).code).toBe('SECRET_KEY_IN_URL');
    expect(logLines.some((line) => line.includes('SECRET') || line.includes('"status":400'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(gw.keys.admin);
    expect(logLines.join('\n')).not.toContain(gw.keys.adviser);
  });

  it('refuses two credentials, a ticket outside an event stream, and unknown or expired tickets', async () => {
    expect(
      await refusal(await gw.fetch(url({ key: widgetKey }), { headers: { 'x-api-key': gw.keys.admin } })),
    ).toEqual({ status: 400, code: 'AMBIGUOUS_CREDENTIALS' });
    const ticket = await ticketFor(gw.keys.admin);
    expect(await refusal(await gw.fetch(url({ ticket })))).toEqual({
      status: 400,
      code: 'TICKET_FOR_STREAMS_ONLY',
    });
    expect(await refusal(await gw.fetch(url({ ticket: 'st_neverminted' }), stream))).toEqual({
      status: 401,
      code: 'TICKET_UNKNOWN',
    });
    const { key: expired } = await createApiKey(gw.store, 'demo', 'widget', {
      expiresAt: new Date(Date.now() - 1),
    });
    expect(await refusal(await gw.fetch(url({ key: expired }), stream))).toEqual({
      status: 401,
      code: 'KEY_EXPIRED',
    });
  });

  it('answers an unknown widget key as no key, naming no organisation', async () => {
    const answer = await gw.fetch(url({ key: 'pk_notakey' }), stream);
    const body = await answer.text();
    expect(answer.status).toBe(401);
    expect(body).toContain('UNAUTHENTICATED');
    expect(body).not.toContain('demo');
  });

  it('reads a query with a widget key in the URL over plain GET (no CSRF header needed)', async () => {
    const answer = await gw.fetch(
      `http://gateway.test/graphql?${new URLSearchParams({ query: '{ orgConfig(orgId: "demo") { branding { color } } }', key: widgetKey })}`,
    );
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as any).data.orgConfig.branding.color).toMatch(/^#/);
  });
});
