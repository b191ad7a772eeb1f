// Text is well-formed Unicode on every door, and what is acknowledged is what every later read returns:
// through REST and GraphQL, in orgConfigAt of the same version, from a second gateway on the same store
// (a restart), on SQLite and on PostgreSQL.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../src/backend.ts';
import { codePointLength, limits } from '../src/config/rules.ts';
import { createGateway } from '../src/gateway.ts';
import { createListeningGateway, type ListeningGateway, listen } from './helpers.ts';

let gw: ListeningGateway;
beforeAll(async () => {
  gw = await createListeningGateway();
});
afterAll(async () => {
  await gw.close();
});

/** Well-formed UTF-16 (no lone surrogate): exactly the strings UTF-8 carries unchanged. */
function isWellFormed(value: string): boolean {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(value)) === value;
}

/** What the gateway must hold as it is: well-formed, no NUL, not over the limit. */
function acceptable(value: string, maxLength: number): boolean {
  return isWellFormed(value) && !value.includes('\u0000') && codePointLength(value) <= maxLength;
}

/** Two settings of different limits, with their legacy key and their place in OrgConfig. */
const settings = [
  { key: 'name', group: 'branding', field: 'name', max: limits.nameLength },
  { key: 'agreement', group: 'privacy', field: 'agreementText', max: limits.agreementLength },
] as const;
type Setting = (typeof settings)[number];

const tricky = fc.constantFrom(
  '\ud800',
  '\udc00',
  'a\ud83d',
  '\ude00b',
  '\u0000',
  'x\u0000y',
  '😀',
  'e\u0301',
  '\ufeff',
  '\uffff',
  '\u{10ffff}',
  '\u2028\u2029',
  '\r\n\t',
  '\u0001\u001f\u007f',
  '\ud800'.repeat(200),
  '😀'.repeat(200),
  '😀'.repeat(201),
);
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  tricky,
  fc.array(tricky, { maxLength: 4 }).map((parts) => parts.join('')),
);

const selection = 'version branding { name } privacy { agreementText }';
type Read = { version: number; branding: { name: string }; privacy: { agreementText: string } };

async function graphql(baseUrl: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': gw.keys.admin },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

async function writeRest(setting: Setting, value: string) {
  // JSON.stringify writes a lone surrogate as an escape (\ud800): the body itself is valid UTF-8.
  const response = await fetch(`${gw.baseUrl}/api/orgs/demo/config`, {
    method: 'PUT',
    headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
    body: JSON.stringify({ [setting.key]: value }),
  });
  const body = await response.json();
  return response.status === 200
    ? {
        ok: true as const,
        value: body[setting.key],
        version: Number(/\d+/.exec(response.headers.get('etag')!)![0]),
      }
    : { ok: false as const, status: response.status, problems: body.problems };
}

async function writeGraphql(setting: Setting, value: string) {
  const result = await graphql(
    gw.baseUrl,
    `mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename
      ... on UpdateOrgConfigSuccess { config { ${selection} } }
      ... on ValidationError { problems { field code } } } }`,
    { input: { orgId: 'demo', patch: { [setting.group]: { [setting.field]: value } } } },
  );
  const answer = result.data?.updateOrgConfig;
  return answer?.__typename === 'UpdateOrgConfigSuccess'
    ? {
        ok: true as const,
        value: answer.config[setting.group][setting.field],
        version: answer.config.version,
      }
    : {
        ok: false as const,
        status: 422,
        problems: (answer?.problems ?? []).map((problem: { field: string; code: string }) => ({
          pointer: `/${setting.key}`,
          code: problem.code,
          field: problem.field,
        })),
      };
}

/** The setting as each read sees it: REST GET, GraphQL orgConfig, and orgConfigAt of `version`. */
async function readEverywhere(baseUrl: string, setting: Setting, version: number) {
  const rest = await fetch(`${baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': gw.keys.admin } });
  const restBody = await rest.json();
  const result = await graphql(
    baseUrl,
    `query ($version: Int!) { orgConfig(orgId: "demo") { ${selection} } orgConfigAt(orgId: "demo", version: $version) { ${selection} } }`,
    { version },
  );
  const current = result.data.orgConfig as Read;
  const at = result.data.orgConfigAt as Read;
  return {
    rest: restBody[setting.key],
    restVersion: rest.headers.get('etag'),
    graphql: (current as any)[setting.group][setting.field],
    graphqlVersion: current.version,
    at: (at as any)[setting.group][setting.field],
  };
}

/** Every acknowledged write: the version it made (or found) and the value it holds. */
const acknowledged: { setting: Setting; version: number; value: string }[] = [];

describe('text', () => {
  it('is refused with INVALID_TEXT unless well-formed and free of NUL, and read back exactly as acknowledged', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText,
        fc.constantFrom(...settings),
        fc.constantFrom('rest', 'graphql'),
        async (value, setting, door) => {
          const answer =
            door === 'rest' ? await writeRest(setting, value) : await writeGraphql(setting, value);
          if (!acceptable(value, setting.max)) {
            expect(answer.ok).toBe(false);
            if (answer.ok) return;
            expect(answer.status).toBe(422);
            const codes = answer.problems.map((problem: { code: string }) => problem.code).sort();
            const expected = [
              ...(isWellFormed(value) && !value.includes('\u0000') ? [] : ['INVALID_TEXT']),
              ...(codePointLength(value) > setting.max ? ['TOO_LONG'] : []),
            ];
            expect(codes).toEqual(expected);
            return;
          }
          expect(answer.ok).toBe(true);
          if (!answer.ok) return;
          expect(answer.value).toBe(value);
          acknowledged.push({ setting, version: answer.version, value });
          const read = await readEverywhere(gw.baseUrl, setting, answer.version);
          expect(read).toEqual({
            rest: value,
            restVersion: `"v${answer.version}"`,
            graphql: value,
            graphqlVersion: answer.version,
            at: value,
          });
        },
      ),
      { numRuns: 120 },
    );
    expect(acknowledged.length).toBeGreaterThan(10);
  });

  it('reads the same after a restart: a new gateway on the same store, with nothing cached', async () => {
    const backend = await openBackend(
      { databaseUrl: gw.databaseUrl },
      { pollIntervalMs: 20, onError: (error) => console.error(error) },
    );
    const server = await listen(createGateway({ store: backend.store, events: backend.events }));
    try {
      const last = new Map<Setting, { version: number; value: string }>();
      for (const write of acknowledged) last.set(write.setting, write);
      for (const [setting, write] of last) {
        const read = await readEverywhere(server.baseUrl, setting, write.version);
        expect(read.rest).toBe(write.value);
        expect(read.graphql).toBe(write.value);
        expect(read.at).toBe(write.value);
      }
      // Every acknowledged version, as orgConfigAt tells it after the restart.
      for (const write of acknowledged) {
        const result = await graphql(
          server.baseUrl,
          `query ($version: Int!) { orgConfigAt(orgId: "demo", version: $version) { ${selection} } }`,
          { version: write.version },
        );
        expect((result.data.orgConfigAt as any)[write.setting.group][write.setting.field]).toBe(write.value);
      }
    } finally {
      await server.close();
      await backend.close();
    }
  });
});
