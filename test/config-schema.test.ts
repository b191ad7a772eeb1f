// GET /api/config.schema.json publishes the rules: on random valid and invalid objects, ajv with that
// schema and the server give the same verdict (the rules across settings excepted, as the schema says).
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countryCodes } from '../src/config/countries.ts';
import { legacySettings } from '../src/config/legacy.ts';
import { adviserStatuses, limits, optionalHttpUrl, originList } from '../src/config/rules.ts';
import { createTestGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway;
let schema: any;
let ajv: Ajv2020;
beforeAll(async () => {
  gw = await createTestGateway({
    rateLimits: { perKeyPerMinute: 1_000_000, failedAuthPerMinute: 1_000_000 },
  });
  const response = await gw.fetch('http://gateway.test/api/config.schema.json');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/schema\+json/);
  schema = await response.json();
  ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addSchema(schema);
});
afterAll(() => gw.close());

/**
 * Codes of the rules the schema leaves to the server (and says so): across settings, and the facts
 * a pattern cannot hold (which zone names exist, which dates the calendar has).
 */
const crossField = new Set([
  'SLA_RANGE_INVERTED',
  'WORKING_HOURS_OVERLAP',
  'UNKNOWN_TIME_ZONE',
  'INVALID_DATE',
  'DUPLICATE_DATE',
]);

async function serverVerdict(body: Record<string, unknown>): Promise<{ valid: boolean; codes: string[] }> {
  const response = await gw.fetch('http://gateway.test/api/orgs/demo/config', {
    method: 'PUT',
    headers: { 'x-api-key': gw.keys.admin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status === 200) return { valid: true, codes: [] };
  expect(response.status).toBe(422);
  const codes = ((await response.json()).problems as { code: string }[]).map((problem) => problem.code);
  return { valid: codes.every((code) => crossField.has(code)), codes };
}

const tricky = fc.constantFrom('\ud800', '\u0000', 'a\udc00', '😀', '', ' ', 'é', '\u2028');
const text = (max: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc
      .tuple(fc.integer({ min: max - 2, max: max + 2 }), fc.constantFrom('a', '😀'))
      .map(([n, c]) => c.repeat(n)),
    tricky,
  );

const hosts = [
  'example.com',
  'localhost',
  'shop.example.org',
  'a_b.example',
  '1.2.3.4',
  '255.255.255.255',
  '1.2.3.999',
  '01.2.3.4',
  'a.0x1f',
  'a.123',
  'xn--a',
  'xn--bcher-kva.example',
  'a..b',
  '-a.com',
  'EXAMPLE.COM',
  '[::1]',
  'münchen.de',
  'exa mple.com',
  'user@example.com',
  '',
];
const ports = ['', ':80', ':443', ':0', ':8080', ':65535', ':65536', ':08080', ':', ':x'];
const tails = ['', '/', '/a/b?c=d#e', '?q', '#f', '/a b', '/ä', '/%zz', '/\u0000', '/\ud800', '/'];
const url = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('http://', 'https://', 'HTTPS://', 'ftp://', 'http:/', 'http:', '', ' http://'),
      fc.constantFrom(...hosts),
      fc.constantFrom(...ports),
      fc.constantFrom(...tails),
    )
    .map((parts) => parts.join('')),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom('*', '', ' '),
);
const list = <T>(item: fc.Arbitrary<T>) =>
  fc.oneof(
    fc.array(item, { maxLength: 4 }),
    fc.array(item, { minLength: 1, maxLength: 2 }).map((items) => [...items, items[0]]),
    fc.constant(Array.from({ length: limits.listItems + 1 }, (_, index) => `.e${index}`)),
  );
const int = (min: number, max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, 1.5, 2 ** 53, -0, '4', true) },
  );

/** A value for each legacy key: mostly near its rules, on either side of them, or of another type. */
function valueFor(key: string, kind: string): fc.Arbitrary<unknown> {
  const other = fc.constantFrom(null, 'x', 1, false, [], {});
  const value = (() => {
    switch (kind) {
      case 'boolean':
        return fc.boolean();
      case 'adviserStatus':
        return fc.constantFrom(...adviserStatuses, 'busy', 'Away');
      case 'weeklySlots':
        return fc.constantFrom(
          [],
          [{ day: 'MONDAY', start: '09:00', end: '17:00' }],
          [{ day: 'SUNDAY', start: '22:00', end: '02:00' }],
          [{ day: 'MONDAY', start: '9:00', end: '17:00' }],
          [{ day: 'MONDAY', start: '09:00', end: '17:00', extra: true }],
        );
      case 'openingExceptions':
        return fc.constantFrom(
          [],
          [{ date: '2026-12-24', recurring: true, slots: [] }],
          [{ date: '2026-12-31', recurring: false, slots: [{ start: '10:00', end: '14:00' }] }],
          [{ date: '2026-13-01', recurring: false, slots: [] }],
        );
      case 'workingHours':
        return fc.array(
          fc.oneof(
            fc.record({
              offsetSeconds: int(-limits.weekSeconds, limits.weekSeconds),
              durationSeconds: int(0, 7_200),
            }),
            fc.record({ offsetSeconds: fc.integer({ min: 0, max: 1_000 }) }),
            fc.record({ offsetSeconds: fc.constant(0), durationSeconds: fc.constant(1), note: fc.string() }),
          ),
          { maxLength: 3 },
        );
      case 'stringList':
        return key === 'origin'
          ? list(url)
          : list(
              fc.oneof(
                fc.constantFrom(
                  '.pdf',
                  '.tar.gz',
                  '.PDF',
                  'pdf',
                  '.',
                  '.a..b',
                  '.é',
                  `.${'x'.repeat(15)}`,
                  `.${'x'.repeat(16)}`,
                ),
                fc.stringMatching(/^\.[a-z0-9.]{0,17}$/),
              ),
            );
      case 'int': {
        const setting = legacySettings.find((candidate) => candidate.key === key)!;
        const max = (setting.schema as unknown as { maxValue: number }).maxValue;
        return int(0, max);
      }
      default:
        if (key === 'openingHoursTimeZone')
          // Names of the published pattern; whether such a zone exists is the server's to say.
          return fc.constantFrom('UTC', 'Europe/Warsaw', 'America/Sao_Paulo', 'Mars/Olympus');
        if (key === 'color')
          return fc.oneof(
            fc.stringMatching(/^#[0-9a-fA-Fg]{2,7}$/),
            fc.constantFrom('#fff', 'red', '#FFF\n'),
          );
        if (key === 'phonePrefix')
          return fc.constantFrom(...[...countryCodes].slice(0, 5), 'pl', 'XX', 'PLN', '');
        if (key === 'baseUrl' || key === 'defaultAgentAvatarUrl') return url;
        return text(key === 'name' || key.startsWith('header') ? 200 : key === 'agreement' ? 10_000 : 2_000);
    }
  })();
  return fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: other });
}

