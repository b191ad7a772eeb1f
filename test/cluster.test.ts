// WORKERS=2: real gateway processes (a primary and two workers) on one SQLite file and one port,
// asked over real HTTP on a new connection each time, so that the primary hands them to both workers in turn.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createClient as createWsClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadSettings } from '../src/settings.ts';
import { exited, sseSubscribe, startGatewayProcess, tempDir, until } from './helpers.ts';

const root = new URL('..', import.meta.url).pathname;
const children: ChildProcess[] = [];
const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) dir.remove();
});

interface LogLine {
  msg: string;
  pid: number;
  worker?: number;
  workerPid?: number;
  requestId?: string;
  status?: number;
}

/** Starts the gateway with two workers on a new SQLite file; collects its JSON log lines as they come. */
async function startCluster(env: Record<string, string> = {}) {
  const dir = tempDir();
  dirs.push(dir);
  const started = await startGatewayProcess(
    { WORKERS: '2', LOG_LEVEL: 'info', DATABASE_URL: `file:${join(dir.path, 'cluster.db')}`, ...env },
    children,
  );
  const logs: LogLine[] = started.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
  createInterface({ input: started.child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
  });
  const key = /^ {2}([0-9a-f-]{36})$/m.exec(started.output)?.[1];
  // The primary's log lines may come after its listening line: both workers' must be in.
  const listening = () => logs.filter((line) => line.msg === 'worker listening');
  await until(() => listening().length >= 2);
  const workerPids = listening().map((line) => line.workerPid!);
  return { ...started, key: key!, logs, workerPids };
}

/** A request on a connection of its own (no keep-alive), tagged with a request id to find its log line. */
function onNewConnection(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; etag: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${baseUrl}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, etag: response.headers.etag, body }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** The processes whose log lines answered these request ids, once all of them are logged. */
async function answeredBy(logs: LogLine[], requestIds: string[]): Promise<Set<number>> {
  const answered = () =>
    logs.filter((line) => line.msg === 'request' && requestIds.includes(line.requestId!));
  await until(() => answered().length === requestIds.length);
  return new Set(answered().map((line) => line.pid));
}

const CHANGED =
  'subscription { orgConfigChanged(orgId: "demo", sinceVersion: 1) { version config { branding { color } } } }';

