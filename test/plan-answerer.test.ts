// The GraphQL door's plans (src/graphql/plan-answerer.ts): an operation yoga has run once is answered
// from its compiled plan, with yoga's bytes, POSTed or (a read) in a GET's URL; anything else passes
// on to yoga.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';
import { sendRaw } from './support/raw-http.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ rateLimits: { perKeyPerMinute: 10_000, failedAuthPerMinute: 1_000 } });
});
afterAll(() => gw.close());

const widgetQuery =
  'query Widget($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { name color } messages { welcome { pl en } } } }';
const updateMutation =
  'mutation Update($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename ... on UpdateOrgConfigSuccess { config { version branding { color } } } ... on ValidationError { problems { path code } } } }';

const post = (body: object, key: string, headers: Record<string, string> = {}) =>
  sendRaw(
    gw.baseUrl,
    'POST',
    '/graphql',
    { 'content-type': 'application/json', 'x-api-key': key, ...headers },
    JSON.stringify(body),
  );

/** Requests the plans answered so far, as the gateway's metrics count them. */
async function planned(): Promise<number> {
  const text = await gw.gateway.metrics.text();
  return [...text.matchAll(/^gateway_requests_total\{[^}]*plan="yes"[^}]*\} (\d+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

describe('answers from plans', () => {
  it('leaves a read to yoga until yoga has run it once, then answers it with the same bytes, and the new version after a change', async () => {
    const read = { query: widgetQuery, variables: { orgId: 'demo' } };
    const viaYoga = await post(read, gw.keys.adviser);
    expect(await planned()).toBe(0);
    const viaPlan = await post(read, gw.keys.adviser);
    const again = await post(read, gw.keys.admin, { accept: 'application/graphql-response+json' });
    expect(await planned()).toBe(2);
    expect(viaPlan.status).toBe(200);
    expect(viaPlan.body.toString()).toBe(viaYoga.body.toString());
    expect(again.body.toString()).toBe(viaYoga.body.toString());
    expect(again.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1]).toBe(
      'application/graphql-response+json; charset=utf-8',
    );
    await gw.fetch('http://gateway.test/api/orgs/demo/config', {
      method: 'PATCH',
      headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ color: '#abcdef' }),
    });
    const changed = JSON.parse((await post(read, gw.keys.adviser)).body.toString());
    expect(changed.data.orgConfig).toMatchObject({ version: 2, branding: { color: '#abcdef' } });
    expect(await planned()).toBe(3);
  });

  it("passes to yoga a read of another organisation's configuration, which yoga refuses", async () => {
    const before = await planned();
    const answer = JSON.parse(
      (await post({ query: widgetQuery, variables: { orgId: 'demo' } }, gw.keys.otherAdmin)).body.toString(),
    );
    expect(answer.errors[0].extensions.code).toBe('NOT_FOUND');
    expect(await planned()).toBe(before);
  });

  it('commits a plain update from its plan once per request, and passes an adviser to yoga, which refuses it', async () => {
    const update = (color: string) => ({
      query: updateMutation,
      variables: { input: { orgId: 'demo', patch: { branding: { color } } } },
    });
    const versionBefore = (await gw.store.getConfig('demo'))!.version;
    await post(update('#100000'), gw.keys.admin); // yoga runs it, and it is learnt
    const before = await planned();
    const answer = JSON.parse((await post(update('#200000'), gw.keys.admin)).body.toString());
    expect(answer.data.updateOrgConfig).toEqual({
      __typename: 'UpdateOrgConfigSuccess',
      config: { version: versionBefore + 2, branding: { color: '#200000' } },
    });
    const invalid = JSON.parse((await post(update('red'), gw.keys.admin)).body.toString());
    expect(invalid.data.updateOrgConfig.__typename).toBe('ValidationError');
    expect(await planned()).toBe(before + 2);
    const adviser = JSON.parse((await post(update('#300000'), gw.keys.adviser)).body.toString());
    expect(JSON.stringify(adviser)).toContain('FORBIDDEN');
    expect(await planned()).toBe(before + 2);
    const history = await gw.store.listRevisions('demo', { limit: 3 });
    expect(history.map((revision) => [revision.version, revision.door])).toEqual([
      [versionBefore + 2, 'graphql'],
      [versionBefore + 1, 'graphql'],
      [versionBefore, expect.any(String)],
    ]);
  });
});

