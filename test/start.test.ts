// `npm start` as a newcomer runs it: a real process on a new database, the demo org, a printed key, real HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, sseSubscribe, startGatewayProcess, tempDir } from './helpers.ts';

const root = new URL('..', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function startGateway(env: Record<string, string>) {
  return startGatewayProcess(env, children);
}

describe('npm start', () => {
  // Two starts through tsx, and GraphiQL's page (9 MB, built on first ask): 19 s at a load of 20.
  it('creates and migrates the database, seeds the demo org once, prints a working key, and stops on SIGTERM', async () => {
    const dir = tempDir();
    try {
      const env = { DATABASE_URL: `file:${join(dir.path, 'data', 'org-config.db')}` };
      const first = await startGateway(env);
      const key = /^ {2}([0-9a-f-]{36})$/m.exec(first.output)?.[1];
      expect(key).toBeDefined();
      expect(first.output).toContain(`{"x-api-key": "${key}"}`);
      expect(first.output).toContain(`curl -s ${first.baseUrl}/graphql`);

      const response = await fetch(`${first.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key! },
        body: JSON.stringify({ query: '{ orgConfig(orgId: "demo") { version branding { name } } }' }),
      });
      expect(await response.json()).toEqual({
        data: { orgConfig: { version: 1, branding: { name: 'Wody Aqua Polska' } } },
      });

      const graphiql = await fetch(`${first.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
      expect(graphiql.status).toBe(200);
      expect(await graphiql.text()).toContain('GraphiQL');

      first.child.kill('SIGTERM');
      expect(await exited(first.child)).toBe(0);

      const second = await startGateway(env);
      expect(second.output).not.toContain('Created the organisation');
      const again = await fetch(`${second.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key! },
        body: JSON.stringify({ query: '{ orgConfig(orgId: "demo") { version } }' }),
      });
      expect(await again.json()).toEqual({ data: { orgConfig: { version: 1 } } });
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
    } finally {
      dir.remove();
    }
  }, 60_000);

  it('runs the same from the bundle (npm run build): migrates, seeds, answers both doors and a subscription, stops on SIGTERM', async () => {
    const dir = tempDir();
    // Inside the package, as dist/main.js is: the bundle finds migrations and the example from there.
    const bundle = join(root, 'dist', `start-test-${process.pid}.js`);
    try {
      const build = spawn(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '--outfile', bundle], {
        cwd: root,
        stdio: 'inherit',
      });
      expect(await exited(build)).toBe(0);
      const started = await startGatewayProcess(
        { DATABASE_URL: `file:${join(dir.path, 'built.db')}` },
        children,
        [bundle],
      );
      const key = /^ {2}([0-9a-f-]{36})$/m.exec(started.output)![1]!;
      const rest = await fetch(`${started.baseUrl}/api/orgs/demo/config`, { headers: { 'x-api-key': key } });
      expect(rest.status).toBe(200);
      expect((await rest.json()).name).toBe('Wody Aqua Polska');
      const sse = await sseSubscribe(
        started.baseUrl,
        'subscription { orgConfigChanged(orgId: "demo") { version } }',
        {},
        { 'x-api-key': key },
      );
      const put = await fetch(`${started.baseUrl}/api/orgs/demo/config`, {
        method: 'PUT',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ color: '#010203' }),
      });
      expect(put.status).toBe(200);
      expect(await sse.next()).toMatchObject({ event: 'next', id: '2' });
      sse.close();
      started.child.kill('SIGTERM');
      expect(await exited(started.child)).toBe(0);
    } finally {
      rmSync(bundle, { force: true });
      rmSync(`${bundle}.map`, { force: true });
      dir.remove();
    }
  });

  it('refuses a bad setting with a clear message', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'mysql://x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    expect(await exited(child)).toBe(1);
    expect(stderr).toContain('PORT="eighty"');
    expect(stderr).toContain('DATABASE_URL="mysql://x": must be file:PATH');
  });
});
