// Global ids (the Node interface): Apollo Client's normalised cache, with no type policies, over HTTP.
import { ApolloClient, gql, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

/** An Apollo client as a frontend makes one: a cache without type policies, every request counted. */
function apolloClient(key: string) {
  const requests: string[] = [];
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({
      uri: `${gw.baseUrl}/graphql`,
      headers: { 'x-api-key': key },
      fetch: (input, init) => {
        requests.push(JSON.parse(String(init?.body)).operationName);
        return fetch(input, init);
      },
    }),
  });
  return { client, requests };
}

// The answers are checked by the test, not typed: any, as GraphQLResponse's data in helpers.ts.
type Document = TypedDocumentNode<Record<string, any>, Record<string, unknown>>;

/**
 * What a view shows, shared by its query and the mutation, as Apollo's documentation advises: the
 * settings groups (Branding here) have no id of their own, so a mutation answer replaces them whole
 * in the cache, and a field it did not select would be lost (Apollo warns of it).
 */
const BRANDING_FIELDS = gql`
  fragment BrandingFields on OrgConfig {
    id
    version
    branding {
      color
      name
    }
  }
`;

const BRANDING: Document = gql`
  query Branding($orgId: ID!) {
    orgConfig(orgId: $orgId) {
      ...BrandingFields
    }
  }
  ${BRANDING_FIELDS}
`;

const UPDATE: Document = gql`
  mutation SetColor($input: UpdateOrgConfigInput!) {
    updateOrgConfig(input: $input) {
      __typename
      ... on UpdateOrgConfigSuccess {
        dryRun
        config {
          ...BrandingFields
        }
      }
    }
  }
  ${BRANDING_FIELDS}
`;

const AT_VERSION: Document = gql`
  query AtVersion($orgId: ID!, $version: Int!) {
    orgConfigAt(orgId: $orgId, version: $version) {
      id
      version
      branding {
        color
      }
    }
  }
`;

async function setColor(client: ApolloClient, color: string, dryRun = false) {
  const result = await client.mutate({
    mutation: UPDATE,
    variables: { input: { orgId: 'demo', patch: { branding: { color } }, dryRun } },
  });
  expect(result.data?.updateOrgConfig.__typename).toBe('UpdateOrgConfigSuccess');
  return result;
}

describe('Apollo Client InMemoryCache, no type policies', () => {
  it('updates a cached query from a mutation answer, without asking again', async () => {
    const { client, requests } = apolloClient(gw.keys.admin);
    const first = await client.query({ query: BRANDING, variables: { orgId: 'demo' } });
    const before = first.data!.orgConfig;
    const seen: string[] = [];
    const watched = client
      .watchQuery({ query: BRANDING, variables: { orgId: 'demo' }, fetchPolicy: 'cache-only' })
      .subscribe(({ data }) => {
        if (data?.orgConfig) seen.push(data.orgConfig.branding.color);
      });
    const color = before.branding.color === '#112233' ? '#445566' : '#112233';

    await setColor(client, color);

    const cached = client.readQuery({ query: BRANDING, variables: { orgId: 'demo' } })!.orgConfig;
    expect(cached).toMatchObject({ id: before.id, version: before.version + 1, branding: { color } });
    await expect.poll(() => seen.at(-1), { timeout: 5_000 }).toBe(color);
    watched.unsubscribe();
    expect(requests).toEqual(['Branding', 'SetColor']);
  });

  it('keeps a dry run and an earlier version apart from the current configuration', async () => {
    const { client } = apolloClient(gw.keys.admin);
    const current = (await client.query({ query: BRANDING, variables: { orgId: 'demo' } })).data!.orgConfig;

    const dryRun = await setColor(client, '#abcdef', true);
    const preview = dryRun.data!.updateOrgConfig as { config: { id: string } };
    expect(preview.config.id).not.toBe(current.id);
    const old = (await client.query({ query: AT_VERSION, variables: { orgId: 'demo', version: 1 } })).data!
      .orgConfigAt!;
    expect(old.id).not.toBe(current.id);

    const cached = client.readQuery({ query: BRANDING, variables: { orgId: 'demo' } })!.orgConfig;
    expect(cached).toMatchObject({ id: current.id, version: current.version, branding: current.branding });
  });
});

describe('node(id:)', () => {
  const NODE = `query ($id: ID!) { node(id: $id) { __typename id ... on OrgConfig { version branding { color } }
    ... on OrgConfigRevision { version changes { path } } } }`;
  const IDS = `{ orgConfig(orgId: "demo") { id version }
    orgConfigAt(orgId: "demo", version: 1) { id version }
    orgConfigHistory(orgId: "demo", first: 1) { nodes { id version } } }`;

  it('reads again every object by its id, and ids are unique', async () => {
    const { data } = await gw.graphql(IDS);
    const ids = [data!.orgConfig.id, data!.orgConfigAt.id, data!.orgConfigHistory.nodes[0].id];
    expect(new Set(ids).size).toBe(3);

    const current = await gw.graphql(NODE, { id: data!.orgConfig.id });
    expect(current.errors).toBeUndefined();
    expect(current.data!.node).toMatchObject({ __typename: 'OrgConfig', version: data!.orgConfig.version });
    const atOne = await gw.graphql(NODE, { id: data!.orgConfigAt.id });
    expect(atOne.data!.node).toMatchObject({ __typename: 'OrgConfig', id: data!.orgConfigAt.id, version: 1 });
    const revision = await gw.graphql(NODE, { id: data!.orgConfigHistory.nodes[0].id });
    expect(revision.data!.node).toMatchObject({
      __typename: 'OrgConfigRevision',
      id: data!.orgConfigHistory.nodes[0].id,
      version: data!.orgConfigHistory.nodes[0].version,
    });
  });

  it('gives a key of another organisation nothing, and nothing for ids that are not ids', async () => {
    const { data } = await gw.graphql(IDS);
    for (const id of [data!.orgConfig.id, data!.orgConfigAt.id, data!.orgConfigHistory.nodes[0].id]) {
      const result = await gw.graphql(NODE, { id }, gw.keys.otherAdmin);
      expect(result.data).toEqual({ node: null });
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    }
    for (const id of ['nonsense', Buffer.from('["OrgConfig"]').toString('base64url'), '']) {
      const result = await gw.graphql(NODE, { id });
      expect(result.data).toEqual({ node: null });
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    }
  });

  it('answers a key that may read configurations but not history as for orgConfigHistory', async () => {
    const { data } = await gw.graphql(IDS);
    const revision = await gw.graphql(NODE, { id: data!.orgConfigHistory.nodes[0].id }, gw.keys.adviser);
    expect(revision.data).toEqual({ node: null });
    expect(revision.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const config = await gw.graphql(NODE, { id: data!.orgConfig.id }, gw.keys.adviser);
    expect(config.data!.node).toMatchObject({ __typename: 'OrgConfig' });
  });
});
