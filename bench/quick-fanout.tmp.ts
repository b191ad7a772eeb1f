import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { createInterface } from 'node:readline';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
const N = Number(process.env.N ?? 10000);
const db = `/tmp/g1/fan-${Date.now()}.db`;
const store = openSqliteStore(db);
await new ConfigService(store).createOrg(operator, 'demo', exampleSettings());
const key = (await createApiKey(store, 'demo', 'admin')).key;
await store.close();
const nodeArgs = process.env.PROF ? ['--import', '/tmp/prof/hook.mjs'] : [];
const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', process.env.BARE ? 'bench/bare-fanout-server.ts' : 'src/main.ts'], { env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', SEED_DEMO: 'false', PORT: '0', DATABASE_URL: `file:${db}`, RATE_LIMIT_PER_KEY_PER_MINUTE: '10000000' }, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => { const u = /listening on (http:\/\/\S+?)(?:\/graphql)?(?:\s|$)/.exec(line)?.[1]; if (u) resolve(u); }));
const cpu = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const body = JSON.stringify({ query: 'subscription ($since: Int) { orgConfigChanged(orgId: "demo", sinceVersion: $since) { version config { branding { color } } } }', variables: { since: 1 } });
const times: number[] = [];
let t0 = 0; let resolveAll!: () => void; const all = new Promise<void>((r) => (resolveAll = r));
const open = () => new Promise<void>((subscribed, failed) => {
  const req = request(`${url}/graphql`, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key } }, (res) => {
    let first = true;
    res.on('data', (chunk: Buffer) => {
      if (first) { first = false; subscribed(); return; }
      if (chunk.includes('event: next')) { times.push(performance.now() - t0); if (times.length === N) resolveAll(); }
    });
  });
  req.on('error', failed);
  req.end(body);
});
for (let i = 0; i < N; i += 250) await Promise.all(Array.from({ length: Math.min(250, N - i) }, open));
console.error('subscribed', N);
if (process.env.PROF) { child.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 300)); }
const c0 = cpu();
t0 = performance.now();
const r = await fetch(`${url}/api/orgs/demo/config`, { method: 'PUT', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ color: '#000001' }) });
await r.arrayBuffer();
await all;
const c1 = cpu();
if (process.env.PROF) { child.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 1000)); }
times.sort((a, b) => a - b);
console.log(`N ${N} p50 ${times[Math.floor(N / 2)]!.toFixed(0)} p99 ${times[Math.floor(N * 0.99)]!.toFixed(0)} last ${times.at(-1)!.toFixed(0)} serverCPU ${c1 - c0} ms`);
child.kill('SIGKILL');
process.exit(0);