const leaves = legacySettings.map(({ key, kind }) => ({ key, kind }));
/** A change of a few settings (a change of many is nearly always refused, which would teach little). */
const partial = fc
  .uniqueArray(fc.constantFrom(...leaves), { minLength: 1, maxLength: 4, selector: ({ key }) => key })
  .chain((chosen) =>
    fc.record(Object.fromEntries(chosen.map(({ key, kind }) => [key, valueFor(key, kind)]))),
  );
const body = fc
  .tuple(
    partial,
    fc.option(fc.constantFrom('colour', 'nope', '__proto__', 'Name'), { nil: undefined, freq: 8 }),
  )
  .map(([object, unknown]) => (unknown === undefined ? object : { ...object, [unknown]: 1 }));

describe('/api/config.schema.json', () => {
  it('is JSON Schema 2020-12 of the flat object: every setting, no other key, the rules across settings documented', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const whole = schema;
    expect(whole.required).toEqual(leaves.map(({ key }) => key));
    expect(whole.additionalProperties).toBe(false);
    expect(schema.$defs.OrgConfigPatch.required).toBeUndefined();
    expect(schema.$defs.OrgConfigPatch.additionalProperties).toBe(false);
    expect(schema.$comment).toContain('SLA_RANGE_INVERTED');
    expect(schema.$comment).toContain('WORKING_HOURS_OVERLAP');
    expect(schema.description).toContain('SLA_RANGE_INVERTED');
  });

  it('gives the server’s verdict on random changes (PUT bodies), rules across settings excepted', async () => {
    const validatePatch = ajv.getSchema(`${schema.$id}#/$defs/OrgConfigPatch`)!;
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(body, async (object) => {
        const server = await serverVerdict(object);
        const verdict = validatePatch(object);
        expect({
          schema: verdict,
          server: server.valid,
          errors: validatePatch.errors,
          codes: server.codes,
        }).toMatchObject({
          schema: server.valid,
        });
        if (server.valid) accepted++;
        else refused++;
      }),
      // One sequence in CI, the same on every run (FAST_CHECK_SEED=N runs another): the random ones
      // found legacy offsets near the range's ends that zones far from UTC turned into weekly
      // starts the server refused (seed 1890784440 on PostgreSQL; test/opening-hours.test.ts
      // now tries those offsets in every zone).
      { numRuns: 800, seed: Number(process.env.FAST_CHECK_SEED ?? 20261203) },
    );
    // Both verdicts were tried often enough to mean something.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });

  it('gives the server’s verdict on whole objects (GET answers), a missing key included', async () => {
    const validateWhole = ajv.getSchema(schema.$id)!;
    const current = await (
      await gw.fetch('http://gateway.test/api/orgs/demo/config', {
        headers: { 'x-api-key': gw.keys.admin },
      })
    ).json();
    expect(validateWhole(current)).toBe(true);
    const counts: Record<string, number> = { true: 0, false: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant({}), body),
        fc.option(fc.constantFrom(...leaves.map(({ key }) => key)), { nil: undefined, freq: 2 }),
        async (changes, missing) => {
          const object: Record<string, unknown> = { ...current, ...changes };
          if (missing !== undefined) delete object[missing];
          const server = await serverVerdict(object);
          // The server takes a partial body; the schema of a whole object requires every key.
          const expected = server.valid && missing === undefined;
          expect(validateWhole(object)).toBe(expected);
          counts[String(expected)] = (counts[String(expected)] ?? 0) + 1;
        },
      ),
      { numRuns: 200 },
    );
    expect(counts.true).toBeGreaterThan(10);
    expect(counts.false).toBeGreaterThan(10);
  });

  it('accepts only URLs and origins that WHATWG parsers (browsers, Node) read as they are', () => {
    const urlPattern = new RegExp(schema.$defs.baseUrl.pattern, 'u');
    const originPattern = new RegExp(schema.$defs.origin.items.pattern, 'u');
    fc.assert(
      fc.property(url, (value) => {
        expect(urlPattern.test(value)).toBe(
          optionalHttpUrl.safeParse(value).success || value.length > limits.urlLength,
        );
        if (value !== '' && urlPattern.test(value)) {
          expect(URL.canParse(value)).toBe(true);
          expect(['http:', 'https:']).toContain(new URL(value).protocol);
        }
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(url, (value) => {
        expect(originPattern.test(value)).toBe(
          originList.safeParse([value]).success || value.length > limits.urlLength,
        );
        if (value !== '*' && originPattern.test(value)) expect(new URL(value).origin).toBe(value);
      }),
      { numRuns: 2_000 },
    );
  });
});
