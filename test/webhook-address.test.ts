// Server-side request forgery: webhook URLs and addresses that try each trick are refused with the safe settings,
// the connection goes to the address checked, redirects are not followed, and answers are cut short.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import {
  AddressRefusedError,
  checkWebhookUrl,
  nonPublicKind,
  type Resolver,
  resolveTarget,
  strictPolicy,
  systemResolver,
} from '../src/webhooks/address-policy.ts';
import { attemptDelivery } from '../src/webhooks/delivery.ts';
import { sendWebhook } from '../src/webhooks/sender.ts';
import { webhookStoreOf } from '../src/webhooks/store-of.ts';
import type { WebhookRecord, WebhookStore } from '../src/webhooks/webhook-store.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';
import { type Receiver, startReceiver } from './support/webhook-receiver.ts';

const refusedReason = (url: string) => {
  try {
    checkWebhookUrl(url, strictPolicy);
    return null;
  } catch (error) {
    return (error as AddressRefusedError).message;
  }
};

describe('webhook addresses', () => {
  it('classifies every non-public address, IPv4-mapped forms included', () => {
    const cases: [string, string | null][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.1.2', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', null],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private (shared address space)'],
      ['169.254.169.254', 'link-local'],
      ['224.0.0.1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['255.255.255.255', 'reserved'],
      ['8.8.8.8', null],
      ['93.184.216.34', null],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['fe80::1', 'link-local'],
      ['fd00::1', 'private (unique local)'],
      ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback (IPv4 inside IPv6)'],
      ['::ffff:7f00:1', 'loopback (IPv4 inside IPv6)'],
      ['::ffff:a9fe:a9fe', 'link-local (IPv4 inside IPv6)'],
      ['::ffff:10.0.0.1', 'private (IPv4 inside IPv6)'],
      ['::127.0.0.1', 'loopback (IPv4 inside IPv6)'],
      ['64:ff9b::7f00:1', 'loopback (IPv4 inside IPv6)'],
      ['2002:7f00:1::', 'loopback (IPv4 inside IPv6)'],
      ['::ffff:8.8.8.8', null],
      ['2606:4700:4700::1111', null],
    ];
    for (const [address, kind] of cases) expect([address, nonPublicKind(address)]).toEqual([address, kind]);
  });

  it('refuses URLs that spell an internal address in any form, plain http, credentials and localhost', () => {
    const refused = [
      'https://2130706433/',
      'https://0x7f000001/',
      'https://0x7f.0.0.1/',
      'https://0177.0.0.1/',
      'https://127.1/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://[::1]:8443/hook',
      'https://[0:0:0:0:0:0:0:1]/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/',
      'https://[fd12:3456::1]/',
      'https://224.0.0.1/',
      'https://0.0.0.0/',
      'https://[::]/',
      'https://10.0.0.1/',
      'https://192.168.0.10/',
      'https://localhost/',
      'https://api.localhost/',
      'http://example.com/',
      'https://user:secret@example.com/',
    ];
    for (const url of refused) expect([url, refusedReason(url)]).toEqual([url, expect.any(String)]);
    expect(refusedReason('https://2130706433/')).toBe('the address 127.0.0.1 is loopback');
    expect(refusedReason('https://example.com/hooks?x=1')).toBeNull();
    expect(refusedReason('https://8.8.8.8/')).toBeNull();
    expect(() => checkWebhookUrl('not a url', strictPolicy)).toThrow(AddressRefusedError);
    expect(() => checkWebhookUrl('ftp://example.com/', strictPolicy)).toThrow('not an https URL');
  });

  it('resolves the host and refuses it if any of its addresses is not public', async () => {
    const names: Record<string, string[]> = {
      'public.test': ['93.184.216.34'],
      'loopback.test': ['127.0.0.1'],
      'mixed.test': ['93.184.216.34', '10.0.0.7'],
      'mapped.test': ['::ffff:127.0.0.1'],
    };
    const resolver: Resolver = async (host) =>
      (names[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const target = (host: string) => resolveTarget(new URL(`https://${host}/hook`), strictPolicy, resolver);
    await expect(target('public.test')).resolves.toEqual({ address: '93.184.216.34', family: 4 });
    await expect(target('loopback.test')).rejects.toThrow(
      'loopback.test resolves to 127.0.0.1, which is loopback',
    );
    await expect(target('mixed.test')).rejects.toThrow('10.0.0.7, which is private');
    await expect(target('mapped.test')).rejects.toThrow('loopback (IPv4 inside IPv6)');
    await expect(target('nowhere.test')).rejects.toThrow('resolves to no address');
    // A name the system's own resolver answers with 127.0.0.1 (localhost, here under another name,
    // since the name itself is refused before any lookup).
    const aliasOfLocalhost: Resolver = async () => systemResolver('localhost');
    await expect(
      resolveTarget(new URL('https://alias.test/'), strictPolicy, aliasOfLocalhost),
    ).rejects.toThrow(/resolves to (127\.0\.0\.1|::1), which is loopback/);
  });
});

describe('webhook attempts', () => {
  let gw: TestGateway;
  let receiver: Receiver;
  let webhooks: WebhookStore;

  beforeEach(async () => {
    gw = await createTestGateway();
    webhooks = webhookStoreOf(gw.store)!;
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
    await gw.close();
  });

  async function endpoint(url: string): Promise<WebhookRecord> {
    const created = await webhooks.createWebhook(
      {
        id: `wh_${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`,
        orgId: 'demo',
        url,
        fields: [],
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        createdAt: new Date(),
      },
      25,
    );
    if (!('webhook' in created)) throw new Error(created.error);
    return created.webhook;
  }

  async function change() {
    const { config } = await gw.service.update(operator, {
      orgId: 'demo',
      patch: { branding: { color: '#123456' } },
      door: 'cli',
    });
    return (await gw.store.getRevision('demo', config.version))!;
  }

  it('checks the address at every attempt and connects to the address it checked, never looking the name up again', async () => {
    const port = new URL(receiver.baseUrl).port;
    // receiver.test exists only in this resolver: a delivery that arrives went where the check looked.
    let answer = '127.0.0.1';
    const resolver: Resolver = async () => [{ address: answer, family: 4 }];
    const webhook = await endpoint(`http://receiver.test:${port}/hook`);
    const revision = await change();
    const httpOnly = { allowHttp: true, allowPrivateAddresses: false };

    const refused = await attemptDelivery(
      { store: webhooks, policy: httpOnly, resolver },
      webhook,
      revision,
      {
        attempt: 1,
        manual: false,
      },
    );
    expect(refused).toMatchObject({
      delivered: false,
      status: null,
      error: 'refused: receiver.test resolves to 127.0.0.1, which is loopback',
    });
    expect(receiver.received).toHaveLength(0);

    const allowed = { allowHttp: true, allowPrivateAddresses: true };
    const delivered = await attemptDelivery(
      { store: webhooks, policy: allowed, resolver },
      webhook,
      revision,
      {
        attempt: 2,
        manual: false,
      },
    );
    expect(delivered).toMatchObject({ delivered: true, status: 200 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers.host).toBe(`receiver.test:${port}`);

    // The name now points elsewhere: the next attempt checks again and is refused.
    answer = '10.0.0.1';
    const again = await attemptDelivery({ store: webhooks, policy: httpOnly, resolver }, webhook, revision, {
      attempt: 3,
      manual: false,
    });
    expect(again.error).toBe('refused: receiver.test resolves to 10.0.0.1, which is private');
    expect(receiver.received).toHaveLength(1);
  });

  it('does not follow a redirect to an internal address', async () => {
    const internal = await startReceiver();
    try {
      receiver.behave(() => ({ kind: 'redirect', location: `${internal.baseUrl}/admin` }));
      const webhook = await endpoint(`${receiver.baseUrl}/hook`);
      const attempt = await attemptDelivery(
        { store: webhooks, policy: { allowHttp: true, allowPrivateAddresses: true } },
        webhook,
        await change(),
        { attempt: 1, manual: false },
      );
      expect(attempt).toMatchObject({ delivered: false, status: 302 });
      expect(receiver.received).toHaveLength(1);
      expect(internal.received).toHaveLength(0);
    } finally {
      await internal.close();
    }
  });

  it('refuses with the safe settings the receiver on this machine, whatever the URL spells', async () => {
    const port = new URL(receiver.baseUrl).port;
    const revision = await change();
    for (const host of ['127.0.0.1', '2130706433', '0x7f000001', '[::ffff:127.0.0.1]', 'localhost']) {
      const webhook = await endpoint(`http://${host}:${port}/hook`);
      const attempt = await attemptDelivery({ store: webhooks, policy: strictPolicy }, webhook, revision, {
        attempt: 1,
        manual: false,
      });
      expect([host, attempt.delivered, attempt.error]).toEqual([
        host,
        false,
        expect.stringMatching(/^refused: /),
      ]);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('gives up on an answer that does not come in time, and reads only the start of a long one', async () => {
    receiver.behave((path) => (path === '/hang' ? { kind: 'hang' } : { kind: 'huge', bytes: 1_000_000 }));
    const target = { address: '127.0.0.1', family: 4 as const };
    const started = Date.now();
    const hung = await sendWebhook(
      new URL(`${receiver.baseUrl}/hang`),
      target,
      '{}',
      {},
      { timeoutMs: 200, maxAnswerBytes: 4_096 },
    );
    expect(hung).toMatchObject({ status: null, error: 'timed out after 200 ms' });
    const huge = await sendWebhook(
      new URL(`${receiver.baseUrl}/huge`),
      target,
      '{}',
      {},
      { timeoutMs: 5_000, maxAnswerBytes: 4_096 },
    );
    expect(huge.status).toBe(200);
    expect(huge.excerpt).toHaveLength(200);
    // The huge answer never ends: only the limit can have finished it.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('reports a connection refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await sendWebhook(
      new URL(`http://127.0.0.1:${port}/`),
      { address: '127.0.0.1', family: 4 },
      '{}',
      {},
    );
    expect(outcome).toMatchObject({ status: null, error: 'ECONNREFUSED' });
  });
});
