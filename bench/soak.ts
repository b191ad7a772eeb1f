// npm run soak -- [--duration 300] [--orgs 200] [--connections 16] [--subscribers 16] [--hold-ms 1000]
//                  [--sample-every 15] [--bound-mib 512] [--from bundle|source]
//
// A soak anyone can rerun: for --duration seconds, a gateway in production mode (a child process,
// NODE_ENV=production, started with --expose-gc and bench/soak-probe.mjs, which answers its memory
// after a forced GC over the IPC channel this script opens) takes mixed traffic:
//   - reads through both doors (REST, GraphQL) over --orgs organisations and their keys, GraphQL
//     operations of many shapes and, one in ten, a text never sent before (a new operation name);
//   - writes (REST PUT and the GraphQL mutation) of demo's colour;
//   - invalid requests (bad JSON, an invalid patch, an unknown organisation, a query that does not
//     parse, a wrong method, an unknown key);
//   - --subscribers loops of connect, hold (up to --hold-ms), disconnect, alternating SSE and
//     WebSocket, each subscribing from the last acknowledged version and checking that versions arrive
//     in order, without a gap, up to the last write acknowledged before it leaves.
// Every --sample-every seconds the gateway's memory is read after a forced GC. The verdict fails on
// any 5xx answer, any lost or out-of-order event, resident memory over --bound-mib (the README's
// bound under sustained load: V8 keeps more heap committed between collections than at rest), or
// a heap still growing at the end (no plateau: the last third of the samples above the middle third
// by more than 5 % + 4 MiB). Exit code 1 when it fails.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { memoryOf, startProbedGateway, stopProbedGateway } from './probed-gateway.ts';
import { option } from './script-options.ts';
import { buildOrgsDatabase, type Keyed } from './variant-gateway.ts';

const durationS = Number(option('duration', '300'));
const orgCount = Number(option('orgs', '200'));
const connections = Number(option('connections', '16'));
const subscriberLoops = Number(option('subscribers', '16'));
const holdMs = Number(option('hold-ms', '1000'));
const sampleEveryS = Number(option('sample-every', '15'));
const boundMiB = Number(option('bound-mib', '512'));
/** The gateway as production runs it (the bundle, built first: npm run build; npm run start:built), or through tsx. */
const from = option('from', 'bundle');
if (from !== 'bundle' && from !== 'source') throw new Error(`--from is bundle or source, not ${from}`);
const MiB = 1024 * 1024;
const root = new URL('..', import.meta.url).pathname;

interface Memory {
  atS: number;
  heapUsed: number;
  /** The heap V8 holds, used or not: what it grew to under load and keeps for the next. */
  heapTotal: number;
  rss: number;
}

const counts = {
  requests: 0,
  byStatus: new Map<number, number>(),
  byKind: new Map<string, number>(),
  subscriberCycles: { sse: 0, ws: 0 },
  events: 0,
  lost: 0,
  outOfOrder: 0,
  failures: [] as string[],
};

function count(kind: string, status: number): void {
  counts.requests++;
  counts.byStatus.set(status, (counts.byStatus.get(status) ?? 0) + 1);
  counts.byKind.set(kind, (counts.byKind.get(kind) ?? 0) + 1);
  if (status >= 500 && counts.failures.length < 20) counts.failures.push(`${kind} answered ${status}`);
}

function note(failure: string): void {
  if (counts.failures.length < 20) counts.failures.push(failure);
}

/** The newest version of demo a write was acknowledged with (its ETag or its result). */
const acknowledged = { version: 1 };
const acknowledge = (version: number) => {
  if (version > acknowledged.version) acknowledged.version = version;
};

const random = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;

const selections = [
  'version',
  'version branding { color }',
  'branding { name color }',
  'website { baseUrl allowedOrigins }',
  'sla { openedConversations { range { lowerBound upperBound } } }',
  'version privacy { agreementEnabled forgetMeEnabled }',
  'assignment { autoAssignedLimit }',
  'version updatedAt',
];

let fresh = 0;

