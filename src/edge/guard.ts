// The edge's rate limits and key lookup: per API key, and per client address for requests with
// unknown keys, counted in this process, by the cluster's primary, or in Redis.
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Actor } from '../auth/actor.ts';
import { actorOfKey, hashApiKey, isExpired } from '../auth/api-keys.ts';
import type { KeyUseRecorder } from '../auth/key-use.ts';
import { redeemStreamTicket, type TicketRefusalCode } from '../auth/stream-tickets.ts';
import type { RateLimits } from '../settings.ts';
import type { ApiKeyRecord, ConfigStore } from '../store/config-store.ts';
import { KeyWindows } from './key-windows.ts';

/** Who sent a request: the key's record (for memories kept per key) and its actor; both null without a known key. */
export interface Authenticated {
  readonly record: ApiKeyRecord | null;
  readonly actor: Actor | null;
  /** A known key whose expiry has passed: refused with KEY_EXPIRED rather than as unknown. */
  readonly expired?: boolean;
}

const anonymous: Authenticated = { record: null, actor: null };

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
  /**
   * Counted in this process alone (KeyWindows, checked without a promise: every request passes both),
   * by the cluster's primary, or in Redis (the library).
   */
  private readonly perKey: KeyWindows | RateLimiterAbstract;
  private readonly failedAuth: KeyWindows | RateLimiterAbstract;

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
    const failedAuth = { points: options.limits.failedAuthPerMinute, duration: 60, blockDuration: 60 };
    const alone = !options.acrossWorkers && !options.shared;
    this.perKey = alone
      ? new KeyWindows(perKey.points, perKey.duration * 1000)
      : limiter('per-key', perKey, options);
    this.failedAuth = alone
      ? new KeyWindows(failedAuth.points, failedAuth.duration * 1000)
      : limiter('failed-auth', failedAuth, options);
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

  /**
   * Set when this address sent too many unknown keys lately: it is refused whatever it sends. At once
   * when this process counts alone.
   */
  addressThrottled(address: string): Throttled | null | Promise<Throttled | null> {
    const { failedAuth } = this;
    if (failedAuth instanceof KeyWindows) {
      const msBeforeNext = failedAuth.exhausted(address);
      return msBeforeNext === 0 ? null : addressBlocked(msBeforeNext);
    }
    return failedAuth.get(address).then((failures) => {
      if (!failures || failures.consumedPoints < this.options.limits.failedAuthPerMinute) return null;
      return addressBlocked(failures.msBeforeNext);
    });
  }

  /** Counts an unknown key or ticket against its address. */
  private async failed(address: string): Promise<void> {
    if (this.failedAuth instanceof KeyWindows) this.failedAuth.consume(address);
    else await this.failedAuth.consume(address).catch(() => undefined);
  }

  /** What authenticate answers, when it needs no lookup: no key, or one the key cache holds; else undefined. */
  authenticatedFromCache(key: string | null | undefined): Authenticated | undefined {
    if (!key) return anonymous;
    const keyHash = hashApiKey(key.trim());
    const record = this.options.store.peekApiKey?.(keyHash);
    return record ? checked(record, keyHash) : undefined;
  }

  /**
   * The record and actor of a key; an unknown key counts against its address. An expired key has
   * its record but no actor, and `expired` set (KEY_EXPIRED), checked now against the stored expiry.
   */
  async authenticate(key: string | null | undefined, address: string): Promise<Authenticated> {
    if (!key) return anonymous;
    const keyHash = hashApiKey(key.trim());
    const record = await this.options.store.findApiKeyByHash(keyHash);
    if (record) return checked(record, keyHash);
    await this.failed(address);
    return anonymous;
  }

  /**
   * The actor of a stream ticket, spending it, or why it is refused; an unknown ticket counts
   * against its address, as an unknown key does.
   */
  async redeemTicket(
    ticket: string,
    address: string,
  ): Promise<Authenticated | { readonly code: TicketRefusalCode; readonly message: string }> {
    const check = await redeemStreamTicket(this.options.store, ticket, Date.now());
    if (check.ok) return { record: check.record, actor: check.actor };
    if (check.code === 'TICKET_UNKNOWN') await this.failed(address);
    return check;
  }

  /** Counts one request of the actor's key; set when the key is over its limit. At once when this process counts alone. */
  keyThrottled(actor: Actor | null): Throttled | null | Promise<Throttled | null> {
    if (actor?.kind !== 'apiKey') return null;
    this.options.keyUse?.saw(actor.keyId);
    const { perKey } = this;
    if (perKey instanceof KeyWindows) {
      const msBeforeNext = perKey.consume(actor.keyId);
      return msBeforeNext === 0 ? null : keyLimitReached(msBeforeNext);
    }
    return perKey.consume(actor.keyId).then(
      () => null,
      (limited: unknown) => {
        if (!(limited instanceof RateLimiterRes)) throw limited;
        return keyLimitReached(limited.msBeforeNext);
      },
    );
  }
}

const addressBlocked = (msBeforeNext: number): Throttled => ({
  retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  reason: 'too many requests with unknown API keys from this address',
});

const keyLimitReached = (msBeforeNext: number): Throttled => ({
  retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  reason: 'too many requests with this API key',
});

/** A known key's record and actor, unless it has expired (its stored expiry checked now). */
function checked(record: ApiKeyRecord, keyHash: string): Authenticated {
  if (isExpired(record, Date.now())) return { record: null, actor: null, expired: true };
  return { record, actor: actorOfKey(record, keyHash) };
}
