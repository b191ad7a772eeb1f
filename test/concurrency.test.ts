// Many concurrent writers through both doors: every update lands, once, with one revision each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListeningGateway, type ListeningGateway, sseSubscribe } from './helpers.ts';

let gw: ListeningGateway;
beforeAll(async () => {
  gw = await createListeningGateway();
});
afterAll(() => gw.close());

const clients = [
  { door: 'rest', legacyKey: 'welcomeMessageEn', path: ['messages', 'welcome', 'en'] },
  { door: 'rest', legacyKey: 'headerWelcomeMessagePl', path: ['messages', 'header', 'pl'] },
  { door: 'graphql', legacyKey: 'welcomeMessagePl', path: ['messages', 'welcome', 'pl'] },
  { door: 'graphql', legacyKey: 'headerWelcomeMessageEn', path: ['messages', 'header', 'en'] },
] as const;
const updatesPerClient = 60;

function patchFor(path: readonly string[], value: string): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>(
    (inner, key) => ({ [key]: inner }),
    value as unknown as Record<string, unknown>,
  );
}

async function update(client: (typeof clients)[number], value: string): Promise<number> {
  if (client.door === 'rest') {
    const response = await fetch(`${gw.baseUrl}/api/orgs/demo/config`, {
      method: 'PUT',
      headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ [client.legacyKey]: value }),
    });
    return response.status;
  }
  const response = await fetch(`${gw.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }',
      variables: { input: { orgId: 'demo', patch: patchFor(client.path, value) } },
    }),
  });
  const body = (await response.json()) as { data?: { updateOrgConfig?: { __typename: string } } };
  return body.data?.updateOrgConfig?.__typename === 'UpdateOrgConfigSuccess' ? response.status : 500;
}

describe('concurrent writers', () => {
  it(`apply all ${clients.length * updatesPerClient} updates of different settings, each once, and a subscriber sees each once, in order`, async () => {
    const total = clients.length * updatesPerClient;
    const subscriber = await sseSubscribe(
      gw.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo", sinceVersion: 1) { version changedFields } }',
      {},
      { 'x-api-key': gw.keys.admin },
    );
    const statuses = await Promise.all(
      clients.map(async (client, index) => {
        const results: number[] = [];
        for (let n = 0; n < updatesPerClient; n++)
          results.push(await update(client, `client ${index} update ${n}`));
        return results;
      }),
    );
    expect(statuses.flat().every((status) => status === 200)).toBe(true);

    const config = await (
      await fetch(`${gw.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': gw.keys.admin } })
    ).json();
    for (const [index, client] of clients.entries()) {
      expect(config[client.legacyKey]).toBe(`client ${index} update ${updatesPerClient - 1}`);
    }
    const stored = await gw.store.getConfig('demo');
    expect(stored!.version).toBe(1 + total);
    const revisions = await gw.store.listRevisions('demo', { limit: total + 10 });
    expect(revisions).toHaveLength(1 + total);
    expect(revisions.map((revision) => revision.version)).toEqual(
      Array.from({ length: total + 1 }, (_, i) => total + 1 - i),
    );
    expect(revisions.slice(0, total).every((revision) => revision.changes.length === 1)).toBe(true);

    const seen: number[] = [];
    while (seen.length < total)
      seen.push(JSON.parse((await subscriber.next()).data).data.orgConfigChanged.version);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 2));
    subscriber.close();
  });
});
