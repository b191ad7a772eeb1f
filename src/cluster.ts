// WORKERS > 1: the primary of several gateway processes sharing the SQLite file and one port (node:cluster).
// The primary migrates, forks the workers, counts the rate limits for all of them, seeds the demo org,
// announces the gateway once every worker listens, replaces a worker that dies, and stops them all.
import cluster, { type Worker } from 'node:cluster';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { openStore } from './backend.ts';
import { ConfigService } from './config/service.ts';
import { seedDemoIfEmpty } from './demo.ts';
import { createLogger } from './logging.ts';
import type { Settings } from './settings.ts';
import { baseUrlOf, printDemoKey, printListening } from './start-up-messages.ts';

const startFailedMessage = 'org-config:start-failed';

/**
 * Set in the environment of the workers this primary forks. A process run as a worker of some other
 * node:cluster supervisor (PM2, say) has no RateLimiterClusterMaster to ask, so it serves alone.
 */
const workerMarker = 'ORG_CONFIG_CLUSTER_WORKER';

/** Whether this process is one of the workers of runClusterPrimary. */
export function isGatewayWorker(): boolean {
  return cluster.isWorker && process.env[workerMarker] === '1';
}

interface StartFailure {
  readonly type: typeof startFailedMessage;
  readonly reason: string;
}

function isStartFailure(message: unknown): message is StartFailure {
  return (
    typeof message === 'object' && message !== null && (message as StartFailure).type === startFailedMessage
  );
}

/** In a worker that cannot start: tells the primary why (it prints the reason, once for all workers), then exits 1. */
export function failWorkerStart(reason: string): void {
  if (!process.send) process.exit(1);
  process.send({ type: startFailedMessage, reason } satisfies StartFailure, () => process.exit(1));
}

/** Workers that stop later than this after SIGTERM (they cut their own connections at SHUTDOWN_TIMEOUT_MS) are killed. */
const stopGraceMs = 5_000;

/**
 * Runs the primary until it is stopped. Its exit code: 0 after SIGTERM/SIGINT once every worker has
 * stopped; 1 when a worker cannot start (at start-up, or a replacement later), which is never retried.
 */
export async function runClusterPrimary(settings: Settings): Promise<void> {
  const logger = createLogger(settings.logLevel).child({ pid: process.pid });
  // Migrated here, once, before any worker opens the file; kept open to seed once they all listen.
  let store: Awaited<ReturnType<typeof openStore>> | null = await openStore(settings, (error) =>
    logger.error({ err: error }, 'database error'),
  );
  const closeStore = async () => {
    const open = store;
    store = null;
    await open?.close();
  };
  // The workers' RateLimiterCluster limiters count here, over IPC: one limit per key, not one per worker.
  new RateLimiterClusterMaster();

  const running = new Set<Worker>();
  const listened = new Set<Worker>();
  const startFailures = new Map<Worker, string>();
  let phase: 'starting' | 'serving' | 'stopping' = 'starting';
  let exitCode = 0;

  const fork = () => {
    const worker = cluster.fork({ [workerMarker]: '1' });
    running.add(worker);
    // Answers to a worker's rate-limit questions can fail once it is gone (the IPC channel closed);
    // unheard, that 'error' would end the primary and with it every worker.
    worker.on('error', (error) =>
      logger.warn({ err: error, worker: worker.id }, 'cannot reach a worker over IPC'),
    );
    logger.debug({ worker: worker.id, workerPid: worker.process.pid }, 'worker forked');
  };

  const finishIfAllStopped = () => {
    if (phase !== 'stopping' || running.size > 0) return;
    void closeStore().finally(() => {
      logger.info('stopped');
      process.exit(exitCode);
    });
  };

  /** Stops every worker gracefully (each drains on SIGTERM, as a single gateway does), then exits with `code`. */
  const stopAll = (code: number, why: string) => {
    exitCode = Math.max(exitCode, code);
    if (phase === 'stopping') return;
    phase = 'stopping';
    logger.info({ why }, 'stopping the workers');
    for (const worker of running) worker.process.kill('SIGTERM');
    const deadline = setTimeout(() => {
      logger.error(
        { workers: [...running].map((worker) => worker.process.pid) },
        'workers still running after the shutdown timeout: killing them',
      );
      exitCode = 1;
      for (const worker of running) worker.process.kill('SIGKILL');
    }, settings.shutdownTimeoutMs + stopGraceMs);
    deadline.unref();
    finishIfAllStopped();
  };

  /** Once every worker listens: seed the demo org, print its key, then the listening line (last). */
  const announce = async (port: number) => {
    const baseUrl = baseUrlOf(settings, port);
    const seeding = store;
    const demoKey =
      settings.seedDemo && seeding ? await seedDemoIfEmpty(seeding, new ConfigService(seeding)) : null;
    await closeStore();
    if (phase !== 'serving') return;
    if (demoKey) printDemoKey(demoKey, baseUrl);
    printListening(settings, baseUrl);
  };

  cluster.on('message', (worker, message: unknown) => {
    if (isStartFailure(message)) startFailures.set(worker, message.reason);
  });

  cluster.on('listening', (worker, address) => {
    listened.add(worker);
    logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker listening');
    if (phase !== 'starting' || listened.size < settings.workers) return;
    phase = 'serving';
    announce(address.port).catch((error: unknown) => {
      console.error('cannot start:', error);
      stopAll(1, 'the demo organisation could not be created');
    });
  });

  cluster.on('exit', (worker, code, signal) => {
    running.delete(worker);
    const hadListened = listened.delete(worker);
    const details = { worker: worker.id, workerPid: worker.process.pid, code, signal };
    if (phase === 'stopping') {
      finishIfAllStopped();
      return;
    }
    if (!hadListened) {
      // A worker that cannot start would fail again at once: stop rather than loop.
      const reason =
        startFailures.get(worker) ??
        `worker ${worker.id} exited (${signal ?? `code ${code}`}) before it listened`;
      if (phase === 'starting') console.error(`cannot start: ${reason}`);
      else logger.error({ ...details, reason }, 'a replacement worker could not start: stopping the gateway');
      stopAll(1, reason);
      return;
    }
    logger.error(details, 'a worker stopped unexpectedly: starting another');
    fork();
  });

  process.on('SIGINT', () => stopAll(0, 'SIGINT'));
  process.on('SIGTERM', () => stopAll(0, 'SIGTERM'));
  for (let index = 0; index < settings.workers; index++) fork();
}
