// The GraphQL update fast path commits and answers exactly as yoga does, once yoga has run the
// operation, and leaves to yoga everything it must refuse before running it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, listen, type TestGateway } from './helpers.ts';
import { countingYogaCalls, type RawAnswer, sendRaw, writeRefusedBothWays } from './support/raw-http.ts';

const UPDATE = `mutation Update($input: UpdateOrgConfigInput!) {
  updateOrgConfig(input: $input) {
    __typename
    ... on UpdateOrgConfigSuccess { config { version branding { color } } changes { path before after } }
    ... on ValidationError { problems { path code } }
    ... on VersionConflict { currentVersion }
  }
}`;
const update = (input: Record<string, unknown>) =>
  JSON.stringify({ query: UPDATE, variables: { input: { orgId: 'demo', ...input } } });

/** Two gateways on databases built alike: one served without its fast paths, one with them (counting what reaches yoga). */
let viaYoga: TestGateway;
let viaFast: TestGateway;
let slow: { baseUrl: string; close: () => Promise<void> };
let fast: { baseUrl: string; close: () => Promise<void> };
let yogaCalls: () => number;

beforeAll(async () => {
  const limits = { perKeyPerMinute: 1_000, failedAuthPerMinute: 1_000 };
  viaYoga = await createTestGateway({ rateLimits: limits });
  viaFast = await createTestGateway({ rateLimits: limits });
  const counted = countingYogaCalls(viaFast.gateway);
  yogaCalls = counted.calls;
  slow = await listen(viaYoga.gateway, { fastPaths: false });
  fast = await listen(counted.gateway);
  // The fast path answers keys that are cached: one read each puts them there.
  for (const [server, gateway] of [
    [slow, viaYoga],
    [fast, viaFast],
  ] as const) {
    for (const key of [gateway.keys.admin, gateway.keys.adviser])
      await sendRaw(server.baseUrl, 'GET', '/api/orgs/demo/config', { 'x-api-key': key });
  }
});

afterAll(async () => {
  await slow.close();
  await fast.close();
  await viaYoga.close();
  await viaFast.close();
});

/** The same request to both gateways (each with its own key of that role): both answers, and whether yoga answered the fast one. */
async function both(body: string, role: 'admin' | 'adviser' = 'admin', headers: Record<string, string> = {}) {
  const send = (baseUrl: string, key: string) =>
    sendRaw(
      baseUrl,
      'POST',
      '/graphql',
      { 'content-type': 'application/json', 'x-api-key': key, 'x-request-id': 'update', ...headers },
      body,
    );
  const answerViaYoga = await send(slow.baseUrl, viaYoga.keys[role]);
  const before = yogaCalls();
  const answerViaFast = await send(fast.baseUrl, viaFast.keys[role]);
  return { viaYoga: answerViaYoga, viaFast: answerViaFast, fellThrough: yogaCalls() > before };
}

function expectSame(answers: { viaYoga: RawAnswer; viaFast: RawAnswer }): void {
  expect(answers.viaFast.status).toBe(answers.viaYoga.status);
  expect(answers.viaFast.headers).toEqual(answers.viaYoga.headers);
  expect(answers.viaFast.body.toString('utf8')).toBe(answers.viaYoga.body.toString('utf8'));
}

