// Test helpers: a gateway on a fresh SQLite file with the demo org, its keys, and a GraphQL caller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { RevisionLogTailer } from '../src/events/change-feed.ts';
import { createGateway } from '../src/gateway.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'org-config-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface GraphQLResponse {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

/** A gateway on a new database: org "demo" (the documented example) and org "other", with keys. */
export async function createTestGateway() {
  const dir = tempDir();
  const databasePath = join(dir.path, 'test.db');
  const store = openSqliteStore(databasePath);
  const events = new RevisionLogTailer(store, { pollIntervalMs: 20 });
  const service = new ConfigService(store, events);
  await service.createOrg(operator, 'demo', exampleSettings());
  await service.createOrg(operator, 'other');
  const keys = {
    admin: (await createApiKey(store, 'demo', 'admin')).key,
    adviser: (await createApiKey(store, 'demo', 'adviser')).key,
    otherAdmin: (await createApiKey(store, 'other', 'admin')).key,
  };
  const gateway = createGateway({ store, events, logging: false });

  async function graphql(query: string, variables?: Record<string, unknown>, key: string | null = keys.admin): Promise<GraphQLResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
    if (key !== null) headers['x-api-key'] = key;
    const response = await gateway.fetch('http://gateway.test/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as GraphQLResponse;
  }

  return {
    store,
    events,
    service,
    gateway,
    keys,
    databasePath,
    graphql,
    async close() {
      await events.close();
      await store.close();
      dir.remove();
    },
  };
}

export type TestGateway = Awaited<ReturnType<typeof createTestGateway>>;

/** Serves a gateway on a real HTTP server on a free loopback port. */
export async function listen(handler: import('node:http').RequestListener): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as import('node:net').AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
