// The fast path's memory of request bodies stays under its bound in bytes, counted on what each body
// retains, forgetting the oldest first; finds the last read of a key by the key; keeps no plan the
// plans have let go of.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import type { OrgConfig } from '../src/config/model.ts';
import { KnownReads, retainedBytes } from '../src/graphql/known-reads.ts';
import type { ReadPlan } from '../src/graphql/read-plans.ts';
import type { ApiKeyRecord } from '../src/store/config-store.ts';

const plan = { compiled: {} } as ReadPlan;

it('forgets the oldest bodies once their texts and answers pass the bound', () => {
  const reads = new KnownReads(10_000);
  const body = (index: number) =>
    `{"query":"{ orgConfig(orgId: \\"demo\\") { version } }","variables":{"pad":"${String(index).padStart(1_000, '0')}"}}`;
  for (let index = 0; index < 4; index++)
    reads.remember({ text: body(index), inUrl: false, variables: {}, plan, orgId: 'demo' });
  expect([0, 1, 2, 3].map((index) => reads.get(body(index)) !== undefined)).toEqual([true, true, true, true]);
  // Each text is about 2 KB in memory: a fifth and a large answer push the first two out.
  const fifth = reads.remember({ text: body(4), inUrl: false, variables: {}, plan, orgId: 'demo' });
  const config = {} as OrgConfig;
  reads.keepAnswer(fifth, {
    slot: { current: config },
    version: 1,
    role: 'admin',
    payload: Buffer.alloc(1_500),
  });
  expect([0, 1, 2, 3, 4].map((index) => reads.get(body(index)) !== undefined)).toEqual([
    false,
    false,
    true,
    true,
    true,
  ]);
  expect(reads.get(body(4))?.answer?.payload.byteLength).toBe(1_500);
});

it('gives a key its last read only for the same body, and only while the map holds it', () => {
  const reads = new KnownReads(3_000);
  const key = {
    id: 'k1',
    orgId: 'demo',
    role: 'adviser',
    createdAt: new Date(0),
    revokedAt: null,
  } as ApiKeyRecord;
  const sameKeyReadAgain = { ...key };
  const body = (pad: number) =>
    `{"query":"{ orgConfig(orgId: \\"demo\\") { version } }","pad":"${'x'.repeat(pad)}"}`;
  const first = reads.remember({ text: body(600), inUrl: false, variables: {}, plan, orgId: 'demo' });
  reads.keepLast(key, first);
  expect(reads.lastOf(key, body(600))).toBe(first);
  expect(reads.lastOf(key, body(601))).toBeUndefined();
  // By the record object the key cache holds: another record (the key read into another object) has no last read.
  expect(reads.lastOf(sameKeyReadAgain, body(600))).toBeUndefined();
  const config = {} as OrgConfig;
  const answer = {
    slot: { current: config },
    version: 1,
    role: 'adviser' as const,
    payload: Buffer.alloc(1_000),
  };
  reads.keepAnswer(first, answer);
  expect(reads.lastOf(key, body(600))?.answer).toBe(answer);
  // A second body of 2.5 KB in memory pushes the first out: it is no longer the key's last read, and keeps no answer.
  reads.remember({ text: body(1_200), inUrl: false, variables: {}, plan, orgId: 'demo' });
  expect(reads.get(body(600))).toBeUndefined();
  expect(reads.lastOf(key, body(600))).toBeUndefined();
  expect(first.answer).toBeUndefined();
  // An answer made for it meanwhile (by a request in flight) is not kept, nor counted: the second body stays.
  reads.keepAnswer(first, answer);
  expect(first.answer).toBeUndefined();
  expect(reads.get(body(1_200))).toBeDefined();
});

it('gives no read whose plan was let go of, and remembers its body anew in its place', () => {
  const reads = new KnownReads(100_000);
  const key = { id: 'k1', orgId: 'demo', role: 'adviser' } as ApiKeyRecord;
  const text = '{"query":"{ orgConfig(orgId: \\"demo\\") { version } }"}';
  const letGo = { compiled: {} } as ReadPlan;
  const first = reads.remember({ text: text, inUrl: false, variables: {}, plan: letGo, orgId: 'demo' });
  reads.keepLast(key, first);
  expect(reads.lastOf(key, text)).toBe(first);
  letGo.compiled = null; // as read-plans.ts does when it forgets the operation
  expect(reads.lastOf(key, text)).toBeUndefined();
  const again = reads.remember({ text: text, inUrl: false, variables: {}, plan, orgId: 'demo' });
  expect(reads.get(text)).toBe(again);
  expect(first.forgotten).toBe(true);
});

it('counts parsed variables at least as large as V8 holds them', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const shapes: Record<string, (index: number) => unknown> = {
    'empty objects': (index) => ({ index, objects: Array.from({ length: 1_000 }, () => ({})) }),
    numbers: (index) => ({ index, numbers: Array.from({ length: 2_000 }, (_, n) => n * 0.5) }),
    'nested arrays': (index) => ({ index, arrays: Array.from({ length: 1_000 }, () => [[]]) }),
    'many properties': (index) => Object.fromEntries(Array.from({ length: 500 }, (_, n) => [`p${n}`, index])),
    'long string': (index) => ({ index, pad: 'x'.repeat(6_000) }),
  };
  for (const [shape, variables] of Object.entries(shapes)) {
    const texts = Array.from({ length: 200 }, (_, index) => JSON.stringify({ variables: variables(index) }));
    gc();
    const before = process.memoryUsage().heapUsed;
    const parsed = texts.map((text) => JSON.parse(text).variables as Record<string, unknown>);
    gc();
    const measured = (process.memoryUsage().heapUsed - before) / parsed.length;
    const counted = retainedBytes({ text: '', variables: parsed[0]!, orgId: 'demo' }) - 256;
    expect(counted, shape).toBeGreaterThanOrEqual(measured);
  }
});
