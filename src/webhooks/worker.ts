// The webhook delivery worker: leases due endpoints and sends each its organisation's committed revisions, in version order, from its cursor.
import { randomBytes } from 'node:crypto';
import { touches } from '../config/followed-fields.ts';
import type { Revision } from '../config/revision.ts';
import type { ChangeEvents } from '../events/change-feed.ts';
import type { ConfigStore } from '../store/config-store.ts';
import { defaultRetrySchedule, type RetrySchedule, retryDelayMs } from './backoff.ts';
import { attemptDelivery, type DeliveryDeps, type DeliveryEvent } from './delivery.ts';
import type { WebhookRecord, WebhookStore } from './webhook-store.ts';

export interface WebhookWorkerOptions extends Omit<DeliveryDeps, 'store' | 'onAttempt'> {
  readonly retry?: RetrySchedule;
  /** Endpoints this process delivers to at once (each one's changes go one after the other). */
  readonly concurrency?: number;
  /** How often due endpoints are looked for without a change (retries, other processes' leases run out). */
  readonly pollIntervalMs?: number;
  /** How long a claim keeps other processes off an endpoint; renewed at each change delivered. */
  readonly leaseMs?: number;
  /** How long the delivery log keeps an attempt. */
  readonly logRetentionMs?: number;
  readonly random?: () => number;
  readonly onError?: (error: unknown) => void;
  /** Told of every attempt and every endpoint disabled: where metrics count deliveries. */
  readonly onEvent?: (event: WebhookWorkerEvent) => void;
}

export type WebhookWorkerEvent =
  | ({ readonly type: 'attempt' } & DeliveryEvent)
  | { readonly type: 'disabled'; readonly webhookId: string; readonly orgId: string };

/** Counts since the worker started, for a metrics registry to read. */
export interface WebhookCounters {
  delivered: number;
  failed: number;
  refused: number;
  disabled: number;
}

const revisionPage = 100;