describe('reads over GET, as the widget sends them (its key in the URL)', () => {
  const widgetRead =
    'query WidgetHeader($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color name } openingHours { openNow nextChangeAt } } }';
  const url = (params: Record<string, string>) => `/graphql?${new URLSearchParams(params)}`;
  const get = (path: string, headers: Record<string, string> = {}) =>
    sendRaw(gw.baseUrl, 'GET', path, { origin: 'https://shop.example', ...headers });
  let widgetKey: string;
  beforeAll(async () => {
    widgetKey = (await createApiKey(gw.store, 'demo', 'widget')).key;
  });

  it('leaves a read to yoga until yoga has run it once, then answers it with the same bytes and headers', async () => {
    const path = url({ query: widgetRead, variables: JSON.stringify({ orgId: 'demo' }), key: widgetKey });
    const before = await planned();
    const viaYoga = await get(path, { accept: '*/*' });
    expect(await planned()).toBe(before);
    const viaPlan = await get(path, { accept: '*/*' });
    const again = await get(path);
    expect(await planned()).toBe(before + 2);
    expect(viaPlan.status).toBe(200);
    expect(JSON.parse(viaYoga.body.toString()).data.orgConfig.branding.color).toMatch(/^#/);
    expect(viaPlan.body.toString()).toBe(viaYoga.body.toString());
    expect(again.body.toString()).toBe(viaYoga.body.toString());
    const named = (answer: typeof viaPlan) =>
      Object.fromEntries(
        answer.headers
          .map(([name, value]) => [name.toLowerCase(), value])
          .filter(([name]) => ['content-type', 'access-control-allow-origin', 'vary'].includes(name!)),
      );
    expect(named(viaPlan)).toEqual(named(viaYoga));
  });

  it('answers the same operation POSTed and in a URL from one plan, and never runs a mutation from a URL', async () => {
    const variables = { orgId: 'demo' };
    await post({ query: widgetQuery, variables }, gw.keys.admin); // learnt (if not yet) from a POST
    const before = await planned();
    const read = await get(url({ query: widgetQuery, variables: JSON.stringify(variables) }), {
      'x-api-key': gw.keys.admin,
    });
    expect(read.status).toBe(200);
    expect(await planned()).toBe(before + 1);

    const update = {
      query: updateMutation,
      variables: { input: { orgId: 'demo', patch: { branding: { color: '#400000' } } } },
    };
    await post(update, gw.keys.admin); // its plan is learnt
    const version = (await gw.store.getConfig('demo'))!.version;
    const refused = await get(url({ query: update.query, variables: JSON.stringify(update.variables) }), {
      'x-api-key': gw.keys.admin,
    });
    expect(refused.status).toBe(405);
    expect((await gw.store.getConfig('demo'))!.version).toBe(version);
    expect(await planned()).toBe(before + 2); // the POSTed update
  });

  it('passes to yoga what it does not read as yoga would: extensions, variables that are no JSON object', async () => {
    const path = url({ query: widgetRead, variables: JSON.stringify({ orgId: 'demo' }), key: widgetKey });
    await get(path); // learnt
    const before = await planned();
    const unusual = [
      `${path}&extensions=${encodeURIComponent('{"persistedQuery":{}}')}`,
      url({ query: widgetRead, variables: '[1]', key: widgetKey }),
      url({ query: widgetRead, variables: '{', key: widgetKey }),
    ];
    // Each twice: a plan would answer the second.
    for (const unusualPath of [...unusual, ...unusual]) await get(unusualPath);
    expect(await planned()).toBe(before);
  });

  it("learns no plan from a request yoga reads otherwise: another tenant's Host cannot give everyone another query's answer", async () => {
    const asked =
      'query HostRead($orgId: ID!) { orgConfig(orgId: $orgId) { version branding { color name } } }';
    const other = 'query HostRead($orgId: ID!) { orgConfig(orgId: $orgId) { version } }';
    const otherTenantsKey = (await createApiKey(gw.store, 'other', 'widget')).key;
    // Yoga builds the URL it reads from the Host header: here it would run `other`.
    await sendRaw(
      gw.baseUrl,
      'GET',
      url({ query: asked, variables: JSON.stringify({ orgId: 'other' }), key: otherTenantsKey }),
      { host: `h/graphql?${new URLSearchParams({ query: other })}&` },
    );
    const path = url({ query: asked, variables: JSON.stringify({ orgId: 'demo' }), key: widgetKey });
    for (const answer of [await get(path), await get(path)])
      expect(JSON.parse(answer.body.toString()).data.orgConfig.branding.color).toMatch(/^#/);
  });

  it('does not answer a POST whose body is the text of a URL it answered: yoga refuses that body', async () => {
    const path = url({ query: widgetRead, variables: JSON.stringify({ orgId: 'demo' }) });
    const read = await get(path, { 'x-api-key': gw.keys.admin });
    expect(read.status).toBe(200);
    const asBody = await sendRaw(
      gw.baseUrl,
      'POST',
      '/graphql',
      { 'content-type': 'application/json', 'x-api-key': gw.keys.admin },
      path,
    );
    expect(asBody.status).toBe(400);
  });
});
