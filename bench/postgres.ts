// The benchmark on PostgreSQL: one gateway, then two replicas behind no balancer (one load generator
// each, in parallel), with and without Redis. Reported beside the SQLite figures of the same run.
import type autocannon from 'autocannon';
import pg from 'pg';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';

export interface PostgresBenchTools<
  Started,
  Result extends { name: string; rps: number; p50: number; p99: number; errors: number },
> {
  startGateway(env: Record<string, string>): Promise<Started>;
  stop(started: Started): Promise<void>;
  urlOf(started: Started): string;
  load(name: string, options: autocannon.Options & { expectStatus?: number }): Promise<Result>;
  requests: {
    rest(orgId: string, key: string): autocannon.Request;
    widget(orgId: string, key: string): autocannon.Request;
    restPut(key: string, body: () => string): autocannon.Request;
  };
  writesSeconds: number;
  /** Also run the two replicas with Redis carrying the changes (left out of the smoke run, for time). */
  withRedis: boolean;
  log(line: string): void;
}

export const benchPostgresUrl =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const benchRedisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface PostgresBenchResult<Result> {
  rows: Result[];
  /** Why nothing ran, when PostgreSQL could not be reached. */
  skipped: string | null;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: benchPostgresUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Adds up load runs made at the same time against different replicas. */
function combined<Result extends { name: string; rps: number; p50: number; p99: number; errors: number }>(
  name: string,
  parts: Result[],
): Result {
  return {
    ...parts[0]!,
    name,
    rps: parts.reduce((sum, part) => sum + part.rps, 0),
    p50: Math.max(...parts.map((part) => part.p50)),
    p99: Math.max(...parts.map((part) => part.p99)),
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
  };
}

export async function benchPostgres<
  Started,
  Result extends { name: string; rps: number; p50: number; p99: number; errors: number },
>(tools: PostgresBenchTools<Started, Result>): Promise<PostgresBenchResult<Result>> {
  const schema = `org_config_bench_${process.pid}`;
  try {
    await adminQuery(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    const reason = `PostgreSQL at ${benchPostgresUrl} could not be reached (${(error as Error).message})`;
    tools.log(`skipping the PostgreSQL runs: ${reason}`);
    return { rows: [], skipped: reason };
  }
  const url = new URL(benchPostgresUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const databaseUrl = url.toString();
  const rows: Result[] = [];
  try {
    const store = await openPostgresStore(databaseUrl);
    await new ConfigService(store).createOrg(operator, 'demo', exampleSettings());
    const key = (await createApiKey(store, 'demo', 'admin')).key;
    await store.close();
    let counter = 0;
    const put = () =>
      tools.requests.restPut(key, () => JSON.stringify({ welcomeMessageEn: `hello ${counter++}` }));

    const single = await tools.startGateway({ DATABASE_URL: databaseUrl });
    rows.push(
      await tools.load('PostgreSQL, 1 gateway: R1 REST GET', {
        url: tools.urlOf(single),
        requests: [tools.requests.rest('demo', key)],
      }),
    );
    rows.push(
      await tools.load('PostgreSQL, 1 gateway: G1 GraphQL', {
        url: tools.urlOf(single),
        requests: [tools.requests.widget('demo', key)],
      }),
    );
    rows.push(
      await tools.load('PostgreSQL, 1 gateway: W REST PUT', {
        url: tools.urlOf(single),
        duration: tools.writesSeconds,
        requests: [put()],
      }),
    );
    await tools.stop(single);

    const setups: { carrier: string; env: Record<string, string> }[] = [
      { carrier: 'NOTIFY', env: {} },
      ...(tools.withRedis
        ? [
            { carrier: 'Redis', env: { REDIS_URL: benchRedisUrl } },
            {
              carrier: 'Redis, rate limits per replica',
              env: { REDIS_URL: benchRedisUrl, RATE_LIMITS_IN_REDIS: 'false' },
            },
          ]
        : []),
    ];
    for (const { carrier, env: extra } of setups) {
      const env = { DATABASE_URL: databaseUrl, ...extra };
      const replicas = await Promise.all([tools.startGateway(env), tools.startGateway(env)]);
      const both = (name: string, options: (replica: Started) => autocannon.Options) =>
        Promise.all(
          replicas.map((replica, index) => tools.load(`${name} (replica ${index + 1})`, options(replica))),
        ).then((parts) => combined(name, parts));
      rows.push(
        await both(`PostgreSQL, 2 replicas (${carrier}): R1 REST GET`, (replica) => ({
          url: tools.urlOf(replica),
          requests: [tools.requests.rest('demo', key)],
        })),
      );
      rows.push(
        await both(`PostgreSQL, 2 replicas (${carrier}): W REST PUT`, (replica) => ({
          url: tools.urlOf(replica),
          duration: tools.writesSeconds,
          requests: [put()],
        })),
      );
      await Promise.all(replicas.map((replica) => tools.stop(replica)));
    }
  } finally {
    await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((error: unknown) =>
      tools.log(`could not drop ${schema}: ${(error as Error).message}`),
    );
  }
  return { rows, skipped: null };
}
