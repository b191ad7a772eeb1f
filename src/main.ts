// Starts the gateway: reads settings, opens the store, serves HTTP, shuts down cleanly on SIGINT/SIGTERM.
import { createServer } from 'node:http';
import { ConfigService } from './config/service.ts';
import { demoOrgId, seedDemoIfEmpty } from './demo.ts';
import { RevisionLogTailer } from './events/change-feed.ts';
import { createGateway } from './gateway.ts';
import { serveGraphQLOverWebSocket } from './graphql/websocket.ts';
import { loadSettings, SettingsError } from './settings.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';

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
  const store = openSqliteStore(settings.sqlitePath);
  const events = new RevisionLogTailer(store, { onError: (error) => console.error('change feed: cannot read the revision log:', error) });
  const gateway = createGateway({ store, events, logging: settings.logLevel === 'silent' ? false : settings.logLevel });
  const server = createServer(gateway);
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
  console.log(`org-config gateway listening on ${baseUrl}/graphql (database ${settings.databaseUrl})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    server.close(() => {
      void events
        .close()
        .then(() => store.close())
        .then(() => process.exit(0));
    });
    server.closeIdleConnections();
    void webSockets.close();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const listenFailure = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' || (error as NodeJS.ErrnoException).code === 'EACCES';
  console.error(error instanceof SettingsError || listenFailure ? `cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});
