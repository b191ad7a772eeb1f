// The fan-out scenarios: thousands of subscribers of one organisation, one change, and when each had it.
// Used by bench/run.ts (S) and bench/profile-fanout.ts.
import type { ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
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

/** When each of `count` subscribers received the change, from the moment it was sent. */
class Arrivals {
  private readonly times: number[] = [];
  private startedAt = 0;
  private resolveAll!: () => void;
  readonly all = new Promise<void>((resolve) => (this.resolveAll = resolve));

  constructor(private readonly count: number) {}

  start(): void {
    this.startedAt = performance.now();
  }

  record(): void {
    this.times.push(performance.now() - this.startedAt);
    if (this.times.length === this.count) this.resolveAll();
  }

  sorted(): number[] {
    return [...this.times].sort((a, b) => a - b);
  }
}

/** Commits one change with the subscribers in place, waits until all have it, and reports the times. */
/** quietMs: an idle stretch before and after the change, so that a CPU profile shows the fan-out apart (bench/cpu-profile-summary.ts --segments). */
export interface FanOutOptions {
  quietMs?: number;
}

const quiet = (ms: number | undefined) => (ms ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

async function commitAndTime(name: string, gateway: FanOutServer, key: string, version: { current: number }, arrivals: Arrivals, memoryBefore: number, close: () => void, options: FanOutOptions): Promise<FanOutResult> {
  await quiet(options.quietMs);
  const memoryAfter = rss(gateway.child);
  const cpuBefore = cpuMs(gateway.child);
  arrivals.start();
  const response = await fetch(`${gateway.url}/api/orgs/demo/config`, {
    method: 'PUT',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ color: version.current % 2 === 0 ? '#000001' : '#000002' }),
  });
  await response.arrayBuffer();
  version.current += 1;
  await arrivals.all;
  const serverCpuMs = cpuMs(gateway.child) - cpuBefore;
  await quiet(options.quietMs);
  close();
  const sorted = arrivals.sorted();
  const subscribers = sorted.length;
  const row = { name, subscribers, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)!, bytesPerSubscriber: (memoryAfter - memoryBefore) / subscribers, serverCpuMs };
  return row;
}

/** Runs `open` for 0..count-1, a few hundred at a time: thousands of simultaneous connects overflow the accept queue. */
async function inBatches(count: number, open: (index: number) => Promise<void>): Promise<void> {
  const batch = 250;
  for (let start = 0; start < count; start += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, offset) => open(start + offset)));
  }
}

/**
 * Opens `count` SSE subscriptions, commits one change, and times its arrival at each. The
 * subscribers are plain node:http requests: the load generator shares the cores with the server,
 * and fetch's web streams would cost it several times more per event.
 */
export async function sseFanOut(gateway: FanOutServer, key: string, count: number, version: { current: number }, options: FanOutOptions = {}): Promise<FanOutResult> {
  const before = rss(gateway.child);
  const arrivals = new Arrivals(count);
  const requests: ClientRequest[] = [];
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const body = JSON.stringify({ query: 'subscription ($since: Int) { orgConfigChanged(orgId: "demo", sinceVersion: $since) { version config { branding { color } } } }', variables: { since: version.current } });
  const openOne = () =>
    new Promise<void>((subscribed, failed) => {
      const request = httpRequest(`${gateway.url}/graphql`, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key } }, (response) => {
        if (response.statusCode !== 200) failed(new Error(`SSE subscription answered ${response.statusCode}`));
        let opened = false;
        let received = false;
        response.on('data', (chunk: Buffer) => {
          // The opening comment: the subscription is in place.
          if (!opened) {
            opened = true;
            subscribed();
          } else if (!received && chunk.includes('event: next')) {
            received = true;
            arrivals.record();
          }
        });
        response.on('error', () => undefined);
      });
      requests.push(request);
      request.on('error', failed);
      request.end(body);
    });
  await inBatches(count, openOne);
  return commitAndTime(`S SSE ${count}`, gateway, key, version, arrivals, before, () => requests.forEach((request) => request.destroy()), options);
}

/** The same over WebSocket (graphql-transport-ws), one socket per subscriber. */
export async function wsFanOut(gateway: FanOutServer, key: string, count: number, version: { current: number }, options: FanOutOptions = {}): Promise<FanOutResult> {
  const before = rss(gateway.child);
  const arrivals = new Arrivals(count);
  const sockets: WebSocket[] = [];
  const query = 'subscription ($since: Int) { orgConfigChanged(orgId: "demo", sinceVersion: $since) { version config { branding { color } } } }';
  await inBatches(count, (index) =>
      new Promise<void>((subscribed, failed) => {
        const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        sockets.push(socket);
        socket.once('error', failed);
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-api-key': key } })));
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string };
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: String(index), type: 'subscribe', payload: { query, variables: { since: version.current } } }));
            // graphql-ws registers the subscription before it reads the next message: a ping round trip proves it.
            socket.send(JSON.stringify({ type: 'ping' }));
          } else if (message.type === 'pong') subscribed();
          else if (message.type === 'next') arrivals.record();
        });
      }),
  );
  return commitAndTime(`S WebSocket ${count}`, gateway, key, version, arrivals, before, () => sockets.forEach((socket) => socket.terminate()), options);
}
