// Follows an organisation's configuration over SSE with graphql-sse's fetch-based client, which
// (unlike EventSource) sends the API key as a header. The same code runs in a browser bundle.
// Resumes after the version given as second argument, if any.
// Usage: KEY=<api key> node examples/subscribe-sse.mjs [orgId] [sinceVersion]
import { createClient } from 'graphql-sse';

const client = createClient({
  url: process.env.GATEWAY_URL ?? 'http://localhost:4000/graphql',
  headers: { 'x-api-key': process.env.KEY },
});

const query = `subscription ($orgId: ID!, $sinceVersion: Int) {
  orgConfigChanged(orgId: $orgId, sinceVersion: $sinceVersion) { version changedFields config { branding { name color } } }
}`;
const [orgId = 'demo', since] = process.argv.slice(2);

for await (const event of client.iterate({
  query,
  variables: { orgId, sinceVersion: since === undefined ? null : Number(since) },
})) {
  console.log(JSON.stringify(event.data?.orgConfigChanged ?? event.errors));
}
