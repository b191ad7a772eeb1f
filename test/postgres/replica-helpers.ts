// Several real gateway processes on one fresh PostgreSQL schema (and Redis when asked), as replicas run.
import type { ChildProcess } from 'node:child_process';
import { operator } from '../../src/auth/actor.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { ConfigService } from '../../src/config/service.ts';
import { exampleSettings } from '../../src/demo.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { startGatewayProcess } from '../helpers.ts';
import { createPostgresSchema } from '../support/databases.ts';

export interface SharedDatabase {
  readonly url: string;
  readonly keys: { admin: string; adviser: string };
  drop(): Promise<void>;
}

/** A new schema holding org "demo" (the documented example) and an admin and an adviser key. */
export async function createSharedDatabase(): Promise<SharedDatabase> {
  const { url, drop } = await createPostgresSchema();
  const store = await openPostgresStore(url);
  try {
    await new ConfigService(store).createOrg(operator, 'demo', exampleSettings());
    const keys = {
      admin: (await createApiKey(store, 'demo', 'admin')).key,
      adviser: (await createApiKey(store, 'demo', 'adviser')).key,
    };
    return { url, keys, drop };
  } finally {
    await store.close();
  }
}

/**
 * Starts a replica: the real gateway process (`npm start`'s command) on DATABASE_URL and, if given,
 * REDIS_URL. Its catch-up read is an hour apart, so what arrives was carried by NOTIFY or Redis.
 */
export async function startReplica(
  children: ChildProcess[],
  env: { DATABASE_URL: string; REDIS_URL?: string } & Record<string, string>,
): Promise<string> {
  const { baseUrl } = await startGatewayProcess(
    {
      SEED_DEMO: 'false',
      LOG_LEVEL: 'error',
      CHANGE_FEED_CATCH_UP_MS: '3600000',
      SHUTDOWN_TIMEOUT_MS: '1000',
      ...env,
    },
    children,
  );
  return baseUrl;
}

/** PUTs legacy settings through a replica's REST door; answers the version written. */
export async function restPut(
  baseUrl: string,
  key: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}/api/orgs/demo/config`, {
    method: 'PUT',
    headers: { 'x-api-key': key, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}
