// The fan-out scenarios: thousands of subscribers of one organisation, changes, and when each had each.
// Used by bench/run.ts (S) and bench/profile-fanout.ts.
import type { ChildProcess } from 'node:child_process';
import { Agent, type ClientRequest, request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { cpuMs, rss } from './process-stats.ts';

/** A gateway (or S0) being measured: where it listens and its process, for its CPU and memory. */
export interface FanOutServer {
  url: string;
  child: ChildProcess;
}

export interface FanOutResult {
  name: string;
  subscribers: number;
  p50: number;
  p99: number;
  max: number;
  bytesPerSubscriber: number;
  /** CPU time the gateway spent from the commit until the last subscriber had it (less noisy than wall time on a busy machine). */
  serverCpuMs: number;
  /** The same size and door on S0, the bare server, in this run. */
  ceiling?: FanOutResult;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** When each of `count` subscribers received one change, from the moment it was sent. */
class Arrivals {
  private readonly times: number[] = [];
  private readonly startedAt = performance.now();
  private resolveAll!: () => void;
  readonly all = new Promise<void>((resolve) => (this.resolveAll = resolve));

  constructor(private readonly count: number) {}

  record(): void {
    this.times.push(performance.now() - this.startedAt);
    if (this.times.length === this.count) this.resolveAll();
  }

  sorted(): number[] {
    return [...this.times].sort((a, b) => a - b);
  }
}

/** The subscribers' events go to the arrivals of the change under way. */
interface ArrivalsOfChange {
  current: Arrivals | null;
}

export interface FanOutOptions {
  /** Changes committed one after another, each once every subscriber had the one before; the median one (by p99) is reported. */
  changes?: number;
  /** An idle stretch before and after the changes, so that a CPU profile shows the fan-out apart (bench/cpu-profile-summary.ts --segments). */
  quietMs?: number;
}

const quiet = (ms: number | undefined) =>
  ms ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined;

/**
 * Commits changes one at a time with the subscribers in place, waits each time until all have it,
 * and reports the times of the median change: one change alone is at the mercy of a busy moment.
 */
async function commitAndTime(
  name: string,
  gateway: FanOutServer,
  key: string,
  count: number,
  version: { current: number },
  arrivals: ArrivalsOfChange,
  memoryBefore: number,
  close: () => void,
  options: FanOutOptions,
): Promise<FanOutResult> {
  await quiet(options.quietMs);
  const memoryAfter = rss(gateway.child);
  const rows: FanOutResult[] = [];
  for (let change = 0; change < (options.changes ?? 1); change++) {
    const cpuBefore = cpuMs(gateway.child);
    const current = (arrivals.current = new Arrivals(count));
    const response = await fetch(`${gateway.url}/api/orgs/demo/config`, {
      method: 'PUT',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ color: version.current % 2 === 0 ? '#000001' : '#000002' }),
    });
    await response.arrayBuffer();
    version.current += 1;
    await current.all;
    const serverCpuMs = cpuMs(gateway.child) - cpuBefore;
    const sorted = current.sorted();
    rows.push({
      name,
      subscribers: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1)!,
      bytesPerSubscriber: (memoryAfter - memoryBefore) / count,
      serverCpuMs,
    });
  }
  await quiet(options.quietMs);
  close();
  return [...rows].sort((a, b) => a.p99 - b.p99)[Math.floor(rows.length / 2)]!;
}

/** Runs `open` for 0..count-1, a few hundred at a time: thousands of simultaneous connects overflow the accept queue. */
async function inBatches(count: number, open: (index: number) => Promise<void>): Promise<void> {
  const batch = 250;
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, offset) => open(start + offset)),
    );
  }
}

/**
 * Opens `count` SSE subscriptions, commits changes, and times their arrival at each. The
 * subscribers are plain node:http requests: the load generator shares the cores with the server,
 * and fetch's web streams would cost it several times more per event.
 */
export async function sseFanOut(
  gateway: FanOutServer,
  key: string,
  count: number,
  version: { current: number },
  options: FanOutOptions = {},
): Promise<FanOutResult> {
  const before = rss(gateway.child);
  const arrivals: ArrivalsOfChange = { current: null };
  const requests: ClientRequest[] = [];
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const body = JSON.stringify({
    query:
      'subscription ($since: Int) { orgConfigChanged(orgId: "demo", sinceVersion: $since) { version config { branding { color } } } }',
    variables: { since: version.current },
  });
  const openOne = () =>
    new Promise<void>((subscribed, failed) => {
      const request = httpRequest(
        `${gateway.url}/graphql`,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key },
        },
        (response) => {
          if (response.statusCode !== 200)
            failed(new Error(`SSE subscription answered ${response.statusCode}`));
          let opened = false;
          response.on('data', (chunk: Buffer) => {
            // The opening comment: the subscription is in place.
            if (!opened) {
              opened = true;
              subscribed();
            } else if (chunk.includes('event: next')) {
              arrivals.current?.record();
            }
          });
          response.on('error', () => undefined);
        },
      );
      requests.push(request);
      request.on('error', failed);
      request.end(body);
    });
  await inBatches(count, openOne);
  return commitAndTime(
    `S SSE ${count}`,
    gateway,
    key,
    count,
    version,
    arrivals,
    before,
    () => {
      for (const request of requests) request.destroy();
    },
    options,
  );
}

/** The same over WebSocket (graphql-transport-ws), one socket per subscriber. */
export async function wsFanOut(
  gateway: FanOutServer,
  key: string,
  count: number,
  version: { current: number },
  options: FanOutOptions = {},
): Promise<FanOutResult> {
  const before = rss(gateway.child);
  const arrivals: ArrivalsOfChange = { current: null };
  const sockets: WebSocket[] = [];
  const query =
    'subscription ($since: Int) { orgConfigChanged(orgId: "demo", sinceVersion: $since) { version config { branding { color } } } }';
  await inBatches(
    count,
    (index) =>
      new Promise<void>((subscribed, failed) => {
        const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        sockets.push(socket);
        socket.once('error', failed);
        socket.on('open', () =>
          socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } })),
        );
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string };
          if (message.type === 'connection_ack') {
            socket.send(
              JSON.stringify({
                id: String(index),
                type: 'subscribe',
                payload: { query, variables: { since: version.current } },
              }),
            );
            // graphql-ws registers the subscription before it reads the next message: a ping round trip proves it.
            socket.send(JSON.stringify({ type: 'ping' }));
          } else if (message.type === 'pong') subscribed();
          else if (message.type === 'next') arrivals.current?.record();
        });
      }),
  );
  return commitAndTime(
    `S WebSocket ${count}`,
    gateway,
    key,
    count,
    version,
    arrivals,
    before,
    () => {
      for (const socket of sockets) socket.terminate();
    },
    options,
  );
}