describe('WORKERS=2: two gateway processes on one SQLite file', () => {
  it('prints the demo key once, answers from both workers, carries a change to every subscriber and every worker, and stops with its workers on SIGTERM', async () => {
    const cluster = await startCluster();
    expect(cluster.output.match(/Created the organisation/g)).toHaveLength(1);
    expect(cluster.output.match(/^ {2}[0-9a-f-]{36}$/gm)).toHaveLength(1);
    expect(cluster.output.split('\n').at(-1)).toMatch(
      /^org-config gateway listening on http:\/\/localhost:\d+\/graphql \(database file:.*, 2 workers\)$/,
    );
    expect(new Set(cluster.workerPids).size).toBe(2);
    expect(cluster.workerPids).not.toContain(cluster.child.pid);

    const reads = Array.from({ length: 20 }, (_, index) => `read-${index}`);
    for (const requestId of reads) {
      const read = await onNewConnection(cluster.baseUrl, '/api/orgs/demo/config', {
        headers: { 'x-api-key': cluster.key, 'x-request-id': requestId },
      });
      expect(read.status).toBe(200);
    }
    expect(await answeredBy(cluster.logs, reads)).toEqual(new Set(cluster.workerPids));
    // The probes are not logged; handed out in turn on new connections, they reach both workers.
    for (const path of ['/health', '/ready', '/health', '/ready'])
      expect((await onNewConnection(cluster.baseUrl, path)).status).toBe(200);

    // Subscribers on both workers (each on its own connection), and one over WebSocket.
    const subscriberIds = ['sse-0', 'sse-1', 'sse-2', 'sse-3'];
    const subscribers = [];
    for (const requestId of subscriberIds)
      subscribers.push(
        await sseSubscribe(
          cluster.baseUrl,
          CHANGED,
          {},
          { 'x-api-key': cluster.key, 'x-request-id': requestId },
        ),
      );
    expect(await answeredBy(cluster.logs, subscriberIds)).toEqual(new Set(cluster.workerPids));
    const ws = createWsClient({
      url: `${cluster.baseUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { 'x-api-key': cluster.key },
      retryAttempts: 0,
    });
    const wsEvents = ws.iterate<{ orgConfigChanged: { version: number } }>({ query: CHANGED });

    const put = await onNewConnection(cluster.baseUrl, '/api/orgs/demo/config', {
      method: 'PUT',
      headers: { 'x-api-key': cluster.key, 'content-type': 'application/json' },
      body: JSON.stringify({ color: '#0a0b0c' }),
    });
    expect(put.status).toBe(200);
    expect(put.etag).toBe('"v2"');
    for (const subscriber of subscribers) {
      const event = await subscriber.next(10_000);
      expect(event).toMatchObject({ event: 'next', id: '2' });
      expect(JSON.parse(event.data).data.orgConfigChanged.config.branding.color).toBe('#0a0b0c');
      subscriber.close();
    }
    expect((await wsEvents.next()).value?.data?.orgConfigChanged.version).toBe(2);
    await ws.dispose();

    // Both workers' change feeds have delivered version 2, so both caches hold it.
    const rereads = Array.from({ length: 10 }, (_, index) => `reread-${index}`);
    for (const requestId of rereads) {
      const read = await onNewConnection(cluster.baseUrl, '/api/orgs/demo/config', {
        headers: { 'x-api-key': cluster.key, 'x-request-id': requestId },
      });
      expect(read.etag).toBe('"v2"');
      expect(JSON.parse(read.body).color).toBe('#0a0b0c');
    }
    expect(await answeredBy(cluster.logs, rereads)).toEqual(new Set(cluster.workerPids));

    cluster.child.kill('SIGTERM');
    expect(await exited(cluster.child)).toBe(0);
    for (const pid of cluster.workerPids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it("counts a key's rate limit once across the workers: the 21st request of 20 a minute is refused, whichever worker it reaches", async () => {
    const cluster = await startCluster({ RATE_LIMIT_PER_KEY_PER_MINUTE: '20' });
    const allowed = Array.from({ length: 20 }, (_, index) => `allowed-${index}`);
    for (const requestId of allowed) {
      expect(
        (
          await onNewConnection(cluster.baseUrl, '/api/orgs/demo/config', {
            headers: { 'x-api-key': cluster.key, 'x-request-id': requestId },
          })
        ).status,
      ).toBe(200);
    }
    expect(await answeredBy(cluster.logs, allowed)).toEqual(new Set(cluster.workerPids));
    for (const requestId of ['refused-0', 'refused-1']) {
      const refused = await onNewConnection(cluster.baseUrl, '/api/orgs/demo/config', {
        headers: { 'x-api-key': cluster.key, 'x-request-id': requestId },
      });
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body).code).toBe('RATE_LIMITED');
    }
    // One refusal from each worker: neither counts on its own.
    expect(await answeredBy(cluster.logs, ['refused-0', 'refused-1'])).toEqual(new Set(cluster.workerPids));
  });

  it('replaces a worker that dies, and the new one serves', async () => {
    const cluster = await startCluster();
    const [dying, surviving] = cluster.workerPids as [number, number];
    process.kill(dying, 'SIGKILL');
    await until(
      () =>
        cluster.logs.some(
          (line) =>
            line.msg === 'a worker stopped unexpectedly: starting another' && line.workerPid === dying,
        ),
      10_000,
    );
    await until(() => cluster.logs.filter((line) => line.msg === 'worker listening').length === 3, 15_000);
    const replacement = cluster.logs.filter((line) => line.msg === 'worker listening').at(-1)!.workerPid!;
    const reads = ['after-0', 'after-1', 'after-2', 'after-3'];
    for (const requestId of reads)
      expect(
        (
          await onNewConnection(cluster.baseUrl, '/api/orgs/demo/config', {
            headers: { 'x-api-key': cluster.key, 'x-request-id': requestId },
          })
        ).status,
      ).toBe(200);
    expect(await answeredBy(cluster.logs, reads)).toEqual(new Set([surviving, replacement]));
    cluster.child.kill('SIGTERM');
    expect(await exited(cluster.child)).toBe(0);
  });

  it('stops with the reason, once, when the workers cannot listen', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const dir = tempDir();
    dirs.push(dir);
    try {
      const { code, stderr } = await runToExit({
        WORKERS: '2',
        PORT: String((taken.address() as AddressInfo).port),
        DATABASE_URL: `file:${join(dir.path, 'taken.db')}`,
      });
      expect(code).toBe(1);
      expect(stderr.match(/^cannot start: .*EADDRINUSE/gm)).toHaveLength(1);
    } finally {
      taken.close();
    }
  });

  it('refuses a bad WORKERS value, and more than one worker on PostgreSQL, with a clear message', async () => {
    const { code, stderr } = await runToExit({ WORKERS: 'two' });
    expect(code).toBe(1);
    expect(stderr).toContain('WORKERS="two": must be a whole number, 1 to 64');
    for (const value of ['0', '65', '1.5'])
      expect(() => loadSettings({ WORKERS: value })).toThrow(
        `WORKERS="${value}": must be a whole number, 1 to 64`,
      );
    expect(() =>
      loadSettings({ WORKERS: '2', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/db' }),
    ).toThrow('WORKERS is for processes sharing a SQLite file; with PostgreSQL, start replicas instead');
    expect(loadSettings({}).workers).toBe(1);
    expect(
      loadSettings({ WORKERS: '1', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/db' }).workers,
    ).toBe(1);
    expect(() => loadSettings({ WORKERS: '2', DATABASE_URL: 'file::memory:' })).toThrow(
      'WORKERS above 1 needs a database file the processes share',
    );
  });
});

/** Runs `npm start`'s command until it exits on its own (a start that must fail). */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await exited(child);
  return { code, stderr };
}
