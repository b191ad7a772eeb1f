// Webhooks end to end: managed through GraphQL, delivered by the worker from the revision log to a real
// receiver that fails on purpose, signed (checked with the standardwebhooks package), in order, each change at least once.
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import { webhookStoreOf } from '../src/webhooks/store-of.ts';
import type { WebhookStore } from '../src/webhooks/webhook-store.ts';
import { WebhookWorker, type WebhookWorkerEvent, type WebhookWorkerOptions } from '../src/webhooks/worker.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';
import { type Receiver, startReceiver, verifiedVersion } from './support/webhook-receiver.ts';

const local = { allowHttp: true, allowPrivateAddresses: true };
const limits = { timeoutMs: 300, maxAnswerBytes: 4_096 };

const CREATE = `mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    __typename
    ... on CreateWebhookSuccess { secret webhook { id webhookId url fields enabled deliveredVersion } }
    ... on ValidationError { problems { field code message } }
    ... on NotFound { orgId }
  }
}`;

const UPDATE = `mutation ($input: UpdateWebhookInput!) {
  updateWebhook(input: $input) {
    __typename
    ... on UpdateWebhookSuccess { secret webhook { id enabled disabledReason deliveredVersion failures previousSecretExpiresAt } }
    ... on ValidationError { problems { field code } }
    ... on WebhookNotFound { id }
  }
}`;

const LIST = `query ($orgId: ID!) {
  webhooks(orgId: $orgId) {
    id webhookId url fields enabled disabledReason deliveredVersion failures
    deliveries(first: 50) { id version messageId attempt manual status error excerpt delivered durationMs }
  }
}`;

