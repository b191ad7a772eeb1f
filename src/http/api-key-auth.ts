// Authenticates each request once, by its x-api-key, and applies the rate limits: per API key, and
// per client address for requests with unknown keys. HTTP goes through the plugin; WebSocket
// connections and operations use the same guard.
import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Actor } from '../auth/actor.ts';
import { checkApiKey, type KeyCheck } from '../auth/api-keys.ts';
import type { KeyUseRecorder } from '../auth/key-use.ts';
import type { Logger } from '../logging.ts';
import type { RateLimits } from '../settings.ts';
import type { ConfigStore } from '../store/config-store.ts';
import { KeyWindows } from './key-windows.ts';
import { refusal, unexpectedFailure } from './refusal.ts';

const actors = new WeakMap<Request, Actor | null>();

/** The actor of an HTTP request, as authenticated on its way in; undefined if it was not. */
export function actorOf(request: Request | undefined): Actor | null | undefined {
  return request ? actors.get(request) : undefined;
}

interface NodeRequestLike {
  socket?: { remoteAddress?: string };
  headers?: Record<string, string | string[] | undefined>;
}

/** A refusal for going over a limit: how long to wait, and why. */
export interface Throttled {
  readonly retryAfterSeconds: number;
  readonly reason: string;
}

/** Rate limits counted in Redis, shared by every replica; `prefix` names the deployment (its database). */
export interface SharedRateLimits {
  readonly client: Redis;
  readonly prefix: string;
}

/**
 * Where the limits are counted: in this process; by the cluster's primary for all its workers
 * (WORKERS > 1, so a key gets its limit once, not once per worker); or in Redis for all replicas.
 */
export interface RateLimitCounting {
  readonly shared?: SharedRateLimits;
  /** This process is a cluster worker: ask the primary (its RateLimiterClusterMaster) over IPC. */
  readonly acrossWorkers?: boolean;
}

/**
 * A limiter counting in this process, in the cluster's primary, or in Redis when shared. While Redis
 * is away, each replica counts for itself (the insurance limiter) rather than letting everything through.
 */
function limiter(
  name: string,
  options: { points: number; duration: number; blockDuration?: number },
  counting: RateLimitCounting,
): RateLimiterAbstract {
  // The prefix names the limiter in the primary, which holds both.
  if (counting.acrossWorkers) return new RateLimiterCluster({ ...options, keyPrefix: name });
  // Its storage is its own: without a prefix, the counter is keyed by the key id or address itself,
  // rather than by a string built (and hashed) at every request.
  const local = new RateLimiterMemory({ ...options, keyPrefix: '' });
  if (!counting.shared) return local;
  return new RateLimiterRedis({
    ...options,
    storeClient: counting.shared.client,
    keyPrefix: `${counting.shared.prefix}:${name}`,
    insuranceLimiter: local,
  });
}

export class RequestGuard {
  /** Counted in this process alone (KeyWindows), by the cluster's primary, or in Redis (the library). */
  private readonly perKey: KeyWindows | RateLimiterAbstract;
  private readonly failedAuth: RateLimiterAbstract;

  constructor(
    private readonly options: {
      store: ConfigStore;
      limits: RateLimits;
      trustProxy: boolean;
      /** Where each counted request's key is noted as used (written in batches). */
      keyUse?: KeyUseRecorder;
    } & RateLimitCounting,
  ) {
    const perKey = { points: options.limits.perKeyPerMinute, duration: 60 };
    this.perKey =
      options.acrossWorkers || options.shared
        ? limiter('per-key', perKey, options)
        : new KeyWindows(perKey.points, perKey.duration * 1000);
    this.failedAuth = limiter(
      'failed-auth',
      { points: options.limits.failedAuthPerMinute, duration: 60, blockDuration: 60 },
      options,
    );
  }

  /**
   * The client's address. Behind a proxy (TRUST_PROXY), the last X-Forwarded-For entry: the one our
   * proxy appended; the entries before it are whatever the client claimed.
   */
  clientAddress(request: NodeRequestLike | undefined): string {
    const forwarded = request?.headers?.['x-forwarded-for'];
    if (this.options.trustProxy && typeof forwarded === 'string') return forwarded.split(',').at(-1)!.trim();
    return request?.socket?.remoteAddress ?? 'unknown';
  }

