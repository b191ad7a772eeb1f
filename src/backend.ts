// Opens what DATABASE_URL and REDIS_URL name: the store, and how commits of other processes reach this one.
import { Redis } from 'ioredis';
import type { SharedRateLimits } from './edge/guard.ts';
import { RevisionLogTailer } from './events/change-feed.ts';
import { type CommitSignals, DataVersionPoll } from './events/commit-signals.ts';
import { PostgresNotifications } from './events/postgres-notifications.ts';
import { RedisSignals } from './events/redis-signals.ts';
import { isPostgresUrl } from './settings.ts';
import type { ConfigStore } from './store/config-store.ts';
import {
  openPostgresStore,
  PostgresConfigStore,
  postgresConnection,
} from './store/postgres/postgres-store.ts';
import { openSqliteStore, SqliteConfigStore } from './store/sqlite/sqlite-store.ts';

export interface BackendSettings {
  readonly databaseUrl: string;
  /** Redis carries the commit signals when set (PostgreSQL only). */
  readonly redisUrl?: string | null;
  readonly databasePoolSize?: number;
  /** PostgreSQL: read the log this often without a signal (default 1 s). */
  readonly changeFeedCatchUpMs?: number;
  /** With Redis: count rate limits there, across replicas (default true). */
  readonly rateLimitsInRedis?: boolean;
}

export async function openStore(
  settings: BackendSettings,
  onError: (error: unknown) => void,
): Promise<SqliteConfigStore | PostgresConfigStore> {
  if (isPostgresUrl(settings.databaseUrl))
    return openPostgresStore(settings.databaseUrl, { poolSize: settings.databasePoolSize, onError });
  return openSqliteStore(settings.databaseUrl.slice('file:'.length));
}

/** The signals by which this process hears of other processes' commits to the same database. */
function commitSignalsFor(
  store: SqliteConfigStore | PostgresConfigStore,
  settings: BackendSettings,
  onError: (error: unknown) => void,
  pollIntervalMs = 100,
): CommitSignals {
  if (store instanceof SqliteConfigStore)
    return new DataVersionPoll(() => store.dataVersion(), pollIntervalMs, onError);
  if (settings.redisUrl) return new RedisSignals(settings.redisUrl, store.channel, onError);
  return new PostgresNotifications(postgresConnection(settings.databaseUrl), store.channel, onError);
}

/** A client that fails at once while Redis is away, so the limiters fall back to counting locally. */
function rateLimitRedis(redisUrl: string, onError: (error: unknown) => void): Redis {
  const client = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  client.on('error', onError);
  return client;
}

export interface Backend {
  readonly store: ConfigStore;
  readonly events: RevisionLogTailer;
  /** With Redis: where the replicas count rate limits together. */
  readonly sharedRateLimits?: SharedRateLimits;
  /** Stops the change feed, then closes the database. */
  close(): Promise<void>;
}

/**
 * The store and its change feed. On PostgreSQL the feed also reads the log every second (by
 * default) without a signal: a replica that committed and died before its Redis publish cannot
 * delay the others longer.
 */
export async function openBackend(
  settings: BackendSettings,
  options: { onError: (error: unknown) => void; pollIntervalMs?: number },
): Promise<Backend> {
  const store = await openStore(settings, options.onError);
  const signals = commitSignalsFor(store, settings, options.onError, options.pollIntervalMs);
  const shared = store instanceof PostgresConfigStore ? store : null;
  const events = new RevisionLogTailer(store, signals, {
    retryIntervalMs: options.pollIntervalMs ?? 100,
    catchUpIntervalMs: shared ? (settings.changeFeedCatchUpMs ?? 1_000) : null,
    onError: options.onError,
  });
  const rateLimitClient =
    shared && settings.redisUrl && settings.rateLimitsInRedis !== false
      ? rateLimitRedis(settings.redisUrl, options.onError)
      : null;
  return {
    store,
    events,
    ...(shared && rateLimitClient
      ? { sharedRateLimits: { client: rateLimitClient, prefix: `rate-limit:${shared.channel}` } }
      : {}),
    async close() {
      await events.close();
      rateLimitClient?.disconnect();
      await store.close();
    },
  };
}
