// The API-key matrix: no key, unknown key, revoked key, another org's key, adviser and admin.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/api-keys.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway;
beforeEach(async () => {
  gw = await createTestGateway();
});
afterEach(async () => {
  await gw.close();
});

const READ = '{ orgConfig(orgId: "demo") { version } }';
const WRITE = `mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#010101" } } }) {
  __typename ... on UpdateOrgConfigSuccess { config { version } } ... on NotFound { orgId } ... on ValidationError { problems { code } } } }`;
const INVALID_WRITE =
  'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "nope" } } }) { __typename } }';

const version = async () => (await gw.store.getConfig('demo'))?.version;

describe('API keys', () => {
  it.each([
    ['no key', null],
    ['an unknown key', 'bf4dd784-1277-4e32-b60e-a86a82623147'],
  ])('answers UNAUTHENTICATED to a read with %s, as a request error (no data)', async (_, key) => {
    const result = await gw.graphql(READ, undefined, key);
    expect(result).not.toHaveProperty('data');
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it.each([
    ['no key', null],
    ['an unknown key', 'bf4dd784-1277-4e32-b60e-a86a82623147'],
  ])(
    'answers UNAUTHENTICATED to a write with %s, even an invalid one, and writes nothing',
    async (_, key) => {
      for (const mutation of [WRITE, INVALID_WRITE]) {
        const result = await gw.graphql(mutation, undefined, key);
        expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      }
      expect(await version()).toBe(1);
    },
  );

  it('reports the organisation of another key as not found, for reads and writes', async () => {
    const read = await gw.graphql(READ, undefined, gw.keys.otherAdmin);
    expect(read.data).toEqual({ orgConfig: null });
    expect(read.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    const unknownOrg = await gw.graphql(
      '{ orgConfig(orgId: "no-such-org") { version } }',
      undefined,
      gw.keys.otherAdmin,
    );
    expect(unknownOrg.errors?.[0]?.message.replace('no-such-org', 'demo')).toBe(read.errors?.[0]?.message);
    const write = await gw.graphql(WRITE, undefined, gw.keys.otherAdmin);
    expect(write.data?.updateOrgConfig).toEqual({ __typename: 'NotFound', orgId: 'demo' });
    expect(await version()).toBe(1);
  });

  it('settles who may write before looking at the input', async () => {
    const adviser = await gw.graphql(INVALID_WRITE, undefined, gw.keys.adviser);
    expect(adviser.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const foreign = await gw.graphql(
      INVALID_WRITE.replace('__typename', '__typename ... on NotFound { orgId }'),
      undefined,
      gw.keys.otherAdmin,
    );
    expect(foreign.data?.updateOrgConfig).toEqual({ __typename: 'NotFound', orgId: 'demo' });
  });

  it('lets an adviser read but not write', async () => {
    const read = await gw.graphql(READ, undefined, gw.keys.adviser);
    expect(read).toEqual({ data: { orgConfig: { version: 1 } } });
    const write = await gw.graphql(WRITE, undefined, gw.keys.adviser);
    expect(write.data).toBeNull();
    expect(write.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await version()).toBe(1);
  });

  it('lets an admin read and write', async () => {
    const write = await gw.graphql(WRITE, undefined, gw.keys.admin);
    expect(write.data?.updateOrgConfig).toEqual({
      __typename: 'UpdateOrgConfigSuccess',
      config: { version: 2 },
    });
  });

  it('stops accepting a key once revoked', async () => {
    const [adviserKey] = (await gw.store.listApiKeys('demo')).filter((key) => key.role === 'adviser');
    expect(await gw.store.revokeApiKey(adviserKey!.id)).toBe(true);
    const result = await gw.graphql(READ, undefined, gw.keys.adviser);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('stores keys hashed, never in clear text', async () => {
    const dump = JSON.stringify(await gw.database.rows('api_keys'));
    for (const key of Object.values(gw.keys)) {
      expect(dump).not.toContain(key);
      expect(dump).toContain(hashApiKey(key));
    }
  });
});
