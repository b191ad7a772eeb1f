// Starts the gateway: reads settings, opens the store, serves HTTP and WebSocket, stops cleanly on SIGINT/SIGTERM.
// With WORKERS > 1 this process is the primary of a cluster (cluster.ts), and each worker serves as below.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { openBackend } from './backend.ts';
import { failWorkerStart, isGatewayWorker, runClusterPrimary } from './cluster.ts';
import { ConfigService } from './config/service.ts';
import { seedDemoIfEmpty } from './demo.ts';
import { createGateway } from './gateway.ts';
import { createLogger } from './logging.ts';
import { loadSettings, type Settings, SettingsError } from './settings.ts';
import { baseUrlOf, printDemoKey, printListening } from './start-up-messages.ts';
import { DatabaseFileError } from './store/storage-failures.ts';
import { startWebhookWorker, webhookServiceOptions } from './webhooks/from-settings.ts';
import { registerWebhookMetrics } from './webhooks/worker-metrics.ts';

/**
 * Serves the gateway from this process: alone, or as one of the cluster's workers, which leave the
 * demo org and the listening line to the primary and count rate limits there.
 */
async function serveGateway(settings: Settings, asWorker: boolean): Promise<void> {
  // A worker's lines say which process wrote them.
  const logger = asWorker
    ? createLogger(settings.logLevel).child({ worker: cluster.worker?.id, pid: process.pid })
    : createLogger(settings.logLevel);
  const { store, events, sharedRateLimits, close } = await openBackend(settings, {
    onError: (error) =>
      logger.error(
        { err: error },
        'cannot reach the database or Redis (the change feed and rate limits retry)',
      ),
  });
  const gateway = createGateway({
    store,
    events,
    logger,
    graphiql: settings.graphiql,
    introspection: settings.introspection,
    rateLimits: settings.rateLimits,
    streamLimits: settings.streamLimits,
    sharedRateLimits,
    rateLimitsAcrossWorkers: asWorker,
    trustProxy: settings.trustProxy,
    metricsToken: settings.metricsToken,
    widgetSnapshot: settings.widgetSnapshot,
    webhooks: webhookServiceOptions(settings.webhooks),
  });

  const server = createServer(gateway.listener);
  const webSockets = gateway.webSockets(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, resolve);
  });
  if (!asWorker) {
    const address = server.address();
    const baseUrl = baseUrlOf(
      settings,
      typeof address === 'object' && address ? address.port : settings.port,
    );
    // Seeded only once listening: a start that cannot listen must not swallow the one-time key.
    const demoKey = settings.seedDemo ? await seedDemoIfEmpty(store, new ConfigService(store, events)) : null;
    if (demoKey) printDemoKey(demoKey, baseUrl);
    printListening(settings, baseUrl);
  }
  // Every process delivers webhooks (replicas and cluster workers alike): each endpoint is leased to one at a time.
  const webhookWorker = startWebhookWorker(store, events, settings.webhooks, {
    onError: (error) => logger.error({ err: error }, 'webhook delivery failed (retried)'),
  });
  if (webhookWorker) registerWebhookMetrics(gateway.metrics, webhookWorker.counters);

  let stopping = false;
  /**
   * Stops taking connections, ends subscriptions (SSE streams complete, WebSockets close with 1001),
   * lets in-flight requests finish, then closes the database. After shutdownTimeoutMs the remaining
   * connections are cut.
   */
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => server.closeAllConnections(), settings.shutdownTimeoutMs);
    deadline.unref();
    // Keep-alive connections become idle as their last answer ends (subscriptions included): close them then.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      // Webhook attempts in flight finish (each within its time-out) and let go of their leases, the
      // keys' last use seen since the last batch is written, then the database closes.
      void (webhookWorker?.close() ?? Promise.resolve())
        .then(() => gateway.keyUse.close())
        .then(close)
        .then(() => {
          logger.info('stopped');
          process.exit(0);
        });
    });
    server.closeIdleConnections();
    // Ends the subscriptions now (SSE streams complete), so their connections can close.
    void events.close();
    void webSockets.close();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  const settings = loadSettings();
  if (isGatewayWorker()) await serveGateway(settings, true);
  else if (settings.workers > 1) await runClusterPrimary(settings);
  else await serveGateway(settings, false);
}

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  const expected =
    error instanceof SettingsError ||
    error instanceof DatabaseFileError ||
    code === 'EADDRINUSE' ||
    code === 'EACCES';
  if (isGatewayWorker()) {
    // The primary prints the reason, once for all its workers; the stack of a surprise stays here.
    if (!expected) console.error(error);
    failWorkerStart((error as Error).message ?? String(error));
    return;
  }
  console.error(expected ? `cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});
