// What a start prints for people and scripts: the one-time demo key, and the listening line printed last.
import { demoOrgId } from './demo.ts';
import { redactedUrl, type Settings } from './settings.ts';

export function printDemoKey(key: string, baseUrl: string): void {
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

export function baseUrlOf(settings: Settings, port: number): string {
  return `http://${publicHost(settings.host)}:${port}`;
}

/** Printed last, once the gateway serves: scripts and tests wait for this line. */
export function printListening(settings: Settings, baseUrl: string): void {
  const workers = settings.workers > 1 ? `, ${settings.workers} workers` : '';
  console.log(
    `org-config gateway listening on ${baseUrl}/graphql (database ${redactedUrl(settings.databaseUrl)}${settings.redisUrl ? `, changes through ${redactedUrl(settings.redisUrl)}` : ''}${workers})`,
  );
}
