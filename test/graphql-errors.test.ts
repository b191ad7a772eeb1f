// The README's table "Every GraphQL error", row by row: each case sent over HTTP under both media
// types, its status, code and data checked against the row's cells. A row without a case here, or a
// case without a row, fails too.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';

interface Row {
  readonly case: string;
  readonly code: string;
  readonly graphqlResponseStatus: number;
  readonly jsonStatus: number;
  readonly data: string;
}

/** The rows of the table under "### Every GraphQL error", cells without their backticks. */
function readmeRows(): Row[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Every GraphQL error'));
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| case |'));
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim().replace(/^`|`$/g, ''));
    const [name, code, graphqlResponseStatus, jsonStatus, data] = cells as [
      string,
      string,
      string,
      string,
      string,
    ];
    rows.push({
      case: name.replace(/`/g, ''),
      code,
      graphqlResponseStatus: Number(graphqlResponseStatus),
      jsonStatus: Number(jsonStatus),
      data,
    });
  }
  return rows;
}

const accepts = ['application/graphql-response+json', 'application/json'] as const;
type Accept = (typeof accepts)[number];

let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

const READ = '{ orgConfig(orgId: "demo") { version } }';
const UPDATE = 'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }';

function post(
  baseUrl: string,
  accept: Accept,
  body: unknown,
  key: string | null,
  raw?: string,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  if (key !== null) headers['x-api-key'] = key;
  return fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: raw ?? JSON.stringify(body) });
}

/** One request per README row, by the row's first cell. */
const cases: Record<string, (accept: Accept) => Promise<Response>> = {
  'no key, asking for data': (accept) => post(gw.baseUrl, accept, { query: READ }, null),
  'an unknown or revoked key': (accept) =>
    post(gw.baseUrl, accept, { query: READ }, 'bf4dd784-1277-4e32-b60e-a86a82623147'),
  'a key of another organisation, reading': (accept) =>
    post(gw.baseUrl, accept, { query: READ }, gw.keys.otherAdmin),
  'an adviser key, writing': (accept) =>
    post(
      gw.baseUrl,
      accept,
      { query: UPDATE, variables: { input: { orgId: 'demo', patch: { branding: { color: '#000000' } } } } },
      gw.keys.adviser,
    ),
  'a document that does not parse': (accept) =>
    post(gw.baseUrl, accept, { query: '{ orgConfig(orgId: "demo") { version }' }, gw.keys.admin),
  'a document that does not fit the schema': (accept) =>
    post(gw.baseUrl, accept, { query: '{ orgConfig(orgId: "demo") { nope } }' }, gw.keys.admin),
  'a variable value of the wrong type': (accept) =>
    post(
      gw.baseUrl,
      accept,
      {
        query: UPDATE,
        variables: { input: { orgId: 'demo', patch: { assignment: { autoAssignedLimit: 'x' } } } },
      },
      gw.keys.admin,
    ),
  'a required variable left out': (accept) =>
    post(
      gw.baseUrl,
      accept,
      { query: 'query ($orgId: ID!) { orgConfig(orgId: $orgId) { version } }' },
      gw.keys.admin,
    ),
  'over a graphql-armor limit (aliases here)': (accept) =>
    post(
      gw.baseUrl,
      accept,
      {
        query: `{ orgConfig(orgId: "demo") { ${Array.from({ length: 16 }, (_, i) => `a${i}: version`).join(' ')} } }`,
      },
      gw.keys.admin,
    ),
  'a document over 16 KiB': (accept) =>
    post(gw.baseUrl, accept, { query: `{ __typename } #${' '.repeat(17_000)}` }, gw.keys.admin),
  'a body over 1 MiB': (accept) =>
    post(
      gw.baseUrl,
      accept,
      { query: '{ __typename }', variables: { padding: 'x'.repeat(1_100_000) } },
      gw.keys.admin,
    ),
  'no query': (accept) => post(gw.baseUrl, accept, { variables: {} }, gw.keys.admin),
  'a body that is not JSON': (accept) => post(gw.baseUrl, accept, null, gw.keys.admin, '{"query": '),
  'several operations and no operationName': (accept) =>
    post(gw.baseUrl, accept, { query: 'query A { __typename } query B { __typename }' }, gw.keys.admin),
  'a mutation sent with GET': (accept) =>
    fetch(
      `${gw.baseUrl}/graphql?query=${encodeURIComponent('mutation { revertOrgConfig(input: { orgId: "demo", toVersion: 1 }) { __typename } }')}`,
      { headers: { accept, 'x-api-key': gw.keys.admin } },
    ),
  'an expired key': async (accept) => {
    const { key } = await createApiKey(gw.store, 'demo', 'adviser', { expiresAt: new Date(Date.now() - 1) });
    return post(gw.baseUrl, accept, { query: READ }, key);
  },
  'a widget key from an origin not allowed': async (accept) => {
    // "other" starts from the defaults: no origin is allowed.
    const { key } = await createApiKey(gw.store, 'other', 'widget');
    return fetch(`${gw.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept,
        'x-api-key': key,
        origin: 'https://shop.example',
      },
      body: JSON.stringify({ query: '{ orgConfig(orgId: "other") { version } }' }),
    });
  },
  'a secret key in the URL': (accept) =>
    fetch(`${gw.baseUrl}/graphql?${new URLSearchParams({ query: READ, key: gw.keys.admin })}`, {
      headers: { accept },
    }),
  'a key in the URL beside x-api-key': (accept) =>
    fetch(`${gw.baseUrl}/graphql?${new URLSearchParams({ query: READ, key: 'pk_any' })}`, {
      headers: { accept, 'x-api-key': gw.keys.admin },
    }),
  'an unknown stream ticket (also TICKET_REUSED, TICKET_EXPIRED)': (accept) =>
    fetch(`${gw.baseUrl}/graphql?${new URLSearchParams({ query: READ, ticket: 'st_never' })}`, {
      headers: { accept: `${accept}, text/event-stream` },
    }),
  'a GET without x-api-key (CSRF prevention)': (accept) =>
    fetch(`${gw.baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept } }),
  "past a key's rate limit": async (accept) => {
    // A gateway of its own, whose keys may send one request a minute.
    const limited = await createTestGateway({ rateLimits: { perKeyPerMinute: 1, failedAuthPerMinute: 30 } });
    try {
      expect((await post(limited.baseUrl, accept, { query: READ }, limited.keys.admin)).status).toBe(200);
      const refused = await post(limited.baseUrl, accept, { query: READ }, limited.keys.admin);
      // Read here: the gateway closes below.
      return new Response(await refused.arrayBuffer(), { status: refused.status, headers: refused.headers });
    } finally {
      await limited.close();
    }
  },
};

/** The data cell's words for what an answer holds. */
function dataCell(body: Record<string, unknown>): string {
  if (!('data' in body)) return 'absent';
  return JSON.stringify(body.data);
}

describe('README: Every GraphQL error', () => {
  const rows = readmeRows();

  it('has a case here for every row of the table, and a row for every case', () => {
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.map((row) => row.case).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(rows)('$case', async (row) => {
    for (const accept of accepts) {
      const response = await cases[row.case]!(accept);
      const status = accept === 'application/json' ? row.jsonStatus : row.graphqlResponseStatus;
      const text = await response.text();
      expect({ accept, status: response.status }).toEqual({ accept, status });
      const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.length).toBeGreaterThan(0);
      for (const error of body.errors!) expect(error.extensions?.code).toBe(row.code);
      expect(dataCell(body)).toBe(row.data);
      if (response.status === 401)
        expect(response.headers.get('www-authenticate')).toBe('ApiKey header="x-api-key"');
    }
  });

  it('names the path inside a variable that does not coerce, each bad value once', async () => {
    const response = await post(
      gw.baseUrl,
      'application/graphql-response+json',
      {
        query: UPDATE,
        variables: {
          input: {
            orgId: 'demo',
            patch: {
              assignment: { autoAssignedLimit: 'x' },
              workingHours: [{ offsetSeconds: 'y' }],
            },
          },
        },
      },
      gw.keys.admin,
    );
    const { errors } = (await response.json()) as {
      errors: { message: string; extensions: { code: string; variable: string } }[];
    };
    expect(errors.map((error) => error.extensions.variable).sort()).toEqual([
      '$input.patch.assignment.autoAssignedLimit',
      '$input.patch.workingHours[0]',
      '$input.patch.workingHours[0].offsetSeconds',
    ]);
    expect(errors.map((error) => error.message)).toContain(
      'Variable "$input" got invalid value "x" at "input.patch.assignment.autoAssignedLimit"; Int cannot represent non-integer value: "x"',
    );
  });

  it('answers no key before it judges the variables, and lets anyone read the schema', async () => {
    const bad = { input: { orgId: 'demo', patch: { assignment: { autoAssignedLimit: 'x' } } } };
    const anonymous = await post(gw.baseUrl, 'application/json', { query: UPDATE, variables: bad }, null);
    const { errors } = (await anonymous.json()) as { errors: { extensions: { code: string } }[] };
    expect(errors.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
    const schema = await post(
      gw.baseUrl,
      'application/graphql-response+json',
      { query: '{ __schema { queryType { name } } }' },
      null,
    );
    expect(schema.status).toBe(200);
    expect(await schema.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});