function graphqlRead(org: Keyed): { body: string; key: string } {
  const selection = pick(selections);
  // One in ten is a text the gateway has never seen: a new operation name.
  const name = random(10) === 0 ? `Soak${fresh++}` : `Read${random(8)}`;
  return {
    key: org.key,
    body: JSON.stringify({
      query: `query ${name}($orgId: ID!) { orgConfig(orgId: $orgId) { ${selection} } }`,
      variables: { orgId: org.orgId },
    }),
  };
}

/** Keep-alive connections for the request loops (node:http: far less client work per request than fetch). */
const agent = new Agent({ keepAlive: true, maxSockets: connections });

function send(
  baseUrl: string,
  kind: string,
  path: string,
  init: { method?: string; key?: string; body?: string },
): Promise<{ status: number; etag: string | undefined; text: string }> {
  const headers: Record<string, string> = {};
  if (init.key) headers['x-api-key'] = init.key;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${baseUrl}${path}`,
      { method: init.method ?? 'GET', headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          count(kind, status);
          resolve({ status, etag: response.headers.etag, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
}

let writes = 0;

/** One request of the mix. */
async function oneRequest(baseUrl: string, orgs: Keyed[], demoKey: string): Promise<void> {
  const roll = random(100);
  const org = pick(orgs);
  if (roll < 35) {
    await send(baseUrl, 'rest read', `/api/orgs/${org.orgId}/config`, { key: org.key });
  } else if (roll < 75) {
    const { body, key } = graphqlRead(org);
    await send(baseUrl, 'graphql read', '/graphql', { method: 'POST', key, body });
  } else if (roll < 80) {
    const color = `#${(++writes % 0xffffff).toString(16).padStart(6, '0')}`;
    const answer = await send(baseUrl, 'rest write', '/api/orgs/demo/config', {
      method: 'PUT',
      key: demoKey,
      body: JSON.stringify({ color }),
    });
    const version = /"v(\d+)"/.exec(answer.etag ?? '')?.[1];
    if (answer.status === 200 && version) acknowledge(Number(version));
  } else if (roll < 85) {
    const color = `#${(++writes % 0xffffff).toString(16).padStart(6, '0')}`;
    const answer = await send(baseUrl, 'graphql write', '/graphql', {
      method: 'POST',
      key: demoKey,
      body: JSON.stringify({
        query: `mutation ($color: String!) { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: $color } } }) { __typename ... on UpdateOrgConfigSuccess { config { version } } } }`,
        variables: { color },
      }),
    });
    const version = /"version":(\d+)/.exec(answer.text)?.[1];
    if (answer.status === 200 && version) acknowledge(Number(version));
  } else {
    const invalid = random(6);
    if (invalid === 0)
      await send(baseUrl, 'invalid', '/graphql', { method: 'POST', key: org.key, body: '{"query": ' });
    else if (invalid === 1)
      await send(baseUrl, 'invalid', '/api/orgs/demo/config', {
        method: 'PUT',
        key: demoKey,
        body: JSON.stringify({ color: 'not a colour', autoAssignedLimit: -1 }),
      });
    else if (invalid === 2)
      await send(baseUrl, 'invalid', `/api/orgs/nobody-${random(1000)}/config`, { key: org.key });
    else if (invalid === 3)
      await send(baseUrl, 'invalid', '/graphql', {
        method: 'POST',
        key: org.key,
        body: JSON.stringify({ query: `query { orgConfig(orgId: "${org.orgId}") { version ` }),
      });
    else if (invalid === 4)
      await send(baseUrl, 'invalid', `/api/orgs/${org.orgId}/config`, { method: 'DELETE', key: org.key });
    else await send(baseUrl, 'invalid', `/api/orgs/${org.orgId}/config`, { key: `unknown-${random(1e9)}` });
  }
}

const CHANGED = `subscription ($since: Int) { orgConfigChanged(orgId: "demo", sinceVersion: $since) { version } }`;

/** Follows one subscriber's versions: each must be the one after the last. */
class VersionCheck {
  last: number;
  constructor(since: number) {
    this.last = since;
  }
  take(version: number): void {
    counts.events++;
    if (version !== this.last + 1) {
      counts.outOfOrder++;
      note(`a subscriber at version ${this.last} received ${version}`);
    }
    this.last = Math.max(this.last, version);
  }
}

