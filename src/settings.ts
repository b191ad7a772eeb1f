// Settings from the environment: typed, validated once at start, with a clear message on a bad value.
import { z } from 'zod';
import { defaultStreamLimits, type StreamLimits } from './edge/stream-caps.ts';

export const defaultDatabaseUrl = 'file:./data/org-config.db';

/** A DATABASE_URL naming PostgreSQL (the store replicas share) rather than a SQLite file. */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//.test(databaseUrl);
}

const databaseUrl = z
  .string()
  .refine((value) => /^file:[^?#]+$/.test(value) || (isPostgresUrl(value) && !/\s/.test(value)), {
    message:
      'must be file:PATH, a SQLite database file (e.g. file:./data/org-config.db) without ?options, or postgres://USER@HOST:PORT/DATABASE for PostgreSQL',
  });

const redisUrl = z.string().regex(/^rediss?:\/\/\S+$/, 'must be redis://HOST:PORT (or rediss:// for TLS)');

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,12}$/, `must be a whole number, ${min} to ${max}`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be a whole number, ${min} to ${max}`);

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

export const defaultRateLimits: RateLimits = { perKeyPerMinute: 6_000, failedAuthPerMinute: 30 };

const environmentSchema = z.object({
  PORT: wholeNumber(0, 65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: databaseUrl.default(defaultDatabaseUrl),
  DATABASE_POOL_SIZE: wholeNumber(1, 1_000).default(10),
  REDIS_URL: redisUrl.optional(),
  CHANGE_FEED_CATCH_UP_MS: wholeNumber(100, 3_600_000).default(1_000),
  RATE_LIMITS_IN_REDIS: flag.default(true),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SEED_DEMO: flag.default(true),
  NODE_ENV: z.string().default('development'),
  GRAPHIQL: flag.optional(),
  INTROSPECTION: flag.optional(),
  RATE_LIMIT_PER_KEY_PER_MINUTE: wholeNumber(1, 10_000_000).default(defaultRateLimits.perKeyPerMinute),
  RATE_LIMIT_FAILED_AUTH_PER_MINUTE: wholeNumber(1, 1_000_000).default(defaultRateLimits.failedAuthPerMinute),
  STREAMS_PER_ADDRESS: wholeNumber(1, 10_000_000).default(defaultStreamLimits.perAddress),
  STREAMS_PER_KEY: wholeNumber(1, 10_000_000).default(defaultStreamLimits.perKey),
  TRUST_PROXY: flag.default(false),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(0, 600_000).default(10_000),
  WORKERS: wholeNumber(1, 64).default(1),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,200}$/, 'must be 16 to 200 printable characters without spaces')
    .optional(),
  WIDGET_SNAPSHOT_MAX_AGE: wholeNumber(0, 86_400).default(60),
  WIDGET_SNAPSHOT_STALE_WHILE_REVALIDATE: wholeNumber(0, 604_800).default(600),
  WEBHOOK_DELIVERY: flag.default(true),
  WEBHOOK_ALLOW_HTTP: flag.default(false),
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: flag.default(false),
  WEBHOOK_TIMEOUT_MS: wholeNumber(100, 60_000).default(10_000),
  WEBHOOK_RETRY_BASE_MS: wholeNumber(10, 3_600_000).default(10_000),
  WEBHOOK_RETRY_MAX_MS: wholeNumber(10, 86_400_000).default(7_200_000),
  WEBHOOK_MAX_ATTEMPTS: wholeNumber(1, 100).default(20),
  WEBHOOK_LOG_RETENTION_HOURS: wholeNumber(1, 8_760).default(168),
  WEBHOOK_CONCURRENCY: wholeNumber(1, 1_000).default(32),
  WEBHOOK_POLL_MS: wholeNumber(10, 60_000).default(1_000),
  WEBHOOK_MAX_PER_ORG: wholeNumber(1, 10_000).default(25),
});

/** Webhook endpoints and their delivery (webhooks/). */
export interface WebhookSettings {
  /** Run the delivery worker in this process (every replica may: leases keep each endpoint to one). */
  readonly delivery: boolean;
  /** Plain http and private addresses: for local development and tests only. */
  readonly policy: { readonly allowHttp: boolean; readonly allowPrivateAddresses: boolean };
  /** One attempt, connection to answer. */
  readonly timeoutMs: number;
  /** Exponential backoff between attempts at one change; the endpoint is disabled after maxAttempts. */
  readonly retry: { readonly baseMs: number; readonly maxMs: number; readonly maxAttempts: number };
  readonly logRetentionMs: number;
  /** Endpoints one process delivers to at once. */
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly maxPerOrg: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Settings {
  readonly port: number;
  readonly host: string;
  /** file:PATH (SQLite, embedded) or postgres://... (shared by replicas). */
  readonly databaseUrl: string;
  /** Connections each process keeps to PostgreSQL (plus one that listens for notifications). */
  readonly databasePoolSize: number;
  /** With PostgreSQL: commit signals travel through Redis rather than LISTEN/NOTIFY. */
  readonly redisUrl: string | null;
  /**
   * With PostgreSQL: how often the change feed reads the revision log without a signal, so a change
   * whose signal was lost (its writer died before publishing to Redis) arrives at most this late.
   */
  readonly changeFeedCatchUpMs: number;
  /**
   * With REDIS_URL: count the rate limits in Redis, shared by the replicas (a round trip per
   * request), rather than in each process.
   */
  readonly rateLimitsInRedis: boolean;
  readonly logLevel: LogLevel;
  /** Create the demo organisation and print an admin key when the database has no organisation. */
  readonly seedDemo: boolean;
  /** GraphiQL; NODE_ENV=production turns it (and introspection) off unless GRAPHIQL / INTROSPECTION say otherwise. */
  readonly graphiql: boolean;
  readonly introspection: boolean;
  readonly rateLimits: RateLimits;
  /** Subscriptions (SSE and WebSocket together) one client address, and one secret key, may hold at once. */
  readonly streamLimits: StreamLimits;
  /** Take the client address from X-Forwarded-For (behind a load balancer) rather than the socket. */
  readonly trustProxy: boolean;
  /** On SIGTERM, in-flight requests get this long before their connections are cut. */
  readonly shutdownTimeoutMs: number;
  /** Gateway processes sharing the SQLite file and the port (node:cluster); 1 serves from this process alone. */
  readonly workers: number;
  /** The bearer token of GET /metrics; null: no /metrics. */
  readonly metricsToken: string | null;
  /** Cache-Control of GET /widget/{orgId}/config: max-age and stale-while-revalidate, in seconds. */
  readonly widgetSnapshot: { readonly maxAgeSeconds: number; readonly staleWhileRevalidateSeconds: number };
  readonly webhooks: WebhookSettings;
}

export interface RateLimits {
  /** Requests per minute one API key may make (REST and GraphQL over HTTP together). */
  readonly perKeyPerMinute: number;
  /** Requests with an unknown key one client address may make per minute before it is refused for a minute. */
  readonly failedAuthPerMinute: number;
}

export class SettingsError extends Error {}

/** A URL without its password (user:PASSWORD@, or ?password=), fit for logs, messages and the start-up line. */
export function redactedUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#\s]*/gi, '$1***');
}

/** Variables whose values may hold a password: shown redacted when refused. */
const secretBearing = new Set(['DATABASE_URL', 'REDIS_URL']);

/** Reads the settings; throws SettingsError naming every bad variable. */
export function loadSettings(environment: NodeJS.ProcessEnv = process.env): Settings {
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = environmentSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = environment[name];
      const shown =
        value === undefined || name === 'METRICS_TOKEN'
          ? value && '***'
          : secretBearing.has(name)
            ? redactedUrl(value)
            : value;
      return `  ${issue.path.join('.')}=${JSON.stringify(shown)}: ${issue.message}`;
    });
    throw new SettingsError(`invalid settings:\n${lines.join('\n')}`);
  }
  const env = result.data;
  if (env.REDIS_URL && !isPostgresUrl(env.DATABASE_URL)) {
    throw new SettingsError(
      'invalid settings:\n  REDIS_URL is for replicas sharing PostgreSQL; with a SQLite DATABASE_URL one process serves alone and needs no Redis',
    );
  }
  if (env.WORKERS > 1 && isPostgresUrl(env.DATABASE_URL)) {
    // PostgreSQL has its own way to use more cores and machines, tested and documented: replicas.
    throw new SettingsError(
      'invalid settings:\n  WORKERS is for processes sharing a SQLite file; with PostgreSQL, start replicas instead (see "Running many replicas" in the README)',
    );
  }
  if (env.WORKERS > 1 && /^file::memory:/.test(env.DATABASE_URL)) {
    // Each process would have a database of its own.
    throw new SettingsError(
      'invalid settings:\n  WORKERS above 1 needs a database file the processes share, not file::memory:',
    );
  }
  const production = env.NODE_ENV === 'production';
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    redisUrl: env.REDIS_URL ?? null,
    changeFeedCatchUpMs: env.CHANGE_FEED_CATCH_UP_MS,
    rateLimitsInRedis: env.RATE_LIMITS_IN_REDIS,
    logLevel: env.LOG_LEVEL,
    seedDemo: env.SEED_DEMO,
    graphiql: env.GRAPHIQL ?? !production,
    introspection: env.INTROSPECTION ?? !production,
    rateLimits: {
      perKeyPerMinute: env.RATE_LIMIT_PER_KEY_PER_MINUTE,
      failedAuthPerMinute: env.RATE_LIMIT_FAILED_AUTH_PER_MINUTE,
    },
    streamLimits: { perAddress: env.STREAMS_PER_ADDRESS, perKey: env.STREAMS_PER_KEY },
    trustProxy: env.TRUST_PROXY,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    workers: env.WORKERS,
    metricsToken: env.METRICS_TOKEN ?? null,
    widgetSnapshot: {
      maxAgeSeconds: env.WIDGET_SNAPSHOT_MAX_AGE,
      staleWhileRevalidateSeconds: env.WIDGET_SNAPSHOT_STALE_WHILE_REVALIDATE,
    },
    webhooks: {
      delivery: env.WEBHOOK_DELIVERY,
      policy: {
        allowHttp: env.WEBHOOK_ALLOW_HTTP,
        allowPrivateAddresses: env.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
      },
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retry: {
        baseMs: env.WEBHOOK_RETRY_BASE_MS,
        maxMs: env.WEBHOOK_RETRY_MAX_MS,
        maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      },
      logRetentionMs: env.WEBHOOK_LOG_RETENTION_HOURS * 3_600_000,
      concurrency: env.WEBHOOK_CONCURRENCY,
      pollIntervalMs: env.WEBHOOK_POLL_MS,
      maxPerOrg: env.WEBHOOK_MAX_PER_ORG,
    },
  };
}
