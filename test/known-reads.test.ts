// The fast path's memory of request bodies stays under its bound in bytes, forgetting the oldest first.
import { expect, it } from 'vitest';
import type { OrgConfig } from '../src/config/model.ts';
import type { ReadPlan } from '../src/graphql/read-plans.ts';
import { KnownReads } from '../src/http/known-reads.ts';

const plan = {} as ReadPlan;

it('forgets the oldest bodies once their texts and answers pass the bound', () => {
  const reads = new KnownReads(10_000);
  const body = (index: number) => `{"query":"{ orgConfig(orgId: \\"demo\\") { version } }","variables":{"pad":"${String(index).padStart(1_000, '0')}"}}`;
  for (let index = 0; index < 4; index++) reads.remember(body(index), { variables: {}, plan, orgId: 'demo' });
  expect([0, 1, 2, 3].map((index) => reads.get(body(index)) !== undefined)).toEqual([true, true, true, true]);
  // Each text is about 2 KB in memory: a fifth and a large answer push the first two out.
  reads.remember(body(4), { variables: {}, plan, orgId: 'demo' });
  const config = {} as OrgConfig;
  reads.keepAnswer(body(4), { slot: { current: config }, config, role: 'admin', payload: Buffer.alloc(1_500) });
  expect([0, 1, 2, 3, 4].map((index) => reads.get(body(index)) !== undefined)).toEqual([false, false, true, true, true]);
  expect(reads.get(body(4))?.answer?.payload.byteLength).toBe(1_500);
});
