// One tenant cannot stall the others: while clients of one organisation pull the largest history it
// can make, another organisation's reads keep their latency (history pages are bounded in bytes).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestGateway, listen, type TestGateway } from './helpers.ts';
import { writeLargeRevisions } from './support/large-revisions.ts';

let gw: TestGateway;
let server: { baseUrl: string; close: () => Promise<void> };
beforeEach(async () => {
  gw = await createTestGateway();
  server = await listen(gw.gateway);
});
afterEach(async () => {
  await server.close();
  await gw.close();
});

/** Latencies (ms, sorted) of `count` reads of the other organisation's configuration, one after another. */
async function otherOrgReads(count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const response = await fetch(`${server.baseUrl}/api/orgs/other/config`, {
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

describe('one tenant pulling its largest history', () => {
  it("leaves another organisation's reads their latency", async () => {
    // 100 revisions of about 100 KB each as stored: before the byte bound, one page of 100 was ~7 MB of JSON.
    await writeLargeRevisions(gw.service, 'demo', 100);
    await otherOrgReads(20); // warm up
    const alone = summary(await otherOrgReads(150));

    // The pulling clients run on a thread of their own, as clients elsewhere would: their own work
    // (reading, decompressing) is not the gateway's.
    const pullers = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       let pulling = true;
       let pages = 0;
       parentPort.on('message', () => { pulling = false; });
       const pull = async () => {
         while (pulling) {
           const response = await fetch(workerData.url, { headers: { 'x-api-key': workerData.key } });
           if (response.status !== 200) throw new Error('history answered ' + response.status);
           await response.arrayBuffer();
           pages++;
         }
       };
       Promise.all([pull(), pull(), pull(), pull()]).then(() => parentPort.postMessage(pages));`,
      {
        eval: true,
        workerData: { url: `${server.baseUrl}/api/orgs/demo/config/history?limit=100`, key: gw.keys.admin },
      },
    );
    const pulled = new Promise<number>((resolve, reject) => {
      pullers.once('message', resolve);
      pullers.once('error', reject);
    });
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const loaded = summary(await otherOrgReads(150));
    loop.disable();
    pullers.postMessage('stop');
    const pages = await pulled;
    await pullers.terminate();
    console.log(
      `other org's reads (ms): alone p50 ${alone.p50.toFixed(1)} max ${alone.max.toFixed(1)}; while 4 clients pulled ${pages} history pages: p50 ${loaded.p50.toFixed(1)} p90 ${loaded.p90.toFixed(1)} max ${loaded.max.toFixed(1)}; event loop delay max ${(loop.max / 1e6).toFixed(1)} p99 ${(loop.percentile(99) / 1e6).toFixed(1)}`,
    );
    expect(pages).toBeGreaterThan(20);
    // Generous for a busy 2-core machine (its scheduler alone delays a thread by a few hundred ms at
    // times, so the maximum is printed, not asserted); before the byte bound: p50 461 ms, max 1.8 s.
    expect(loaded.p50).toBeLessThan(alone.p50 * 3 + 20);
    expect(loaded.p90).toBeLessThan(Math.max(alone.p90 * 3, 400));
  }, 60_000);
});
