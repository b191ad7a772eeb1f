// The real server killed mid-stream keeps every acknowledged write; SIGTERM stops it gracefully.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, sseSubscribe, startGatewayProcess, tempDir } from './helpers.ts';

const children: ChildProcess[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) dir.remove();
});

async function freshServer() {
  const dir = tempDir();
  dirs.push(dir);
  const env = {
    DATABASE_URL: `file:${join(dir.path, 'crash.db')}`,
    RATE_LIMIT_PER_KEY_PER_MINUTE: '1000000',
  };
  const started = await startGatewayProcess(env, children);
  const key = /^ {2}([0-9a-f-]{36})$/m.exec(started.output)![1]!;
  return { ...started, env, key, databasePath: join(dir.path, 'crash.db') };
}

const put = (baseUrl: string, key: string, body: Record<string, unknown>) =>
  fetch(`${baseUrl}/api/orgs/demo/config`, {
    method: 'PUT',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('crash safety', () => {
  it('keeps every acknowledged write and an intact database after SIGKILL mid-stream', async () => {
    const server = await freshServer();
    const acknowledged: { version: number; limit: number }[] = [];
    let stopWriting = false;
    const writer = (async () => {
      for (let limit = 0; !stopWriting; limit = (limit + 1) % 1000) {
        try {
          const response = await put(server.baseUrl, server.key, {
            autoAssignedLimit: limit,
            welcomeMessageEn: `write ${acknowledged.length}`,
          });
          if (response.status !== 200) throw new Error(`status ${response.status}`);
          await response.arrayBuffer(); // an unread body holds its connection
          acknowledged.push({ version: Number(/\d+/.exec(response.headers.get('etag')!)![0]), limit });
        } catch {
          return; // the server died under this write: it was never acknowledged
        }
      }
    })();
    // Kill once enough writes are acknowledged, while the next one is in flight.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (acknowledged.length >= 40) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    server.child.kill('SIGKILL');
    stopWriting = true;
    await writer;
    expect(await exited(server.child)).toBeNull();

    const database = new Database(server.databasePath);
    expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
    const versions = new Set(
      (
        database.prepare("SELECT version FROM revisions WHERE org_id = 'demo'").all() as { version: number }[]
      ).map((row) => row.version),
    );
    database.close();
    for (const write of acknowledged) expect(versions.has(write.version)).toBe(true);

    const restarted = await startGatewayProcess(server.env, children);
    const config = await (
      await fetch(`${restarted.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': server.key } })
    ).json();
    const last = acknowledged.at(-1)!;
    const version = Number(
      /\d+/.exec(
        (
          await fetch(`${restarted.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': server.key } })
        ).headers.get('etag')!,
      )![0],
    );
    expect(version).toBeGreaterThanOrEqual(last.version);
    if (version === last.version) expect(config.autoAssignedLimit).toBe(last.limit);
  }, 60_000);
});

describe('SIGTERM', () => {
  it('refuses new connections, lets an in-flight request finish, completes subscriptions, and exits 0', async () => {
    const server = await freshServer();
    const port = Number(new URL(server.baseUrl).port);
    const subscription = await sseSubscribe(
      server.baseUrl,
      'subscription { orgConfigChanged(orgId: "demo") { version } }',
      {},
      { 'x-api-key': server.key },
    );

    // An upload still in progress when the signal comes: half of its body now, the rest later.
    const body = JSON.stringify({ welcomeMessageEn: 'finished after SIGTERM' });
    let finishUpload: () => void = () => undefined;
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${server.baseUrl}/api/orgs/demo/config`,
        {
          method: 'PUT',
          headers: {
            'x-api-key': server.key,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      finishUpload = () => req.end(body.slice(10));
    });
    // A round trip on a later connection shows that the server has accepted the upload's earlier one.
    await fetch(`${server.baseUrl}/health`).then((response) => response.arrayBuffer());

    server.child.kill('SIGTERM');
    // The subscription completes: the server has begun to stop.
    expect((await subscription.next(5_000)).event).toBe('complete');
    // No new connections...
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    // ...but the request in flight is answered.
    finishUpload();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).welcomeMessageEn).toBe('finished after SIGTERM');
    expect(await exited(server.child)).toBe(0);
  }, 30_000);
});
