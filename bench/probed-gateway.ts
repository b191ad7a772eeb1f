// A gateway in production mode as a child process whose memory can be read after a forced GC: started
// with --expose-gc and bench/soak-probe.mjs over an IPC channel (npm run soak, test/memory-bound.test.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { gatewayEnv } from './variant-gateway.ts';

const root = new URL('..', import.meta.url).pathname;

/**
 * Starts the gateway as production does, with --expose-gc and the memory probe, on this SQLite file
 * (settings as the benchmarks set them, then `extraEnv`); resolves once it listens, with its URL on 127.0.0.1.
 */
export function startProbedGateway(
  databasePath: string,
  extraEnv: Record<string, string> = {},
  /** The gateway's entry: the source through tsx, or a bundle (npm run build), as `npm run start:built` runs in production. */
  entry = 'src/main.ts',
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
      '--import',
      './bench/soak-probe.mjs',
      entry,
    ],
    {
      cwd: root,
      env: { ...process.env, ...gatewayEnv(databasePath, extraEnv) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const url = /listening on (http:\/\/\S+?)\/graphql/.exec(line)?.[1];
      // The gateway listens on 127.0.0.1 (HOST) and prints localhost, which may resolve to ::1 first.
      if (url) resolve({ url: url.replace('//localhost:', '//127.0.0.1:'), child });
    });
  });
}

/**
 * The gateway's process.memoryUsage() after a full garbage collection, and `reduced`: after the
 * collection V8 makes when memory runs low, which also drops its compilation cache (bench/soak-probe.mjs).
 */
export function memoryOf(child: ChildProcess): Promise<NodeJS.MemoryUsage & { reduced: NodeJS.MemoryUsage }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway did not answer its memory')), 30_000);
    child.once('message', (message: { memory: NodeJS.MemoryUsage; reduced: NodeJS.MemoryUsage }) => {
      clearTimeout(timer);
      resolve({ ...message.memory, reduced: message.reduced });
    });
    child.send('memory');
  });
}

/** Stops the gateway (SIGTERM) and waits for it to exit. */
export async function stopProbedGateway(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
