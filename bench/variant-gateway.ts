// Gateways for the profiling scripts (profile-writes.ts, profile-fanout.ts): a one-organisation
// database, and a gateway started as bench/run.ts does, as a variant, optionally CPU-profiled.
//
// A variant is "default" (this checkout) or "@DIR", the gateway of another
// checkout (e.g. git archive COMMIT | tar -x -C DIR, with node_modules linked, to compare with an earlier commit).
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';

const root = new URL('..', import.meta.url).pathname;
/** Every process started and not stopped yet: killed when the script ends. */
export const children = new Set<ChildProcess>();

/** An organisation of a benchmark database and its key. */
export interface Keyed {
  orgId: string;
  key: string;
}

/**
 * A fresh benchmark database: "demo" (the documented example, with an admin and a widget key) and orgCount - 1
 * more (org-00001, ...), each with an adviser key.
 */
export async function buildOrgsDatabase(
  path: string,
  orgCount: number,
): Promise<{ demoKey: string; demoWidgetKey: string; orgs: Keyed[] }> {
  const store = openSqliteStore(path);
  const service = new ConfigService(store);
  const settings = exampleSettings();
  await service.createOrg(operator, 'demo', settings);
  const demoKey = (await createApiKey(store, 'demo', 'admin')).key;
  const demoWidgetKey = (await createApiKey(store, 'demo', 'widget')).key;
  const orgs: Keyed[] = [{ orgId: 'demo', key: demoKey }];
  for (let i = 1; i < orgCount; i++) {
    const orgId = `org-${String(i).padStart(5, '0')}`;
    await service.createOrg(operator, orgId, {
      ...settings,
      branding: { ...settings.branding, name: `Organisation ${i}` },
    });
    orgs.push({ orgId, key: (await createApiKey(store, orgId, 'adviser')).key });
  }
  await store.close(); // closing checkpoints the WAL: the file alone is the database
  return { demoKey, demoWidgetKey, orgs };
}

/**
 * The databases the many-organisations scripts compare: orgCount organisations, and one, whose
 * targets are as many, all its one organisation (its requests are built in turn the same way).
 */
export async function manyAndOneOrgDatabases(
  work: string,
  orgCount: number,
): Promise<{ manyDb: string; oneDb: string; manyTargets: Keyed[]; oneTargets: Keyed[] }> {
  const manyDb = join(work, 'many.db');
  const oneDb = join(work, 'one.db');
  const many = await buildOrgsDatabase(manyDb, orgCount);
  const one = await buildOrgsDatabase(oneDb, 1);
  return { manyDb, oneDb, manyTargets: many.orgs, oneTargets: many.orgs.map(() => one.orgs[0]!) };
}

/** The benchmark's one-organisation database; resolves with demo's admin key. */
export async function buildDatabase(path: string): Promise<string> {
  return (await buildOrgsDatabase(path, 1)).demoKey;
}

/** The gateway's environment in the benchmarks: production, quiet, on this SQLite file, limits out of the way. */
export const gatewayEnv = (databasePath: string, extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  SEED_DEMO: 'false',
  PORT: '0',
  DATABASE_URL: `file:${databasePath}`,
  RATE_LIMIT_PER_KEY_PER_MINUTE: '10000000',
  STREAMS_PER_ADDRESS: '10000000',
  STREAMS_PER_KEY: '10000000',
  ...extra,
});

/**
 * Starts the gateway as bench/run.ts does; resolves with its URL once it prints its listening line.
 * With profileDir, node writes the .cpuprofile of each thread into it (the largest is the main thread).
 */
export function startGateway(
  databasePath: string,
  variant: string,
  profileDir: string | null,
): Promise<{ url: string; child: ChildProcess }> {
  const nodeArgs = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
  if (variant !== 'default' && !variant.startsWith('@'))
    throw new Error(`a variant is "default" or "@DIR" (another checkout), not "${variant}"`);
  const env = gatewayEnv(databasePath);
  return startProcess(
    [...nodeArgs, 'src/main.ts'],
    env,
    variant.startsWith('@') ? resolve(variant.slice(1)) : root,
  );
}

/** Starts node (or `command`) with these arguments, a server that prints "listening on URL"; resolves with the URL once it has. */
export function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = root,
  command = process.execPath,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolveStart, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const url = /listening on (http:\/\/\S+?)(?:\/graphql)?(?:\s|$)/.exec(line)?.[1];
      if (url) resolveStart({ url, child });
    });
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM'); // a clean exit writes the CPU profile
  await exited;
  children.delete(child);
}

/** A folder name for a variant and its round (or other part of a run). */
export function variantLabel(variant: string, round: number | string): string {
  return `${variant.replace(/\W+/g, '_')}-${round}`;
}

/** Runs a benchmark script's main; whatever happens, the processes it started are stopped and its work folder removed. */
export function runBenchScript(main: () => Promise<void>, work: string): void {
  main()
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => {
      for (const child of children) child.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    });
}
