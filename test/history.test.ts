// Revisions: every committed change is audited; history pages, old versions, revert and dry runs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { historyPageLength } from '../src/config/service.ts';
import { createTestGateway, listen, type TestGateway } from './helpers.ts';
import { writeLargeRevisions } from './support/large-revisions.ts';

let gw: TestGateway;
beforeEach(async () => {
  gw = await createTestGateway();
});
afterEach(async () => {
  await gw.close();
});

const UPDATE = `mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) {
  __typename
  ... on UpdateOrgConfigSuccess { dryRun config { version branding { color } } changes { path legacyKey before after } }
  ... on ValidationError { problems { field code } } } }`;
const HISTORY = `query ($first: Int, $after: String) { orgConfigHistory(orgId: "demo", first: $first, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { cursor node { version door revertedToVersion actor { keyId role } changes { path legacyKey before after } } } } }`;
const REVERT = `mutation ($input: RevertOrgConfigInput!) { revertOrgConfig(input: $input) {
  __typename
  ... on RevertOrgConfigSuccess { config { version branding { color } } changes { path before after } }
  ... on NotFound { message }
  ... on VersionConflict { currentVersion } } }`;

const setColor = (color: string, extra: Record<string, unknown> = {}) =>
  gw.graphql(UPDATE, { input: { orgId: 'demo', patch: { branding: { color } }, ...extra } });
const setColorAs = (color: string, key: string) =>
  gw.graphql(UPDATE, { input: { orgId: 'demo', patch: { branding: { color } } } }, key);
const adminKeyId = async () => (await gw.store.listApiKeys('demo')).find((key) => key.role === 'admin')!.id;