describe('POST /graphql updates on the fast path', () => {
  it('leaves an update to yoga until yoga has run it once, then commits and answers it itself, byte for byte', async () => {
    const first = await both(update({ patch: { branding: { color: '#100000' } } }));
    expect(first.fellThrough).toBe(true);
    expectSame(first);
    for (const [n, color] of ['#200000', '#300000'].entries()) {
      const answers = await both(update({ patch: { branding: { color } } }), 'admin', {
        origin: 'https://admin.example',
      });
      expect(answers.fellThrough).toBe(false);
      expectSame(answers);
      expect(JSON.parse(answers.viaFast.body.toString('utf8')).data.updateOrgConfig.config).toEqual({
        version: 3 + n,
        branding: { color },
      });
    }
    // Committed once each, through the domain service, as GraphQL changes.
    const history = await viaFast.store.listRevisions('demo', { limit: 10 });
    expect(history.map((revision) => [revision.version, revision.door])).toEqual([
      [4, 'graphql'],
      [3, 'graphql'],
      [2, 'graphql'],
      [1, 'cli'],
    ]);
  });

  it('answers refusals that are results (invalid settings, a version conflict) itself, as yoga does', async () => {
    await both(update({ patch: { branding: { color: '#400000' } } }));
    for (const input of [
      {
        patch: {
          branding: { color: 'nope' },
          sla: { openedConversations: { range: { lowerBound: 9, upperBound: 1 } } },
        },
      },
      { patch: { branding: { color: '#500000' } }, expectedVersion: 1 },
    ]) {
      const answers = await both(update(input));
      expect(answers.fellThrough).toBe(false);
      expectSame(answers);
      expect(JSON.parse(answers.viaFast.body.toString('utf8')).data.updateOrgConfig.__typename).toMatch(
        /ValidationError|VersionConflict/,
      );
    }
  });

  it('leaves to yoga, before running anything, an adviser key, another organisation and variables yoga refuses', async () => {
    await both(update({ patch: { branding: { color: '#600000' } } }));
    const versionBefore = (await viaFast.store.getConfig('demo'))!.version;
    const refusedByYoga = [
      { body: update({ patch: { branding: { color: '#700000' } } }), role: 'adviser' as const },
      { body: update({ orgId: 'other', patch: { branding: { color: '#700000' } } }), role: 'admin' as const },
      { body: update({ patch: { branding: { color: 7 } } }), role: 'admin' as const },
      { body: JSON.stringify({ query: UPDATE, variables: {} }), role: 'admin' as const },
    ];
    for (const { body, role } of refusedByYoga) {
      const answers = await both(body, role);
      expect(answers.fellThrough).toBe(true);
      expectSame(answers);
      const answer = JSON.parse(answers.viaFast.body.toString('utf8'));
      // Refused with errors, or (another organisation) as NotFound.
      expect(answer.errors?.length > 0 || answer.data.updateOrgConfig.__typename === 'NotFound').toBe(true);
    }
    expect((await viaFast.store.getConfig('demo'))!.version).toBe(versionBefore);
    // A dry run is an update like another: answered here, writing nothing.
    const dryRun = await both(update({ patch: { branding: { color: '#800000' } }, dryRun: true }));
    expect(dryRun.fellThrough).toBe(false);
    expectSame(dryRun);
    expect((await viaFast.store.getConfig('demo'))!.version).toBe(versionBefore);
  });
});

describe('an update the database refuses', () => {
  it('is answered and logged as yoga answers it, and not run again', async () => {
    const sendColor = (baseUrl: string, gateway: TestGateway, color: string) =>
      sendRaw(
        baseUrl,
        'POST',
        '/graphql',
        { 'content-type': 'application/json', 'x-api-key': gateway.keys.admin, 'x-request-id': 'refused' },
        update({ patch: { branding: { color } } }),
      );
    const answers = await writeRefusedBothWays(
      (baseUrl, gateway) => sendColor(baseUrl, gateway, '#000001'), // caches the key; yoga runs the operation once
      (baseUrl, gateway) => sendColor(baseUrl, gateway, '#000002'),
    );
    expect(answers.fellThrough).toBe(false); // the fast path answered its failure itself
    expect(answers.viaFast.status).toBe(answers.viaYoga.status);
    expect(answers.viaFast.headers).toEqual(answers.viaYoga.headers);
    expect(answers.viaFast.body.toString('utf8')).toBe(answers.viaYoga.body.toString('utf8'));
    expect(JSON.parse(answers.viaFast.body.toString('utf8')).errors[0].extensions.code).toBe(
      'STORAGE_UNAVAILABLE',
    );
    expect(answers.unexpectedLogged).toEqual([1, 1]);
  });
});

describe('the update fast path and the rate limit', () => {
  it('counts each request once against the key, whoever answers it', async () => {
    const limited = await createTestGateway({
      rateLimits: { perKeyPerMinute: 4, failedAuthPerMinute: 1_000 },
    });
    const server = await listen(limited.gateway);
    try {
      const send = (color: string) =>
        sendRaw(
          server.baseUrl,
          'POST',
          '/graphql',
          { 'content-type': 'application/json', 'x-api-key': limited.keys.admin },
          update({ patch: { branding: { color } } }),
        );
      // The first is yoga's (and caches the key); the next three the fast path's; the fifth is over the limit.
      for (const color of ['#000001', '#000002', '#000003', '#000004'])
        expect((await send(color)).status).toBe(200);
      const refused = await send('#000005');
      expect(refused.status).toBe(429);
      expect(refused.headers.map(([name]) => name)).toContain('retry-after');
      expect((await limited.store.getConfig('demo'))!.settings.branding.color).toBe('#000004');
    } finally {
      await server.close();
      await limited.close();
    }
  });
});
