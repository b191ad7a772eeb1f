// npm run bench:webhooks: one change delivered to 1,000 endpoints, and a burst of 1,000 changes to one endpoint,
// by the delivery worker on a SQLite file to a receiver on 127.0.0.1: deliveries per second and time to the last.
//
// node --import tsx bench/webhooks.ts [--endpoints 1000] [--changes 1000] [--concurrency 32] [--database URL]
// --database postgres://... runs it on PostgreSQL (a schema of its own is expected in the URL's search_path).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operator } from '../src/auth/actor.ts';
import { openBackend } from '../src/backend.ts';
import { ConfigService } from '../src/config/service.ts';
import { WebhookService } from '../src/webhooks/service.ts';
import { webhookStoreOf } from '../src/webhooks/store-of.ts';
import { WebhookWorker } from '../src/webhooks/worker.ts';
import { option } from './script-options.ts';

const endpoints = Number(option('endpoints', '1000'));
const changes = Number(option('changes', '1000'));
const concurrency = Number(option('concurrency', '32'));
const dir = mkdtempSync(join(tmpdir(), 'org-config-webhooks-bench-'));
const databaseUrl = option('database', `file:${join(dir, 'bench.db')}`);
const local = { allowHttp: true, allowPrivateAddresses: true };

/** A receiver that answers 204 at once and counts what each path got. */
async function receiver() {
  const counts = new Map<string, number>();
  let total = 0;
  let waiting: { target: number; resolve: () => void } | null = null;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      counts.set(request.url!, (counts.get(request.url!) ?? 0) + 1);
      total += 1;
      response.writeHead(204).end();
      if (waiting && total >= waiting.target) {
        waiting.resolve();
        waiting = null;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    /** Resolves once `more` further requests have arrived. */
    after(more: number): Promise<void> {
      const target = total + more;
      return total >= target ? Promise.resolve() : new Promise((resolve) => (waiting = { target, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const backend = await openBackend(
  { databaseUrl },
  { onError: (error) => console.error(error), pollIntervalMs: 100 },
);
const store = backend.store;
const webhookStore = webhookStoreOf(store)!;
const config = new ConfigService(store, backend.events);
const webhooks = new WebhookService(webhookStore, config, store, { policy: local, maxPerOrg: endpoints });
const sink = await receiver();
await config.createOrg(operator, 'fanout');
await config.createOrg(operator, 'burst');
for (let index = 0; index < endpoints; index++)
  await webhooks.create(operator, { orgId: 'fanout', url: `${sink.url}/fanout/${index}` });
await webhooks.create(operator, { orgId: 'burst', url: `${sink.url}/burst` });

const worker = new WebhookWorker(webhookStore, store, {
  policy: local,
  concurrency,
  pollIntervalMs: 100,
}).start(backend.events);

const color = (index: number) => `#${(0x100000 + index).toString(16)}`;

/** CPU milliseconds of this process (worker, store and receiver together) since `since`. */
const cpuMsSince = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

// One change, every endpoint of its organisation.
let cpu = process.cpuUsage();
let started = performance.now();
const fanned = sink.after(endpoints);
await config.update(operator, { orgId: 'fanout', patch: { branding: { color: color(1) } }, door: 'cli' });
await fanned;
const fanoutMs = performance.now() - started;
const fanoutCpuMs = cpuMsSince(cpu);

// A burst of changes to one endpoint, each sent after the one before was answered.
cpu = process.cpuUsage();
started = performance.now();
const burst = sink.after(changes);
for (let index = 0; index < changes; index++)
  await config.update(operator, {
    orgId: 'burst',
    patch: { branding: { color: color(index) } },
    door: 'cli',
  });
const writtenMs = performance.now() - started;
await burst;
const burstMs = performance.now() - started;
const burstCpuMs = cpuMsSince(cpu);

await worker.close();
await sink.close();
await backend.close();
if (databaseUrl.startsWith('file:')) rmSync(dir, { recursive: true, force: true });

const missing = [...Array(endpoints).keys()].filter((index) => sink.counts.get(`/fanout/${index}`) !== 1);
if (missing.length > 0 || sink.counts.get('/burst') !== changes) {
  console.error(
    `incomplete: ${missing.length} endpoints without exactly one delivery; burst got ${sink.counts.get('/burst')}`,
  );
  process.exit(1);
}
const database = databaseUrl.startsWith('file:') ? 'SQLite' : 'PostgreSQL';
console.log(
  `webhook delivery on ${database}, worker concurrency ${concurrency}, receiver on 127.0.0.1 (http, 204):`,
);
console.log('| scenario | deliveries | time to the last | deliveries/s | CPU ms per delivery |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(
  `| one change to ${endpoints} endpoints | ${endpoints} | ${fanoutMs.toFixed(0)} ms | ${((endpoints / fanoutMs) * 1000).toFixed(0)} | ${(fanoutCpuMs / endpoints).toFixed(2)} |`,
);
console.log(
  `| ${changes} changes to one endpoint (written in ${writtenMs.toFixed(0)} ms) | ${changes} | ${burstMs.toFixed(0)} ms | ${((changes / burstMs) * 1000).toFixed(0)} | ${(burstCpuMs / changes).toFixed(2)} |`,
);
console.log(
  `(CPU: this one process, delivering and receiving, the writes of the burst included; ${os.loadavg()[0]!.toFixed(1)} load average on ${os.cpus().length} cores)`,
);
