// The change feed: tails the revision log and hands each committed revision to this process's subscribers.
import { Repeater } from 'graphql-yoga';
import type { Revision } from '../config/revision.ts';
import type { ConfigStore } from '../store/config-store.ts';
import type { CommitSignal, CommitSignals } from './commit-signals.ts';

/**
 * One subscriber's revisions of one organisation. Its consumer reads them with next(), or, while it
 * has read all there was and waits for more, may take each live one at once (offerFirst).
 */
export interface RevisionStream extends AsyncIterable<Revision> {
  readonly orgId: string;
  /**
   * Each live revision this stream keeps is first offered to `take` when nothing is queued for
   * next() (the backlog has been read and the consumer has had every revision before). Returning
   * true means `take` has delivered it: it is not queued. Returning false queues it as usual, so
   * the order is the same either way. The fan-out (graphql/shared-events.ts) writes one shared
   * event to thousands of subscribers this way, without an async step for each.
   */
  offerFirst(take: (revision: Revision) => boolean): void;
}

/**
 * Committed revisions, per organisation, in version order, each once. An in-process implementation
 * tails the store's revision log; one over Redis or PostgreSQL can stand behind the same interface.
 */
export interface ChangeEvents {
  /**
   * Every revision of `orgId` above `sinceVersion` (when given), then the live ones, those `accept`
   * keeps. A subscriber that leaves too many unread is ended; it resumes with sinceVersion.
   */
  subscribe(
    orgId: string,
    sinceVersion: number | null,
    accept?: (revision: Revision) => boolean,
  ): RevisionStream;
  /**
   * Awaited before each revision is handed to the subscriptions of its organisation, when
   * `prepare` returns a promise (the fan-out executes its shared results then). Returns an unsubscribe.
   */
  beforeDelivery(prepare: (revision: Revision) => Promise<void> | undefined): () => void;
  /** This process has just committed: read the log now rather than at the next poll. */
  notifyCommitted(): void;
  /** Every committed revision of every organisation, in commit order (for caches). Returns an unsubscribe. */
  watchAll(listener: (revision: Revision) => void): () => void;
  /** Told when API keys may have changed in another process (a key revoked by the CLI, say). */
  watchKeyChanges(listener: () => void): () => void;
  /** Whether commits of other processes reach this one now (for /ready). */
  isConnected(): boolean;
  close(): Promise<void>;
}

type Listener = (revision: Revision) => void;

const batchSize = 500;
/** Events a subscriber may leave unread before its stream is ended (it resumes with sinceVersion). */
const maxUnconsumed = 500;

/**
 * Reads the revision log after the last position it has seen, whenever this process commits or
 * its commit signals say another process did. Since it only ever reads committed rows in commit
 * order, an event cannot exist for a rolled-back change, nor be skipped.
 */
export class RevisionLogTailer implements ChangeEvents {
  private lastSeq = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly allListeners = new Set<Listener>();
  private readonly keyChangeListeners = new Set<() => void>();
  private readonly preparers = new Set<(revision: Revision) => Promise<void> | undefined>();
  /** Ends every open subscription: on shutdown, streams complete instead of being cut. */
  private readonly stops = new Set<() => void>();
  private draining: Promise<void> | null = null;
  private drainRequested = false;
  /** Set when a drain must read the database: another process may have committed (a signal, a retry). */
  private readRequested = true;
  private drainFailed = false;
  private drainFailureReported = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ready: Promise<void>;

