// Starts the gateway: reads settings, opens the store, serves HTTP and WebSocket, stops cleanly on SIGINT/SIGTERM.
import { createServer } from 'node:http';
import { ConfigService } from './config/service.ts';
import { demoOrgId, seedDemoIfEmpty } from './demo.ts';
import { createGateway } from './gateway.ts';
import { serveGraphQLOverWebSocket } from './graphql/websocket.ts';
import { withFastRestRead } from './http/fast-rest-read.ts';
import { withFastRestWrite } from './http/fast-rest-write.ts';
import { createLogger } from './logging.ts';
import { openBackend } from './backend.ts';
import { loadSettings, redactedUrl, SettingsError } from './settings.ts';

function printDemoKey(key: string, baseUrl: string): void {
  console.log(`
Created the organisation "${demoOrgId}" with the documented example configuration.
Its admin API key (shown this once; create more with \`npm run cli -- key create --org ${demoOrgId} --role admin\`):

  ${key}

GraphiQL: ${baseUrl}/graphql  - paste into its Headers tab:
  {"x-api-key": "${key}"}

curl:
  curl -s ${baseUrl}/graphql -H 'content-type: application/json' -H 'x-api-key: ${key}' \\
    -d '{"query":"{ orgConfig(orgId: \\"${demoOrgId}\\") { version branding { name color } } }"}'
`);
}

/** How to reach the server from this machine: localhost for the wildcard and loopback addresses. */
function publicHost(host: string): string {
  if (['0.0.0.0', '127.0.0.1', '::', '::1'].includes(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

async function main(): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger(settings.logLevel);
  const { store, events, sharedRateLimits, close } = await openBackend(settings, {
    onError: (error) => logger.error({ err: error }, 'cannot reach the database or Redis (the change feed and rate limits retry)'),
  });
  const gateway = createGateway({
    store,
    events,
    logger,
    graphiql: settings.graphiql,
    introspection: settings.introspection,
    rateLimits: settings.rateLimits,
    sharedRateLimits,
    trustProxy: settings.trustProxy,
    performance: settings.performance,
  });

  const server = createServer(withFastRestWrite(gateway, withFastRestRead(gateway)));
  const webSockets = serveGraphQLOverWebSocket(server, gateway);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const baseUrl = `http://${publicHost(settings.host)}:${port}`;
  // Seeded only once listening: a start that cannot listen must not swallow the one-time key.
  const demoKey = settings.seedDemo ? await seedDemoIfEmpty(store, new ConfigService(store, events)) : null;
  if (demoKey) printDemoKey(demoKey, baseUrl);
  // Printed last: scripts and tests wait for this line.
  console.log(`org-config gateway listening on ${baseUrl}/graphql (database ${redactedUrl(settings.databaseUrl)}${settings.redisUrl ? `, changes through ${redactedUrl(settings.redisUrl)}` : ''})`);

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
      void close().then(() => {
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

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  const expected = error instanceof SettingsError || code === 'EADDRINUSE' || code === 'EACCES';
  console.error(expected ? `cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});
