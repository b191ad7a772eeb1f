// Property-based (fast-check): bad input never causes a 5xx or a partial write; valid changes round-trip.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { GroupNode } from '../src/config/catalogue.ts';
import { countryCodes } from '../src/config/countries.ts';
import { fromLegacy } from '../src/config/legacy.ts';
import { orgConfigCatalogue, settingsDerivedLeaves, settingsLeaves } from '../src/config/model.ts';
import { weekdays } from '../src/config/opening-hours.ts';
import { adviserStatuses } from '../src/config/rules.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway;
beforeAll(async () => {
  // Random keys count as failed logins; this suite is not about rate limits.
  gw = await createTestGateway({
    rateLimits: { perKeyPerMinute: 1_000_000, failedAuthPerMinute: 1_000_000 },
  });
});
afterAll(async () => {
  await gw.close();
});

const legacyKeys = settingsLeaves.map(({ setting }) => setting.legacyKey);

/** A GraphQL selection of every setting of a group, from the catalogue. */
function selectionOf(group: GroupNode): string {
  return Object.entries(group.fields)
    .map(([name, node]) => {
      if (node.node === 'group') return `${name} { ${selectionOf(node)} }`;
      if (node.kind === 'workingHours') return `${name} { offsetSeconds durationSeconds }`;
      if (node.kind === 'weeklySlots') return `${name} { day start end }`;
      if (node.kind === 'openingExceptions') return `${name} { date recurring slots { start end } }`;
      return name;
    })
    .join(' ');
}
const settingsSelection = selectionOf(orgConfigCatalogue);
const url = 'http://gateway.test/api/orgs/demo/config';

async function snapshot() {
  const config = await gw.store.getConfig('demo');
  return JSON.stringify(config);
}

function put(body: string, headers: Record<string, string> = {}) {
  return gw.fetch(url, {
    method: 'PUT',
    headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json', ...headers },
    body,
  });
}

/** A JSON body that is mostly wrong: unknown keys, wrong types, broken values, or not JSON at all. */
const hostileBody = fc.oneof(
  fc.string(),
  fc.json(),
  fc
    .dictionary(fc.constantFrom(...legacyKeys, 'colour', '__proto__', 'constructor'), fc.jsonValue(), {
      maxKeys: 6,
    })
    .map((object) => JSON.stringify(object)),
);