  private readonly retryIntervalMs: number;
  private readonly catchUpIntervalMs: number | null;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly store: ConfigStore,
    private readonly signals: CommitSignals,
    options: {
      /** How soon a failed read of the log (the database is away) is tried again. */
      retryIntervalMs?: number;
      /**
       * Read the log this often even without a signal: a process that committed and died before
       * its signal went out (Redis) is caught up with within this time. Null: never.
       */
      catchUpIntervalMs?: number | null;
      onError?: (error: unknown) => void;
    } = {},
  ) {
    this.retryIntervalMs = options.retryIntervalMs ?? 100;
    this.catchUpIntervalMs = options.catchUpIntervalMs ?? null;
    this.onError = options.onError ?? ((error) => console.error('change feed:', error));
    this.ready = this.start();
    this.ready.catch(this.onError);
  }

  /** Listens for signals, then finds where the log ends, trying again while the database cannot say. */
  private async start(): Promise<void> {
    // Signals first: a commit between reading the log's end and listening would otherwise wait for the next one.
    this.signals.start((signal) => this.onSignal(signal));
    for (;;) {
      try {
        this.lastSeq = await this.store.latestRevisionSeq();
        break;
      } catch (error) {
        this.onError(error);
        if (this.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.retryIntervalMs).unref());
      }
    }
    if (this.closed) return;
    let sinceCatchUp = 0;
    this.timer = setInterval(() => {
      sinceCatchUp += this.retryIntervalMs;
      const catchUp = this.catchUpIntervalMs !== null && sinceCatchUp >= this.catchUpIntervalMs;
      if (catchUp) sinceCatchUp = 0;
      // A drain that failed (the database was away) is tried again here, whoever asked for it.
      if (this.drainFailed || catchUp) this.drain({ read: true }).catch(this.reportDrainFailure);
    }, this.retryIntervalMs);
    this.timer.unref();
  }

  private onSignal(signal: CommitSignal): void {
    if (signal !== 'revisions') for (const listener of this.keyChangeListeners) this.safely(() => listener());
    if (signal !== 'keys') this.drain({ read: true }).catch(this.reportDrainFailure);
  }

  isConnected(): boolean {
    return this.signals.isConnected();
  }

  notifyCommitted(): void {
    // Our own commit: the store may have it in memory (other processes' commits come with their own signal).
    this.drain({ read: false }).catch(this.reportDrainFailure);
    this.signals.publish('revisions').catch(this.onError);
  }

  /** Reads and dispatches everything after lastSeq; one drain at a time, run again if asked meanwhile. */
  private drain(options: { read: boolean }): Promise<void> {
    this.drainRequested = true;
    if (options.read) this.readRequested = true;
    if (!this.draining) {
      this.draining = this.drainWhileRequested().finally(() => {
        this.draining = null;
        // Asked between the last check and now: nobody else will.
        if (this.drainRequested) this.drain({ read: false }).catch(this.reportDrainFailure);
      });
    }
    return this.draining;
  }

  /** The first failure of a streak is reported; the retries every interval until the database is back are not. */
  private readonly reportDrainFailure = (error: unknown): void => {
    if (this.drainFailureReported) return;
    this.drainFailureReported = true;
    this.onError(error);
  };

  private async drainWhileRequested(): Promise<void> {
    await this.ready;
    this.drainFailed = true;
    while (this.drainRequested) {
      this.drainRequested = false;
      const read = this.readRequested;
      this.readRequested = false;
      for (;;) {
        const batch =
          (!read && this.store.ownRevisionsAfter?.(this.lastSeq, batchSize)) || (await this.readLog());
        for (const revision of batch) {
          this.lastSeq = revision.seq;
          for (const listener of this.allListeners) this.safely(() => listener(revision));
          const listeners = this.listeners.get(revision.orgId);
          if (!listeners) continue;
          await this.prepare(revision);
          for (const listener of listeners) this.safely(() => listener(revision));
        }
        if (batch.length < batchSize) break;
      }
    }
    this.drainFailed = false;
    this.drainFailureReported = false;
  }

  /** Runs the preparations of a revision; one failing keeps neither the revision nor the others from the subscribers. */
  private async prepare(revision: Revision): Promise<void> {
    if (this.preparers.size === 0) return;
    const preparing: Promise<void>[] = [];
    for (const prepare of this.preparers) {
      try {
        const running = prepare(revision);
        if (running) preparing.push(running.catch(this.onError));
      } catch (error) {
        this.onError(error);
      }
    }
    if (preparing.length > 0) await Promise.all(preparing);
  }

  /** Reads the log after lastSeq; a failure leaves the next drain to read it again. */
  private async readLog(): Promise<Revision[]> {
    try {
      return await this.store.revisionsAfter(this.lastSeq, batchSize);
    } catch (error) {
      this.readRequested = true;
      throw error;
    }
  }

  /** One listener failing must not keep the revision from the others. */
  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.onError(error);
    }
  }

  watchAll(listener: (revision: Revision) => void): () => void {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  }

  beforeDelivery(prepare: (revision: Revision) => Promise<void> | undefined): () => void {
    this.preparers.add(prepare);
    return () => this.preparers.delete(prepare);
  }

  watchKeyChanges(listener: () => void): () => void {
    this.keyChangeListeners.add(listener);
    return () => this.keyChangeListeners.delete(listener);
  }

  subscribe(
    orgId: string,
    sinceVersion: number | null,
    accept: (revision: Revision) => boolean = () => true,
  ): RevisionStream {
    let take: ((revision: Revision) => boolean) | null = null;
    const repeater = new Repeater<Revision>(async (push, stop) => {
      if (this.closed) {
        stop();
        return;
      }
      // Once stopped here, revisions still queued are gone: none may be taken past them.
      let stopped = false;
      const halt = (error?: unknown) => {
        stopped = true;
        stop(error);
      };
      const end = () => halt();
      this.stops.add(end);
      let delivered = sinceVersion ?? 0;
      let replaying = true;
      let unconsumed = 0;
      const pending: Revision[] = [];
      const deliver = (revision: Revision): Promise<unknown> | undefined => {
        if (revision.version <= delivered) return undefined;
        delivered = revision.version;
        if (!accept(revision)) return undefined;
        // Nothing queued, nothing replaying: the consumer may take it at once (offerFirst).
        if (!replaying && !stopped && unconsumed === 0 && take?.(revision)) return undefined;
        if (unconsumed >= maxUnconsumed) {
          // Too far behind to keep up: end the stream; the client resumes with sinceVersion.
          halt();
          return undefined;
        }
        unconsumed += 1;
        return push(revision).then(() => (unconsumed -= 1));
      };
      // Listen before reading the backlog, so nothing committed in between is missed; the
      // version check drops what both deliver.
      const listener: Listener = (revision) => (replaying ? pending.push(revision) : void deliver(revision));
      const listeners = this.listeners.get(orgId) ?? new Set<Listener>();
      this.listeners.set(orgId, listeners.add(listener));
      try {
        await this.ready;
        // The backlog goes page by page, at the pace the subscriber reads it.
        let page =
          sinceVersion === null ? [] : await this.store.revisionsSince(orgId, sinceVersion, batchSize);
        while (page.length > 0) {
          for (const revision of page) await deliver(revision);
          page =
            page.length < batchSize
              ? []
              : await this.store.revisionsSince(orgId, page.at(-1)!.version, batchSize);
        }
        for (const revision of pending.splice(0)) void deliver(revision);
        replaying = false;
        await stop;
      } catch (error) {
        halt(error);
      } finally {
        this.stops.delete(end);
        listeners.delete(listener);
        if (listeners.size === 0 && this.listeners.get(orgId) === listeners) this.listeners.delete(orgId);
      }
    });
    return Object.assign(repeater, {
      orgId,
      offerFirst(offered: (revision: Revision) => boolean) {
        take = offered;
      },
    });
  }

  /** Subscriptions following an organisation in this process (for tests and metrics). */
  subscriberCount(orgId: string): number {
    return this.listeners.get(orgId)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.signals.close();
    for (const stop of this.stops) stop();
    // A drain failing now (the database going away with us) has been reported already.
    await this.draining?.catch(() => undefined);
  }
}