export class WebhookWorker {
  /** This process's name on the leases it holds: unique per worker, so a restarted process never thinks it holds an old lease. */
  readonly owner = `worker_${randomBytes(6).toString('hex')}`;
  readonly counters: WebhookCounters = { delivered: 0, failed: 0, refused: 0, disabled: 0 };
  private readonly active = new Map<string, Promise<void>>();
  private readonly retry: RetrySchedule;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly logRetentionMs: number;
  private readonly deliveryDeps: DeliveryDeps;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly revisions: Pick<ConfigStore, 'revisionsSince'>,
    private readonly options: WebhookWorkerOptions,
  ) {
    this.retry = options.retry ?? defaultRetrySchedule;
    this.concurrency = options.concurrency ?? 32;
    const timeoutMs = options.limits?.timeoutMs ?? 10_000;
    // Longer than an attempt can take, so a lease does not run out while its holder waits for an answer.
    this.leaseMs = Math.max(options.leaseMs ?? 60_000, timeoutMs * 3);
    this.logRetentionMs = options.logRetentionMs ?? 7 * 24 * 3_600_000;
    this.deliveryDeps = { ...options, store, onAttempt: (event) => this.count(event) };
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Starts: every committed revision (of this process or, through the change feed's signals, of others) wakes it, and so does a timer. */
  start(events?: ChangeEvents): this {
    this.unwatch = events?.watchAll(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 1_000);
    this.timer.unref();
    this.wake();
    return this;
  }

  /** Looks for due endpoints now. */
  wake(): void {
    if (this.closed) return;
    this.claimAgain = true;
    if (this.claiming) return;
    this.claiming = this.claimWhileAsked()
      .catch((error) => this.reportError(error))
      .finally(() => {
        this.claiming = null;
        if (this.claimAgain) this.wake();
      });
  }

  private async claimWhileAsked(): Promise<void> {
    while (this.claimAgain && !this.closed) {
      this.claimAgain = false;
      await this.prune();
      const free = this.concurrency - this.active.size;
      if (free <= 0) return;
      const now = this.now();
      const claimed = await this.store.claimDue(this.owner, now, this.leaseUntil(now), free);
      for (const webhook of claimed) {
        const running = this.deliverInOrder(webhook)
          .catch((error) => {
            this.reportError(error);
            // The database failed us midway: let another try (or this one, at its next claim).
            return this.store.release(webhook.id, this.owner).catch(() => undefined);
          })
          .finally(() => {
            this.active.delete(webhook.id);
            // Claimed again in batches, once half the slots are free: a claim per finished endpoint
            // would read the due endpoints a thousand times for one change to a thousand of them.
            if (this.active.size <= this.concurrency / 2) this.wake();
          });
        this.active.set(webhook.id, running);
      }
      // As many as asked for: more may be due.
      if (claimed.length === free) this.claimAgain = true;
    }
  }

  private leaseUntil(now: Date): Date {
    return new Date(now.getTime() + this.leaseMs);
  }

  /**
   * Sends the endpoint's changes after its cursor, one after the other, while it holds the lease.
   * The cursor moves only after a change is delivered (or filtered out), so a crash at any point
   * sends that change again, never skips it. A failure stops the run until its retry is due.
   */
  private async deliverInOrder(claimed: WebhookRecord): Promise<void> {
    let webhook = claimed;
    let cursor = webhook.cursorVersion;
    for (;;) {
      if (this.closed) return this.store.release(webhook.id, this.owner);
      const page = await this.revisions.revisionsSince(webhook.orgId, cursor, revisionPage);
      if (page.length === 0) return this.store.release(webhook.id, this.owner);
      // Changes the endpoint does not follow are passed over in one step, before the next one it follows.
      let skipTo = cursor;
      for (const revision of page) {
        if (webhook.fields.length > 0 && !touches(revision, webhook.fields)) {
          skipTo = revision.version;
          continue;
        }
        if (skipTo > cursor) {
          const moved = await this.advance(webhook, cursor, skipTo);
          if (!moved) return;
          webhook = moved;
          cursor = skipTo;
        }
        if (this.closed) return this.store.release(webhook.id, this.owner);
        const delivered = await this.attempt(webhook, revision);
        if (!delivered) return;
        const moved = await this.advance(webhook, cursor, revision.version);
        if (!moved) return;
        webhook = moved;
        cursor = revision.version;
        skipTo = cursor;
      }
      if (skipTo > cursor) {
        const moved = await this.advance(webhook, cursor, skipTo);
        if (!moved) return;
        webhook = moved;
        cursor = skipTo;
      }
      // A short page was the end of the log as read: let go rather than read it again. A change
      // committed meanwhile leaves the cursor behind the organisation's version, so the next claim
      // (woken by that change, or at the latest by the timer) takes the endpoint up again.
      if (page.length < revisionPage) return this.store.release(webhook.id, this.owner);
    }
  }

  /** Moves the cursor under the lease; undefined (stop) when the lease was lost, the endpoint deleted or disabled. */
  private async advance(
    webhook: WebhookRecord,
    from: number,
    to: number,
  ): Promise<WebhookRecord | undefined> {
    const moved = await this.store.advance(webhook.id, this.owner, from, to, this.leaseUntil(this.now()));
    if (moved && !moved.enabled) {
      await this.store.release(webhook.id, this.owner);
      return undefined;
    }
    return moved;
  }

  /** One attempt; on failure, the retry is scheduled (or the endpoint disabled) and the lease let go. */
  private async attempt(webhook: WebhookRecord, revision: Revision): Promise<boolean> {
    const failures = webhook.failures;
    const logged = await attemptDelivery(this.deliveryDeps, webhook, revision, {
      attempt: failures + 1,
      manual: false,
    });
    if (logged.delivered) return true;
    const now = this.now();
    const failed = failures + 1;
    const giveUp = failed >= this.retry.maxAttempts;
    const reason = `${failed} failed attempts at version ${revision.version}; the last: ${logged.error ?? `HTTP ${logged.status}`}`;
    const recorded = await this.store.fail(webhook.id, this.owner, {
      failures: failed,
      nextAttemptAt: new Date(
        now.getTime() + retryDelayMs(failed, this.retry, (this.options.random ?? Math.random)()),
      ),
      disable: giveUp ? { reason, at: now } : null,
    });
    if (recorded && giveUp) {
      this.counters.disabled += 1;
      this.options.onEvent?.({ type: 'disabled', webhookId: webhook.id, orgId: webhook.orgId });
    }
    return false;
  }

  private count(event: DeliveryEvent): void {
    this.counters[event.kind] += 1;
    this.options.onEvent?.({ type: 'attempt', ...event });
  }

  /** Drops log entries past their retention, at most once a minute. */
  private async prune(): Promise<void> {
    const now = this.now().getTime();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    await this.store.pruneAttempts(new Date(now - this.logRetentionMs));
  }

  private reportError(error: unknown): void {
    (this.options.onError ?? ((e) => console.error('webhooks:', e)))(error);
  }

  /** Endpoints being delivered to by this process now (for tests). */
  activeCount(): number {
    return this.active.size;
  }

  /**
   * Stops claiming, lets the attempts in flight finish (each within its time-out) and their leases
   * go, so another process can take the endpoints over at once.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.unwatch?.();
    await this.claiming;
    await Promise.all(this.active.values());
  }
}