describe('hostile input', () => {
  it('REST bodies never get a 5xx, and a refused body changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        const before = await snapshot();
        const response = await put(body);
        expect(response.status).toBeLessThan(500);
        if (response.status !== 200) expect(await snapshot()).toBe(before);
      }),
      { numRuns: 150 },
    );
  });

  it('REST headers never get a 5xx', async () => {
    const headerValue = fc.string({
      unit: fc.constantFrom(...' !"#*,-./0123456789;=ABCDEFWabcdefgjnopsvxz'.split('')),
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            'content-type': headerValue,
            'if-match': headerValue,
            'if-none-match': headerValue,
            'accept-encoding': headerValue,
            'x-api-key': headerValue,
          },
          { requiredKeys: [] },
        ),
        fc.constantFrom('GET', 'PUT', 'PATCH', 'POST', 'DELETE'),
        async (headers, method) => {
          const before = await snapshot();
          const response = await gw.fetch(url, {
            method,
            headers,
            body: method === 'GET' || method === 'DELETE' ? undefined : '{"color":"#abc"}',
          });
          expect(response.status).toBeLessThan(500);
          if (response.status !== 200 || method === 'GET') expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('GraphQL variables never get a 5xx, and a refused update changes nothing', async () => {
    const mutation =
      'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }';
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              orgId: fc.constantFrom('demo', 'other', ''),
              patch: fc.jsonValue(),
              expectedVersion: fc.jsonValue(),
            },
            { requiredKeys: ['orgId'] },
          ),
        ),
        async (input) => {
          const before = await snapshot();
          const response = await gw.fetch('http://gateway.test/graphql', {
            method: 'POST',
            headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
            body: JSON.stringify({ query: mutation, variables: { input } }),
          });
          expect(response.status).toBeLessThan(500);
          const result = (await response.json()) as { data?: { updateOrgConfig?: { __typename: string } } };
          if (result.data?.updateOrgConfig?.__typename !== 'UpdateOrgConfigSuccess')
            expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** A valid value for a setting, from its kind and the bounds its zod rule declares. */
function validValue(legacyKey: string, kind: string, schema: z.ZodType): fc.Arbitrary<unknown> {
  const bounds = schema as unknown as { minValue?: number; maxValue?: number; maxLength?: number };
  switch (kind) {
    case 'boolean':
      return fc.boolean();
    case 'int':
      return fc.integer({ min: bounds.minValue ?? 0, max: bounds.maxValue ?? 1000 });
    case 'adviserStatus':
      return fc.constantFrom(...adviserStatuses);
    case 'stringList':
      return legacyKey === 'origin'
        ? fc.uniqueArray(
            fc.constantFrom('*', 'https://example.com', 'http://localhost:8080', 'https://shop.example.org'),
            { maxLength: 4 },
          )
        : fc.uniqueArray(fc.constantFrom('.pdf', '.png', '.txt', '.docx', '.tar.gz'), { maxLength: 5 });
    case 'workingHours':
      return fc
        .uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 7 })
        .map((days) => days.map((day) => ({ offsetSeconds: day * 86_400 - 7_200, durationSeconds: 3_600 })));
    case 'weeklySlots':
      return fc
        .uniqueArray(fc.constantFrom(...weekdays), { maxLength: 7 })
        .map((days) => days.map((day) => ({ day, start: '22:00', end: '02:30' })));
    case 'openingExceptions':
      return fc
        .uniqueArray(fc.constantFrom('2026-12-24', '2026-12-25', '2027-01-01', '2027-05-03'), {
          maxLength: 4,
        })
        .chain((dates) =>
          fc.tuple(
            ...dates.map((date) =>
              fc.record({
                date: fc.constant(date),
                recurring: fc.boolean(),
                slots: fc.constantFrom([], [{ start: '10:00', end: '14:00' }]),
              }),
            ),
          ),
        );
    default:
      if (legacyKey === 'color') return fc.constantFrom('#fff', '#000000', '#fe7f00', '#1F6FEB');
      if (legacyKey === 'phonePrefix') return fc.constantFrom(...countryCodes);
      if (legacyKey === 'openingHoursTimeZone')
        return fc.constantFrom(
          'UTC',
          'Europe/Warsaw',
          'America/New_York',
          'Asia/Kolkata',
          'Australia/Sydney',
        );
      if (legacyKey === 'baseUrl' || legacyKey === 'defaultAgentAvatarUrl')
        return fc.constantFrom('', 'https://example.com/', 'http://localhost:3000/a?b=c');
      return fc.string({ maxLength: Math.min(bounds.maxLength ?? 50, 50) });
  }
}

const nonSlaSettings = settingsLeaves.filter(({ setting }) => !/SlaRange/.test(setting.legacyKey));
const validPatch = fc
  .record(
    Object.fromEntries([
      ...nonSlaSettings.map(({ setting }) => [
        setting.legacyKey,
        validValue(setting.legacyKey, setting.kind, setting.schema),
      ]),
      // Derived from openingHours: written, it replaces the weekly slots (so not both in one patch).
      ['workingHours', validValue('workingHours', 'workingHours', settingsDerivedLeaves[0]!.derived.schema)],
    ]),
    { requiredKeys: [] },
  )
  .map((patch) => {
    if ('workingHours' in patch) delete (patch as Record<string, unknown>).openingHoursWeekly;
    return patch;
  })
  .chain((patch) =>
    fc
      .option(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })), {
        nil: undefined,
      })
      .map((range) =>
        range
          ? {
              ...patch,
              waitingConversationsSlaRangeLowerBound: Math.min(...range),
              waitingConversationsSlaRangeUpperBound: Math.max(...range),
            }
          : patch,
      ),
  );

/** The nested GraphQL patch of a legacy body (enum values by their GraphQL names). */
function graphqlPatchOf(body: Record<string, unknown>): Record<string, unknown> {
  const patch = fromLegacy(body).patch as Record<string, unknown>;
  const status = (patch.lifecycle as { defaultStatusAfterLogin?: string } | undefined)
    ?.defaultStatusAfterLogin;
  if (status) (patch.lifecycle as Record<string, unknown>).defaultStatusAfterLogin = status.toUpperCase();
  return patch;
}

const everySetting = `query { orgConfig(orgId: "demo") { ${settingsSelection} } }`;

describe('valid changes', () => {
  it('round-trip through both doors: what either door writes, both doors read', async () => {
    await fc.assert(
      fc.asyncProperty(validPatch, fc.constantFrom('rest', 'graphql'), async (patch, door) => {
        if (door === 'rest') {
          expect((await put(JSON.stringify(patch))).status).toBe(200);
        } else {
          const result = await gw.graphql(
            'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }',
            {
              input: { orgId: 'demo', patch: graphqlPatchOf(patch) },
            },
          );
          expect(result.data?.updateOrgConfig.__typename).toBe('UpdateOrgConfigSuccess');
        }
        const rest = (await (
          await gw.fetch(url, { headers: { 'x-api-key': gw.keys.adviser } })
        ).json()) as Record<string, unknown>;
        for (const [key, value] of Object.entries(patch)) expect(rest[key]).toEqual(value);
        const graphql = (await gw.graphql(everySetting)).data?.orgConfig as Record<string, unknown>;
        expect(graphqlPatchOf(rest)).toEqual(graphql);
      }),
      { numRuns: 100 },
    );
  });
});
