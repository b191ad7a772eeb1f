// Stream tickets: minted by createStreamTicket for a secret key, stored hashed in the database,
// redeemed once by any replica (another store on the same database stands for one), coded refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import { redeemStreamTicket } from '../src/auth/stream-tickets.ts';
import { openStore } from '../src/backend.ts';
import type { ConfigStore } from '../src/store/config-store.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway;
let replica: ConfigStore;

beforeAll(async () => {
  gw = await createTestGateway();
  replica = await openStore({ databaseUrl: gw.databaseUrl }, () => undefined);
});
afterAll(async () => {
  await replica?.close();
  await gw?.close();
});

const mint = `mutation($orgId: ID!) { createStreamTicket(orgId: $orgId) { ticket expiresAt } }`;

async function ticketFor(key: string, orgId = 'demo') {
  const answer = await gw.graphql(mint, { orgId }, key);
  return answer as { data?: { createStreamTicket: { ticket: string; expiresAt: string } }; errors?: any[] };
}

describe('stream tickets', () => {
  it('mints a ticket valid 60 s that another replica redeems once, as the key that minted it', async () => {
    const before = Date.now();
    const { data } = await ticketFor(gw.keys.adviser);
    const { ticket, expiresAt } = data!.createStreamTicket;
    expect(ticket).toMatch(/^st_[A-Za-z0-9_-]{32}$/);
    const lifetime = Date.parse(expiresAt) - before;
    expect(lifetime).toBeGreaterThan(59_000);
    expect(lifetime).toBeLessThanOrEqual(61_000);
    // Stored hashed: the ticket's text is nowhere in the database.
    expect(await replica.useStreamTicket(ticket, new Date())).toBeUndefined();

    const redeemed = await redeemStreamTicket(replica, ticket, Date.now());
    expect(redeemed).toMatchObject({ ok: true, actor: { kind: 'apiKey', role: 'adviser', orgId: 'demo' } });
    expect(await redeemStreamTicket(gw.store, ticket, Date.now())).toMatchObject({
      ok: false,
      code: 'TICKET_REUSED',
    });
  });

  it('refuses an expired ticket and one never minted (a stream of another organisation: test/browser-streams.test.ts)', async () => {
    const late = (await ticketFor(gw.keys.admin)).data!.createStreamTicket.ticket;
    expect(await redeemStreamTicket(replica, late, Date.now() + 60_001)).toMatchObject({
      ok: false,
      code: 'TICKET_EXPIRED',
    });
    expect(await redeemStreamTicket(replica, 'st_never', Date.now())).toMatchObject({
      ok: false,
      code: 'TICKET_UNKNOWN',
    });
    expect(await redeemStreamTicket(replica, gw.keys.admin, Date.now())).toMatchObject({
      ok: false,
      code: 'TICKET_UNKNOWN',
    });
  });

  it('stops when its key is revoked or has expired', async () => {
    const revoked = await createApiKey(gw.store, 'demo', 'admin');
    const ticket = (await ticketFor(revoked.key)).data!.createStreamTicket.ticket;
    await gw.store.revokeApiKey(revoked.record.id);
    expect(await redeemStreamTicket(replica, ticket, Date.now())).toMatchObject({
      ok: false,
      code: 'KEY_REVOKED',
    });
    const expiring = await createApiKey(gw.store, 'demo', 'admin', {
      expiresAt: new Date(Date.now() + 30_000),
    });
    const soon = (await ticketFor(expiring.key)).data!.createStreamTicket.ticket;
    expect(await redeemStreamTicket(replica, soon, Date.now() + 40_000)).toMatchObject({
      ok: false,
      code: 'KEY_EXPIRED',
    });
  });

  it('is for secret keys of the organisation only', async () => {
    const widget = await createApiKey(gw.store, 'demo', 'widget');
    expect((await ticketFor(widget.key)).errors![0].extensions.code).toBe('WRONG_KEY_KIND');
    expect((await ticketFor(gw.keys.otherAdmin)).errors![0].extensions.code).toBe('NOT_FOUND');
    expect((await ticketFor(gw.keys.admin, 'nobody')).errors![0].extensions.code).toBe('NOT_FOUND');
    expect((await gw.graphql(mint, { orgId: 'demo' }, null)).errors![0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
  });
});