/** Waits until the check has seen `version`, or `timeoutMs` passes; false if it has not. */
async function seen(check: VersionCheck, version: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (check.last < version) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

async function sseCycle(baseUrl: string, key: string): Promise<void> {
  const since = acknowledged.version;
  const check = new VersionCheck(since);
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key },
    body: JSON.stringify({ query: CHANGED, variables: { since } }),
    signal: controller.signal,
  });
  count('sse subscribe', response.status);
  if (response.status !== 200) {
    controller.abort();
    return;
  }
  const reading = (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      buffer += chunk.value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .find((line) => line.startsWith('data:'))
          ?.slice(5);
        const version = data ? JSON.parse(data)?.data?.orgConfigChanged?.version : undefined;
        if (typeof version === 'number') check.take(version);
      }
    }
  })().catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, random(holdMs)));
  const expected = acknowledged.version;
  if (!(await seen(check, expected, 10_000))) {
    counts.lost += expected - check.last;
    note(`an SSE subscriber from version ${since} stopped at ${check.last}, not ${expected}`);
  }
  controller.abort();
  await reading;
  counts.subscriberCycles.sse++;
}

async function wsCycle(baseUrl: string, key: string): Promise<void> {
  const since = acknowledged.version;
  const check = new VersionCheck(since);
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', (error) => note(`a WebSocket failed: ${error.message}`));
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'connection_ack')
      socket.send(
        JSON.stringify({ id: '1', type: 'subscribe', payload: { query: CHANGED, variables: { since } } }),
      );
    else if (message.type === 'next') {
      const version = message.payload?.data?.orgConfigChanged?.version;
      if (typeof version === 'number') check.take(version);
      else note(`a WebSocket subscriber received ${JSON.stringify(message.payload).slice(0, 200)}`);
    } else if (message.type === 'error')
      note(`a WebSocket subscribe failed: ${JSON.stringify(message.payload)}`);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  }).catch(() => undefined);
  if (socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } }));
  await new Promise((resolve) => setTimeout(resolve, random(holdMs)));
  const expected = acknowledged.version;
  if (!(await seen(check, expected, 10_000))) {
    counts.lost += expected - check.last;
    note(`a WebSocket subscriber from version ${since} stopped at ${check.last}, not ${expected}`);
  }
  socket.close();
  await closed;
  counts.subscriberCycles.ws++;
}