describe('revisions', () => {
  it('audit each committed change with its actor, door and before/after values; a rejected one leaves none', async () => {
    await setColor('#111111');
    await setColor('not a colour');
    await setColor('#111111'); // no change, no revision
    const history = await gw.graphql(HISTORY, { first: 10 });
    const nodes = history.data?.orgConfigHistory.edges.map((edge: { node: unknown }) => edge.node);
    expect(nodes).toHaveLength(2);
    expect(nodes[0]).toEqual({
      version: 2,
      door: 'GRAPHQL',
      revertedToVersion: null,
      actor: { keyId: await adminKeyId(), role: 'admin' },
      changes: [{ path: 'branding.color', legacyKey: 'color', before: '#fe7f00', after: '#111111' }],
    });
    expect(nodes[1]).toMatchObject({ version: 1, actor: { keyId: null, role: 'operator' } });
    expect(nodes[1].changes).toHaveLength(51);
    expect(JSON.stringify(history)).not.toContain(gw.keys.admin);
  });

  it('refuses a cursor that is not one with its own message, not as an invalid configuration', async () => {
    const result = await gw.graphql(HISTORY, { first: 1, after: 'nonsense' });
    expect(result.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
      ['BAD_USER_INPUT', 'after: not a cursor of this connection: pass pageInfo.endCursor'],
    ]);
  });

  it('pages the history newest first with cursors', async () => {
    for (const color of ['#000001', '#000002', '#000003', '#000004']) await setColor(color);
    const versions: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = (await gw.graphql(HISTORY, { first: 2, after })).data?.orgConfigHistory;
      pages += 1;
      versions.push(...page.edges.map((edge: { node: { version: number } }) => edge.node.version));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(versions).toEqual([5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
  });

  it('is for admin keys only, and not for other organisations', async () => {
    const adviser = await gw.graphql(HISTORY, { first: 1 }, gw.keys.adviser);
    expect(adviser.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    // Told what it may not do: read the history, not "change" anything.
    expect(adviser.errors?.[0]?.message).toBe(
      'the history of changes is for admin keys; this API key is an adviser key',
    );
    const change = await setColorAs('#010101', gw.keys.adviser);
    expect(change.errors?.[0]?.message).toBe(
      'this API key may read the configuration but not change it (role adviser)',
    );
    const foreign = await gw.graphql(HISTORY, { first: 1 }, gw.keys.otherAdmin);
    expect(foreign.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});

describe('orgConfigAt', () => {
  it('answers the whole configuration as it was', async () => {
    await setColor('#222222');
    await setColor('#333333');
    const at = (version: number, key?: string) =>
      gw.graphql(
        'query ($v: Int!) { orgConfigAt(orgId: "demo", version: $v) { version branding { color name } } }',
        { v: version },
        key,
      );
    expect((await at(1, gw.keys.adviser)).data?.orgConfigAt).toEqual({
      version: 1,
      branding: { color: '#fe7f00', name: 'Wody Aqua Polska' },
    });
    expect((await at(2)).data?.orgConfigAt).toEqual({
      version: 2,
      branding: { color: '#222222', name: 'Wody Aqua Polska' },
    });
    const missing = await at(9);
    expect(missing.data?.orgConfigAt).toBeNull();
    expect(missing.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});

describe('revertOrgConfig', () => {
  it('restores the old values as a new, audited revision', async () => {
    await setColor('#444444');
    await gw.graphql(UPDATE, { input: { orgId: 'demo', patch: { website: { phonePrefix: 'DE' } } } });
    const reverted = await gw.graphql(REVERT, { input: { orgId: 'demo', toVersion: 1, expectedVersion: 3 } });
    expect(reverted.data?.revertOrgConfig).toEqual({
      __typename: 'RevertOrgConfigSuccess',
      config: { version: 4, branding: { color: '#fe7f00' } },
      changes: [
        { path: 'branding.color', before: '#444444', after: '#fe7f00' },
        { path: 'website.phonePrefix', before: 'DE', after: 'PL' },
      ],
    });
    const latest = (await gw.graphql(HISTORY, { first: 1 })).data?.orgConfigHistory.edges[0].node;
    expect(latest).toMatchObject({ version: 4, revertedToVersion: 1, door: 'GRAPHQL' });
  });

  it('answers NotFound for a version that never was, and a conflict for a stale expectedVersion', async () => {
    expect(
      (await gw.graphql(REVERT, { input: { orgId: 'demo', toVersion: 7 } })).data?.revertOrgConfig.__typename,
    ).toBe('NotFound');
    await setColor('#555555');
    expect(
      (await gw.graphql(REVERT, { input: { orgId: 'demo', toVersion: 1, expectedVersion: 1 } })).data
        ?.revertOrgConfig,
    ).toEqual({
      __typename: 'VersionConflict',
      currentVersion: 2,
    });
    const adviser = await gw.graphql(REVERT, { input: { orgId: 'demo', toVersion: 1 } }, gw.keys.adviser);
    expect(adviser.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await gw.store.getConfig('demo'))!.version).toBe(2);
  });
});

describe('dry runs', () => {
  it('answer the validation result and the would-be changes, and write nothing', async () => {
    const dry = await setColor('#666666', { dryRun: true });
    expect(dry.data?.updateOrgConfig).toEqual({
      __typename: 'UpdateOrgConfigSuccess',
      dryRun: true,
      config: { version: 1, branding: { color: '#666666' } },
      changes: [{ path: 'branding.color', legacyKey: 'color', before: '#fe7f00', after: '#666666' }],
    });
    const invalid = await setColor('#66', { dryRun: true });
    expect(invalid.data?.updateOrgConfig.problems).toEqual([
      { field: 'branding.color', code: 'INVALID_COLOR' },
    ]);
    const stored = await gw.store.getConfig('demo');
    expect(stored!.version).toBe(1);
    expect(stored!.settings.branding.color).toBe('#fe7f00');
    expect(await gw.store.listRevisions('demo', { limit: 10 })).toHaveLength(1);
  });
});

describe('GET /api/orgs/{orgId}/config/history', () => {
  it('lists revisions newest first for admin keys, page by page', async () => {
    const server = await listen(gw.gateway);
    try {
      await setColor('#777777');
      await fetch(`${server.baseUrl}/api/orgs/demo/config`, {
        method: 'PUT',
        headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
        body: JSON.stringify({ autoAssignedLimit: 7 }),
      });
      const url = `${server.baseUrl}/api/orgs/demo/config/history`;
      const first = await fetch(`${url}?limit=2`, { headers: { 'x-api-key': gw.keys.admin } });
      expect(first.status).toBe(200);
      const page = await first.json();
      expect(
        page.revisions.map((revision: { version: number; door: string }) => [
          revision.version,
          revision.door,
        ]),
      ).toEqual([
        [3, 'rest'],
        [2, 'graphql'],
      ]);
      expect(page.revisions[0].changes).toEqual([
        { key: 'autoAssignedLimit', path: 'assignment.autoAssignedLimit', before: 4, after: 7 },
      ]);
      expect(page.nextBefore).toBe(2);
      const last = await (
        await fetch(`${url}?limit=2&before=2`, { headers: { 'x-api-key': gw.keys.admin } })
      ).json();
      expect(last.revisions.map((revision: { version: number }) => revision.version)).toEqual([1]);
      expect(last.nextBefore).toBeNull();
      for (const query of ['', '?limit=ten']) {
        const refused = await fetch(`${url}${query}`, { headers: { 'x-api-key': gw.keys.adviser } });
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({
          code: 'FORBIDDEN',
          detail: 'the history of changes is for admin keys; this API key is an adviser key',
        });
      }
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(`${url}?limit=ten`, { headers: { 'x-api-key': gw.keys.admin } })).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});

describe('history pages of large revisions', () => {
  it('hold at most 256 KiB of revisions (at least one), and the cursors reach every revision once, on both doors', async () => {
    await writeLargeRevisions(gw.service, 'demo', 12);
    const server = await listen(gw.gateway);
    try {
      const versions: number[] = [];
      let before: number | null = null;
      for (let pages = 0; pages < 20; pages++) {
        const query: string = `limit=100${before === null ? '' : `&before=${before}`}`;
        const response = await fetch(`${server.baseUrl}/api/orgs/demo/config/history?${query}`, {
          headers: { 'x-api-key': gw.keys.admin },
        });
        const body = await response.text();
        const page = JSON.parse(body);
        expect(page.revisions.length).toBeGreaterThanOrEqual(1);
        // A page of large revisions stops short of the limit; what it answers stays near the bound.
        expect(Buffer.byteLength(body)).toBeLessThan(400 * 1024);
        versions.push(...page.revisions.map((revision: { version: number }) => revision.version));
        before = page.nextBefore;
        if (before === null) break;
      }
      expect(versions).toEqual(Array.from({ length: 13 }, (_, index) => 13 - index));

      const seen: number[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 20; pages++) {
        const result = await gw.graphql(HISTORY, { first: 100, after });
        const connection = result.data?.orgConfigHistory;
        expect(connection.edges.length).toBeGreaterThanOrEqual(1);
        expect(connection.edges.length).toBeLessThan(13);
        seen.push(...connection.edges.map((edge: { node: { version: number } }) => edge.node.version));
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
      }
      expect(seen).toEqual(versions);
    } finally {
      await server.close();
    }
  });

  it('hold one revision when that one alone is over the bound', async () => {
    const sizes = [{ bytes: 300_000 }, { bytes: 10 }];
    expect(historyPageLength(sizes, 100, 256 * 1024)).toBe(1);
    expect(
      historyPageLength([{ bytes: 100_000 }, { bytes: 100_000 }, { bytes: 100_000 }], 100, 256 * 1024),
    ).toBe(2);
    expect(historyPageLength([{ bytes: 10 }, { bytes: 10 }], 1, 256 * 1024)).toBe(1);
    expect(historyPageLength([], 100, 256 * 1024)).toBe(0);
  });
});
