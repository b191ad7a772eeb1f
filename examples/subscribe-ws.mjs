// Follows an organisation's configuration over WebSocket (graphql-ws); the API key travels in
// the connection_init payload. Resumes after the version given as second argument, if any.
// Usage: KEY=<api key> node examples/subscribe-ws.mjs [orgId] [sinceVersion]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const client = createClient({
  url: process.env.GATEWAY_URL?.replace(/^http/, 'ws') ?? 'ws://localhost:4000/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { 'x-api-key': process.env.KEY },
});

const query = `subscription ($orgId: ID!, $sinceVersion: Int) {
  orgConfigChanged(orgId: $orgId, sinceVersion: $sinceVersion) { version changedFields door config { branding { color } } }
}`;
const [orgId = 'demo', since] = process.argv.slice(2);

for await (const event of client.iterate({
  query,
  variables: { orgId, sinceVersion: since === undefined ? null : Number(since) },
})) {
  console.log(JSON.stringify(event.data?.orgConfigChanged ?? event.errors));
}
