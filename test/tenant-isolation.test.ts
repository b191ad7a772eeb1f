// One tenant cannot stall the others: while clients of one organisation pull the largest history it
// can make, another organisation's reads keep their latency (history pages are bounded in bytes).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from './helpers.ts';
import { writeLargeRevisions } from './support/large-revisions.ts';

let gw: TestGateway;
beforeEach(async () => {
  gw = await createTestGateway();
});
afterEach(async () => {
  await gw.close();
});

/** Latencies (ms, sorted) of `count` reads of the other organisation's configuration, one after another. */
async function otherOrgReads(count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const response = await fetch(`${gw.baseUrl}/api/orgs/other/config`, {
      headers: { 'x-api-key': gw.keys.otherAdmin },
    });
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    expect(response.status).toBe(200);
  }
  return latencies.sort((a, b) => a - b);
}

const summary = (sorted: number[]) => ({
  p50: sorted[Math.floor(sorted.length / 2)]!,
  p90: sorted[Math.floor(sorted.length * 0.9)]!,
  max: sorted.at(-1)!,
});

/**
 * The other organisation's read latencies while four clients, on a thread of their own (as clients
 * elsewhere would be: their reading and decompressing is not the gateway's work), loop on `path`
 * with demo's admin key; with the gateway's event loop delay meanwhile and the pages they got.
 */
async function readsWhilePulling(path: string) {
  const pullers = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     let pulling = true;
     let pages = 0;
     parentPort.on('message', () => { pulling = false; });
     const pull = async () => {
       while (pulling) {
         const response = await fetch(workerData.url, { headers: { 'x-api-key': workerData.key } });
         if (response.status !== 200) throw new Error(workerData.url + ' answered ' + response.status);
         await response.arrayBuffer();
         pages++;
       }
     };
     Promise.all([pull(), pull(), pull(), pull()]).then(() => parentPort.postMessage(pages));`,
    { eval: true, workerData: { url: `${gw.baseUrl}${path}`, key: gw.keys.admin } },
  );
  const pulled = new Promise<number>((resolve, reject) => {
    pullers.once('message', resolve);
    pullers.once('error', reject);
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const reads = summary(await otherOrgReads(150));
  loop.disable();
  pullers.postMessage('stop');
  const pages = await pulled;
  await pullers.terminate();
  return { ...reads, pages, loopMax: loop.max / 1e6, loopP99: loop.percentile(99) / 1e6 };
}

const shown = (name: string, r: Awaited<ReturnType<typeof readsWhilePulling>>) =>
  `${name} (${r.pages} pages): p50 ${r.p50.toFixed(1)} p90 ${r.p90.toFixed(1)} max ${r.max.toFixed(1)}, event loop delay p99 ${r.loopP99.toFixed(1)} max ${r.loopMax.toFixed(1)}`;

describe('one tenant pulling its largest history', () => {
  it("leaves another organisation's reads their latency", async () => {
    // 100 revisions of about 100 KB each as stored: before the byte bound, one page of 100 was ~7 MB of JSON.
    await writeLargeRevisions(gw.service, 'demo', 100);
    await otherOrgReads(20); // warm up
    const alone = summary(await otherOrgReads(150));
    // The same four clients reading demo's configuration (a few KB): what the machine's load and the
    // clients' thread alone do to the other organisation's reads, against which the history is judged.
    const control = await readsWhilePulling('/api/orgs/demo/config');
    const history = await readsWhilePulling('/api/orgs/demo/config/history?limit=100');
    console.log(
      `other org's reads (ms): alone p50 ${alone.p50.toFixed(1)} max ${alone.max.toFixed(1)}; ${shown('while 4 clients read a config', control)}; ${shown('while they pulled the history', history)}`,
    );
    expect(history.pages).toBeGreaterThan(20);
    // Generous for a busy 2-core machine, whose scheduler alone delays a thread by a few hundred ms
    // at times (so the maximum is printed, not asserted); before the byte bound: p50 461 ms, max 1.8 s.
    expect(history.p50).toBeLessThan(control.p50 * 3 + 20);
    expect(history.p90).toBeLessThan(control.p90 * 3 + 250);
  }, 90_000);
});