  /** Set when this address sent too many unknown keys lately: it is refused whatever it sends. */
  async addressThrottled(address: string): Promise<Throttled | null> {
    const failures = await this.failedAuth.get(address);
    if (!failures || failures.consumedPoints < this.options.limits.failedAuthPerMinute) return null;
    return {
      retryAfterSeconds: Math.max(1, Math.ceil(failures.msBeforeNext / 1000)),
      reason: 'too many requests with unknown API keys from this address',
    };
  }

  /** The actor of a key; null when absent, unknown, revoked or expired. An unknown key counts against its address. */
  async authenticate(key: string | null | undefined, address: string): Promise<Actor | null> {
    const checked = await this.checkKey(key, address);
    return checked?.ok ? checked.actor : null;
  }

  /** What a key is (null when none was sent); an unknown one counts against its address. */
  async checkKey(key: string | null | undefined, address: string): Promise<KeyCheck | null> {
    if (!key) return null;
    const checked = await checkApiKey(this.options.store, key);
    if (!checked.ok && checked.code === 'UNKNOWN_KEY')
      await this.failedAuth.consume(address).catch(() => undefined);
    return checked;
  }

  /** Counts one request of the actor's key; set when the key is over its limit. */
  async keyThrottled(actor: Actor | null): Promise<Throttled | null> {
    if (actor?.kind !== 'apiKey') return null;
    this.options.keyUse?.saw(actor.keyId);
    if (this.perKey instanceof KeyWindows) {
      const msBeforeNext = this.perKey.consume(actor.keyId);
      return msBeforeNext === 0 ? null : keyLimitReached(msBeforeNext);
    }
    try {
      await this.perKey.consume(actor.keyId);
      return null;
    } catch (limited) {
      if (!(limited instanceof RateLimiterRes)) throw limited;
      return keyLimitReached(limited.msBeforeNext);
    }
  }
}

const keyLimitReached = (msBeforeNext: number): Throttled => ({
  retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  reason: 'too many requests with this API key',
});

/** Node requests whose key a fast path counted against its limit before handing them to yoga, with the outcome. */
const countedKeyRequests = new WeakMap<object, { keyId: string; throttled: Throttled | null }>();

/** Records that the node request `req` (yoga's server context) was counted against this key's limit already. */
export function markKeyCounted(req: object, keyId: string, throttled: Throttled | null): void {
  countedKeyRequests.set(req, { keyId, throttled });
}

function tooManyRequests(request: Request, throttled: Throttled): Response {
  return refusal(
    request,
    429,
    'RATE_LIMITED',
    `${throttled.reason}; retry in ${throttled.retryAfterSeconds} s`,
    {
      'retry-after': String(throttled.retryAfterSeconds),
    },
  );
}

export function useApiKeyAuth(guard: RequestGuard, logger: Logger): Plugin {
  return {
    async onRequest({ request, serverContext, endResponse }) {
      try {
        const nodeRequest = (serverContext as { req?: NodeRequestLike }).req;
        const address = guard.clientAddress(nodeRequest);
        const blocked = await guard.addressThrottled(address);
        if (blocked) {
          endResponse(tooManyRequests(request, blocked));
          return;
        }
        const checked = await guard.checkKey(request.headers.get('x-api-key'), address);
        if (checked?.ok === false && checked.code === 'KEY_EXPIRED') {
          endResponse(refusal(request, 401, 'KEY_EXPIRED', 'the API key has expired'));
          return;
        }
        const actor = checked?.ok ? checked.actor : null;
        actors.set(request, actor);
        // A request the REST write fast path handed over was counted there already: once is enough.
        const counted = nodeRequest ? countedKeyRequests.get(nodeRequest) : undefined;
        const throttled =
          counted && actor?.kind === 'apiKey' && counted.keyId === actor.keyId
            ? counted.throttled
            : await guard.keyThrottled(actor);
        if (throttled) endResponse(tooManyRequests(request, throttled));
      } catch (error) {
        endResponse(unexpectedFailure(request, logger, error));
      }
    },
  };
}
