import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
const db = `/tmp/g1/cpu-${Date.now()}.db`;
const store = openSqliteStore(db);
await new ConfigService(store).createOrg(operator, 'demo', exampleSettings());
const key = (await createApiKey(store, 'demo', 'admin')).key;
await store.close();
function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [...(process.env.PROF && args[0] === 'src/main.ts' ? ['--import', '/tmp/prof/hook.mjs'] : []), '--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<{ url: string; pid: number; kill: () => void }>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => { const url = /listening on (http:\/\/\S+?)(?:\/graphql)?(?:\s|$)/.exec(line)?.[1]; if (url) resolve({ url, pid: child.pid!, kill: () => child.kill() }); }));
}
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const env = { NODE_ENV: 'production', LOG_LEVEL: 'warn', SEED_DEMO: 'false', PORT: '0', DATABASE_URL: `file:${db}`, RATE_LIMIT_PER_KEY_PER_MINUTE: '10000000' };
const query = 'query ($orgId: ID!) { orgConfig(orgId: $orgId) { branding { name color } messages { welcome { pl en } } website { phonePrefix } } }';
const g1 = { method: 'POST' as const, path: '/graphql', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ query, variables: { orgId: 'demo' } }) };
const r1 = { method: 'GET' as const, path: '/api/orgs/demo/config', headers: { 'x-api-key': key } };
const bare = await start(['bench/bare-server.ts'], {});
const gw = await start(['src/main.ts'], env);
const amount = 40000;
const measure = async (name: string, s: { url: string; pid: number }, requests?: any[]) => { await autocannon({ url: s.url, connections: 50, amount: 2000, requests }); const c0 = cpu(s.pid); const r = await autocannon({ url: s.url, connections: 50, amount, requests }); const c = cpu(s.pid) - c0; console.log(name, 'µs CPU/request', ((c * 1000) / amount).toFixed(1), 'rps', Math.round(r.requests.average)); };
if (process.env.PROF) { await measure('G1', gw, [g1]); process.kill(gw.pid, 'SIGUSR2'); await new Promise((r) => setTimeout(r, 300)); await measure('G1', gw, [g1]); process.kill(gw.pid, 'SIGUSR2'); await new Promise((r) => setTimeout(r, 1500)); }
else for (let i = 0; i < 2; i++) { await measure('B0', bare); await measure('R1', gw, [r1]); await measure('G1', gw, [g1]); }
bare.kill(); gw.kill();