function plateau(samples: Memory[]): { judged: boolean; ok: boolean; detail: string } {
  if (samples.length < 6) return { judged: false, ok: true, detail: 'not judged: fewer than 6 samples' };
  const third = Math.floor(samples.length / 3);
  const middle = Math.max(...samples.slice(third, 2 * third).map((sample) => sample.heapUsed));
  const last = Math.max(...samples.slice(2 * third).map((sample) => sample.heapUsed));
  const allowed = middle * 1.05 + 4 * MiB;
  return {
    judged: true,
    ok: last <= allowed,
    detail: `heap after GC, largest of the middle third ${(middle / MiB).toFixed(1)} MiB, of the last third ${(last / MiB).toFixed(1)} MiB (allowed ${(allowed / MiB).toFixed(1)})`,
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'org-config-soak-'));
  let gateway: ChildProcess | undefined;
  let bundle: string | undefined;
  try {
    const databasePath = join(work, 'soak.db');
    const { demoKey, orgs } = await buildOrgsDatabase(databasePath, orgCount);
    // A bundle of its own inside the package (where it finds its migrations), removed at the end.
    if (from === 'bundle') {
      bundle = join(root, 'dist', `soak-${process.pid}.js`);
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '--outfile', bundle], {
        cwd: root,
        stdio: 'inherit',
      });
    }
    const started = await startProbedGateway(
      databasePath,
      { RATE_LIMIT_FAILED_AUTH_PER_MINUTE: '1000000' },
      bundle,
    );
    gateway = started.child;
    const baseUrl = started.url;
    console.log(
      `soak: ${durationS} s against ${baseUrl} (production, from the ${from}, ${orgCount} organisations), ${connections} request loops, ${subscriberLoops} subscriber loops`,
    );
    const startedAt = Date.now();
    const endAt = startedAt + durationS * 1000;
    const samples: Memory[] = [];
    /** The gateway's memory after a forced GC, now. */
    const sampleNow = async (): Promise<Memory> => {
      const { heapUsed, heapTotal, rss } = await memoryOf(started.child);
      return { atS: (Date.now() - startedAt) / 1000, heapUsed, heapTotal, rss };
    };

    const requestLoop = async () => {
      while (Date.now() < endAt) {
        await oneRequest(baseUrl, orgs, demoKey).catch((error: Error) => {
          count('failed to send', 0);
          note(`a request failed: ${error.message}`);
        });
      }
    };
    const subscriberLoop = async (index: number) => {
      let cycle = index;
      while (Date.now() < endAt) {
        await (cycle++ % 2 === 0 ? sseCycle(baseUrl, demoKey) : wsCycle(baseUrl, demoKey)).catch(
          (error: Error) => note(`a subscriber failed: ${error.message}`),
        );
      }
    };
    const sampling = (async () => {
      while (Date.now() < endAt) {
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(sampleEveryS * 1000, endAt - Date.now())),
        );
        const sample = await sampleNow();
        samples.push(sample);
        console.log(
          `  ${sample.atS.toFixed(0).padStart(6)} s  ${String(counts.requests).padStart(9)} requests  ${String(counts.subscriberCycles.sse + counts.subscriberCycles.ws).padStart(7)} subscriber cycles  heap ${(sample.heapUsed / MiB).toFixed(1)} of ${(sample.heapTotal / MiB).toFixed(1)} MiB  rss ${(sample.rss / MiB).toFixed(1)} MiB`,
        );
      }
    })();
    await Promise.all([
      ...Array.from({ length: connections }, requestLoop),
      ...Array.from({ length: subscriberLoops }, (_, index) => subscriberLoop(index)),
      sampling,
    ]);
    samples.push(await sampleNow());

    const seconds = (Date.now() - startedAt) / 1000;
    const serverErrors = [...counts.byStatus].filter(([status]) => status >= 500 || status === 0);
    const fiveHundreds = serverErrors.reduce((sum, [, n]) => sum + n, 0);
    const maxRss = Math.max(...samples.map((sample) => sample.rss));
    const flat = plateau(samples);
    const reasons = [
      ...(fiveHundreds > 0 ? [`${fiveHundreds} answers 5xx or failed`] : []),
      ...(counts.lost > 0 ? [`${counts.lost} events lost`] : []),
      ...(counts.outOfOrder > 0 ? [`${counts.outOfOrder} events out of order`] : []),
      ...(maxRss > boundMiB * MiB
        ? [`resident memory ${(maxRss / MiB).toFixed(1)} MiB over ${boundMiB} MiB`]
        : []),
      ...(flat.ok ? [] : [`no plateau: ${flat.detail}`]),
    ];
    const statuses = [...counts.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
    const kinds = [...counts.byKind].map(([kind, n]) => `${kind}: ${n}`);
    console.log(`
summary after ${seconds.toFixed(0)} s
  requests            ${counts.requests} (${(counts.requests / seconds).toFixed(0)}/s); ${kinds.join(', ')}
  statuses            ${statuses.join(', ')}
  subscriber cycles   ${counts.subscriberCycles.sse + counts.subscriberCycles.ws} (SSE ${counts.subscriberCycles.sse}, WebSocket ${counts.subscriberCycles.ws}); events ${counts.events}, lost ${counts.lost}, out of order ${counts.outOfOrder}; last version ${acknowledged.version}
  memory samples      ${samples.length}, after forced GC: heap ${samples.map((sample) => (sample.heapUsed / MiB).toFixed(0)).join(' ')} MiB
                      resident largest ${(maxRss / MiB).toFixed(1)} MiB (bound ${boundMiB} MiB)
  plateau             ${flat.detail}${counts.failures.length ? `\n  first failures      ${counts.failures.join('\n                      ')}` : ''}
verdict: ${reasons.length === 0 ? 'PASS' : `FAIL (${reasons.join('; ')})`}`);
    if (reasons.length > 0) process.exitCode = 1;
    agent.destroy();
  } finally {
    if (gateway) await stopProbedGateway(gateway);
    rmSync(work, { recursive: true, force: true });
    if (bundle) for (const file of [bundle, `${bundle}.map`]) rmSync(file, { force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
