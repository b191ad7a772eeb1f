// The fast path's memory of request bodies stays under its bound in bytes, forgetting the oldest first,
// and finds the last read of a key by the key.
import { expect, it } from 'vitest';
import type { OrgConfig } from '../src/config/model.ts';
import { KnownReads } from '../src/graphql/known-reads.ts';
import type { ReadPlan } from '../src/graphql/read-plans.ts';
import type { ApiKeyRecord } from '../src/store/config-store.ts';

const plan = {} as ReadPlan;

it('forgets the oldest bodies once their texts and answers pass the bound', () => {
  const reads = new KnownReads(10_000);
  const body = (index: number) =>
    `{"query":"{ orgConfig(orgId: \\"demo\\") { version } }","variables":{"pad":"${String(index).padStart(1_000, '0')}"}}`;
  for (let index = 0; index < 4; index++)
    reads.remember({ body: body(index), variables: {}, plan, orgId: 'demo' });
  expect([0, 1, 2, 3].map((index) => reads.get(body(index)) !== undefined)).toEqual([true, true, true, true]);
  // Each text is about 2 KB in memory: a fifth and a large answer push the first two out.
  const fifth = reads.remember({ body: body(4), variables: {}, plan, orgId: 'demo' });
  const config = {} as OrgConfig;
  reads.keepAnswer(fifth, { slot: { current: config }, config, role: 'admin', payload: Buffer.alloc(1_500) });
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
  const first = reads.remember({ body: body(600), variables: {}, plan, orgId: 'demo' });
  reads.keepLast(key, first);
  expect(reads.lastOf(key, body(600))).toBe(first);
  expect(reads.lastOf(key, body(601))).toBeUndefined();
  // By the record object the key cache holds: another record (the key read into another object) has no last read.
  expect(reads.lastOf(sameKeyReadAgain, body(600))).toBeUndefined();
  const config = {} as OrgConfig;
  const answer = {
    slot: { current: config },
    config,
    role: 'adviser' as const,
    payload: Buffer.alloc(1_000),
  };
  reads.keepAnswer(first, answer);
  expect(reads.lastOf(key, body(600))?.answer).toBe(answer);
  // A second body of 2.5 KB in memory pushes the first out: it is no longer the key's last read, and keeps no answer.
  reads.remember({ body: body(1_200), variables: {}, plan, orgId: 'demo' });
  expect(reads.get(body(600))).toBeUndefined();
  expect(reads.lastOf(key, body(600))).toBeUndefined();
  expect(first.answer).toBeUndefined();
  // An answer made for it meanwhile (by a request in flight) is not kept, nor counted: the second body stays.
  reads.keepAnswer(first, answer);
  expect(first.answer).toBeUndefined();
  expect(reads.get(body(1_200))).toBeDefined();
});