describe('webhooks', () => {
  let gw: TestGateway;
  let receiver: Receiver;
  let webhooks: WebhookStore;
  const workers: WebhookWorker[] = [];

  beforeEach(async () => {
    gw = await createTestGateway({ webhooks: { policy: local, limits } });
    webhooks = webhookStoreOf(gw.store)!;
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close();
    await receiver.close();
    await gw.close();
  });

  function startWorker(options: Partial<WebhookWorkerOptions> = {}): WebhookWorker {
    const worker = new WebhookWorker(webhooks, gw.store, {
      policy: local,
      limits,
      retry: { baseMs: 20, maxMs: 100, maxAttempts: 8 },
      pollIntervalMs: 20,
      ...options,
    }).start(gw.events);
    workers.push(worker);
    return worker;
  }

  async function create(path: string, fields?: string[], key = gw.keys.admin) {
    const result = await gw.graphql(
      CREATE,
      { input: { orgId: 'demo', url: `${receiver.baseUrl}${path}`, fields } },
      key,
    );
    return result.data!.createWebhook;
  }

  async function setColor(index: number): Promise<number> {
    const { config } = await gw.service.update(operator, {
      orgId: 'demo',
      patch: { branding: { color: `#${(0x100000 + index).toString(16)}` } },
      door: 'cli',
    });
    return config.version;
  }

  /** Polls `read` until `accept` takes its answer; fails after timeoutMs. */
  async function eventually<T>(
    read: () => Promise<T>,
    accept: (value: T) => boolean,
    timeoutMs = 5_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline)
        throw new Error(`not as expected in ${timeoutMs} ms: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const listed = () => gw.graphql(LIST, { orgId: 'demo' }).then((result) => result.data!.webhooks);

  /** The versions a path acknowledged first, in arrival order, each checked against the secret. */
  function firstAcknowledged(path: string, secret: string): number[] {
    const seen: number[] = [];
    for (const entry of receiver.acknowledged(path)) {
      const version = verifiedVersion(entry, secret);
      if (!seen.includes(version)) seen.push(version);
    }
    return seen;
  }

  it('are managed by admin keys: created with a secret shown once, listed, changed, deleted; others are refused', async () => {
    const created = await create('/a', ['branding.color', 'sla']);
    expect(created.__typename).toBe('CreateWebhookSuccess');
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created.webhook.id).toBe(`Webhook:${created.webhook.webhookId}`);
    expect(created.webhook.webhookId).toMatch(/^wh_[0-9a-f]{16}$/);
    expect(created.webhook.fields).toEqual(['branding.color', 'sla']);
    const current = (await gw.service.get(operator, 'demo')).version;
    expect(created.webhook.deliveredVersion).toBe(current);

    const listed = (await gw.graphql(LIST, { orgId: 'demo' })).data!.webhooks;
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const unknownField = await create('/b', ['branding.colour']);
    expect(unknownField.__typename).toBe('ValidationError');
    expect(unknownField.problems).toEqual([
      expect.objectContaining({ field: 'fields.0', code: 'UNKNOWN_SETTING' }),
    ]);
    const notUrl = await gw.graphql(CREATE, { input: { orgId: 'demo', url: 'ftp://example.com/' } });
    expect(notUrl.data!.createWebhook.problems[0].code).toBe('INVALID_URL');

    const adviser = await gw.graphql(
      CREATE,
      { input: { orgId: 'demo', url: 'https://example.com/' } },
      gw.keys.adviser,
    );
    expect(adviser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const otherOrg = await gw.graphql(
      CREATE,
      { input: { orgId: 'demo', url: 'https://example.com/' } },
      gw.keys.otherAdmin,
    );
    expect(otherOrg.data!.createWebhook.__typename).toBe('NotFound');
    const anonymous = await gw.graphql(LIST, { orgId: 'demo' }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // Another organisation's admin cannot see, change or delete it: it does not exist for them.
    const foreign = await gw.graphql(
      UPDATE,
      { input: { id: created.webhook.id, enabled: false } },
      gw.keys.otherAdmin,
    );
    expect(foreign.data!.updateWebhook).toEqual({ __typename: 'WebhookNotFound', id: created.webhook.id });

    const disabled = (await gw.graphql(UPDATE, { input: { id: created.webhook.id, enabled: false } })).data!
      .updateWebhook;
    expect(disabled.webhook).toMatchObject({ enabled: false, disabledReason: 'disabled by an admin' });
    expect(disabled.secret).toBeNull();

    const DELETE = `mutation ($id: ID!) { deleteWebhook(input: { id: $id }) { __typename ... on DeleteWebhookSuccess { deletedId } } }`;
    expect((await gw.graphql(DELETE, { id: created.webhook.id })).data!.deleteWebhook.deletedId).toBe(
      created.webhook.id,
    );
    expect((await gw.graphql(DELETE, { id: created.webhook.id })).data!.deleteWebhook.__typename).toBe(
      'WebhookNotFound',
    );
    expect((await gw.graphql(LIST, { orgId: 'demo' })).data!.webhooks).toEqual([]);
  });

  it('refuses plain http and private addresses unless the settings allow them', async () => {
    const strict = await createTestGateway();
    try {
      for (const url of [
        'http://example.com/hook',
        'https://127.0.0.1/hook',
        'https://[::ffff:127.0.0.1]/',
        'https://localhost/',
      ]) {
        const result = await strict.graphql(CREATE, { input: { orgId: 'demo', url } });
        expect(result.data!.createWebhook.problems[0]).toMatchObject({
          field: 'url',
          code: 'ADDRESS_NOT_ALLOWED',
        });
      }
    } finally {
      await strict.close();
    }
  });

  it('delivers every change after its creation, signed, in version order, with a webhook-id per organisation and version', async () => {
    const first = await create('/a');
    const second = await create('/b');
    startWorker();
    const versions: number[] = [];
    for (let index = 0; index < 5; index++) versions.push(await setColor(index));
    await receiver.waitFor(
      () =>
        firstAcknowledged('/a', first.secret).length >= 5 &&
        firstAcknowledged('/b', second.secret).length >= 5,
    );
    expect(firstAcknowledged('/a', first.secret)).toEqual(versions);
    expect(firstAcknowledged('/b', second.secret)).toEqual(versions);
    const entry = receiver.acknowledged('/a')[0]!;
    expect(entry.headers['webhook-id']).toBe(`msg_demo_${versions[0]}`);
    expect(receiver.acknowledged('/b')[0]!.headers['webhook-id']).toBe(`msg_demo_${versions[0]}`);
    expect(entry.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = JSON.parse(entry.body);
    expect(payload).toMatchObject({
      type: 'org_config.changed',
      data: {
        orgId: 'demo',
        version: versions[0],
        changes: [expect.objectContaining({ path: 'branding.color' })],
      },
    });
    // Another secret does not verify it.
    expect(() => verifiedVersion(entry, first.secret === second.secret ? '' : second.secret)).toThrow();
  });

  it('retries through errors, time-outs, slow answers and dropped connections: every change arrives, in order, without holding up other endpoints', async () => {
    const flaky = await create('/flaky');
    const healthy = await create('/healthy');
    const script = ['status', 'hang', 'ok-slow', 'drop', 'status', 'ok', 'hang', 'drop', 'ok'];
    receiver.behave((path, index) => {
      if (path !== '/flaky') return { kind: 'ok' };
      switch (script[index] ?? 'ok') {
        case 'status':
          return { kind: 'status', status: 503, body: 'down for maintenance' };
        case 'hang':
          return { kind: 'hang' };
        case 'drop':
          return { kind: 'drop' };
        case 'ok-slow':
          return { kind: 'ok', delayMs: 150 };
        default:
          return { kind: 'ok' };
      }
    });
    startWorker();
    const versions: number[] = [];
    for (let index = 0; index < 6; index++) versions.push(await setColor(index));
    await receiver.waitFor(() => firstAcknowledged('/healthy', healthy.secret).length >= 6);
    await receiver.waitFor(() => firstAcknowledged('/flaky', flaky.secret).length >= 6, 15_000);
    expect(firstAcknowledged('/flaky', flaky.secret)).toEqual(versions);
    expect(firstAcknowledged('/healthy', healthy.secret)).toEqual(versions);
    // The healthy endpoint did not wait for the flaky one's retries.
    const flakyDone = receiver.received.findLastIndex((entry) => entry.path === '/flaky');
    const healthyDone = receiver.received.findLastIndex((entry) => entry.path === '/healthy');
    expect(healthyDone).toBeLessThan(flakyDone);
    // One at a time per endpoint.
    expect(receiver.maxInFlight.get('/flaky')).toBe(1);

    const log = (
      await eventually(listed, (all) =>
        all.every((webhook: { deliveredVersion: number }) => webhook.deliveredVersion === versions.at(-1)),
      )
    ).find((webhook: { id: string }) => webhook.id === flaky.webhook.id);
    const failures = log.deliveries.filter((attempt: { delivered: boolean }) => !attempt.delivered);
    expect(
      failures.map(
        (attempt: { status: number | null; error: string | null }) => attempt.status ?? attempt.error,
      ),
    ).toEqual(expect.arrayContaining([503, 'timed out after 300 ms', 'ECONNRESET']));
    expect(failures.find((attempt: { status: number }) => attempt.status === 503).excerpt).toBe(
      'down for maintenance',
    );
    expect(log.deliveredVersion).toBe(versions.at(-1));
    expect(log.failures).toBe(0);
  });

  it('disables an endpoint after repeated failure, with the reason; enabled again, it resumes where it stopped', async () => {
    const created = await create('/down');
    let up = false;
    receiver.behave(() => (up ? { kind: 'ok' } : { kind: 'status', status: 500 }));
    const events: WebhookWorkerEvent[] = [];
    const worker = startWorker({
      retry: { baseMs: 10, maxMs: 20, maxAttempts: 3 },
      onEvent: (event) => events.push(event),
    });
    const stuck = await setColor(1);
    const later = await setColor(2);
    const [disabled] = await eventually(listed, (all) => !all[0].enabled);
    expect(disabled).toMatchObject({
      enabled: false,
      disabledReason: `3 failed attempts at version ${stuck}; the last: HTTP 500`,
    });
    expect(receiver.received).toHaveLength(3);
    expect(worker.counters).toMatchObject({ failed: 3, delivered: 0, disabled: 1 });
    expect(events.filter((event) => event.type === 'disabled')).toHaveLength(1);

    up = true;
    const enabled = (await gw.graphql(UPDATE, { input: { id: created.webhook.id, enabled: true } })).data!
      .updateWebhook;
    expect(enabled.webhook).toMatchObject({ enabled: true, disabledReason: null, failures: 0 });
    await receiver.waitFor(() => firstAcknowledged('/down', created.secret).length >= 2);
    expect(firstAcknowledged('/down', created.secret)).toEqual([stuck, later]);
  });

  it('keeps its cursor in the database: a worker started after a stop delivers what was committed meanwhile, skipping none', async () => {
    const created = await create('/a');
    const before = startWorker();
    const v1 = await setColor(1);
    await receiver.waitFor(() => receiver.acknowledged('/a').length >= 1);
    await before.close();
    const meanwhile = [await setColor(2), await setColor(3), await setColor(4)];
    expect(firstAcknowledged('/a', created.secret)).toEqual([v1]);
    startWorker();
    await receiver.waitFor(() => firstAcknowledged('/a', created.secret).length >= 4);
    expect(firstAcknowledged('/a', created.secret)).toEqual([v1, ...meanwhile]);
  });

  it('sends only the changes touching its fields', async () => {
    const created = await create('/color', ['branding.color']);
    startWorker();
    await gw.service.update(operator, {
      orgId: 'demo',
      patch: { branding: { name: 'Renamed' } },
      door: 'cli',
    });
    const colored = await setColor(7);
    await receiver.waitFor(() => receiver.acknowledged('/color').length >= 1);
    expect(firstAcknowledged('/color', created.secret)).toEqual([colored]);
    await eventually(listed, (all) => all[0].deliveredVersion === colored);
  });

  it('signs with both secrets while a rotation overlaps, and redelivers a change by hand with its webhook-id', async () => {
    const created = await create('/a');
    startWorker();
    const rotated = (await gw.graphql(UPDATE, { input: { id: created.webhook.id, rotateSecret: true } }))
      .data!.updateWebhook;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(new Date(rotated.webhook.previousSecretExpiresAt).getTime()).toBeGreaterThan(
      Date.now() + 23 * 3_600_000,
    );
    const version = await setColor(1);
    await receiver.waitFor(() => receiver.acknowledged('/a').length >= 1);
    const entry = receiver.acknowledged('/a')[0]!;
    expect(entry.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifiedVersion(entry, rotated.secret)).toBe(version);
    expect(verifiedVersion(entry, created.secret)).toBe(version);

    const REDELIVER = `mutation ($input: RedeliverWebhookInput!) {
      redeliverWebhook(input: $input) {
        __typename
        ... on RedeliverWebhookSuccess { delivery { id version manual delivered status messageId } }
        ... on NotFound { message }
      }
    }`;
    const again = (await gw.graphql(REDELIVER, { input: { id: created.webhook.id, version } })).data!
      .redeliverWebhook;
    expect(again.delivery).toMatchObject({
      version,
      manual: true,
      delivered: true,
      status: 200,
      messageId: `msg_demo_${version}`,
    });
    expect(again.delivery.id).toMatch(/^WebhookDelivery:\d+$/);
    const ids = receiver.acknowledged('/a').map((e) => e.headers['webhook-id']);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids)).toEqual(new Set([`msg_demo_${version}`]));
    const missing = (await gw.graphql(REDELIVER, { input: { id: created.webhook.id, version: 9_999 } })).data!
      .redeliverWebhook;
    expect(missing.__typename).toBe('NotFound');
    // The standardwebhooks verifier takes the headers as received.
    expect(new Webhook(rotated.secret).verify(entry.body, entry.headers)).toMatchObject({
      type: 'org_config.changed',
    });
  });

  it('keeps the delivery log for a bounded time', async () => {
    await create('/a');
    startWorker();
    await setColor(1);
    await receiver.waitFor(() => receiver.acknowledged('/a').length >= 1);
    const [webhook] = await webhooks.listWebhooks('demo');
    await eventually(
      () => webhooks.listAttempts(webhook!.id, { limit: 10 }),
      (attempts) => attempts.length === 1,
    );
    expect(await webhooks.pruneAttempts(new Date(Date.now() - 60_000))).toBe(0);
    expect(await webhooks.pruneAttempts(new Date(Date.now() + 1))).toBe(1);
    expect(await webhooks.listAttempts(webhook!.id, { limit: 10 })).toHaveLength(0);
  });
});
