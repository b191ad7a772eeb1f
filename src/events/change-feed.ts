// The change feed: tails the revision log and hands each committed revision to this process's subscribers.
import { Repeater } from 'graphql-yoga';
import type { Revision } from '../config/revision.ts';
import type { ConfigStore } from '../store/config-store.ts';

/**
 * Committed revisions, per organisation, in version order, each once. An in-process implementation
 * tails the store's revision log; one over Redis or PostgreSQL can stand behind the same interface.
 */
export interface ChangeEvents {
  /** Every revision of `orgId` above `sinceVersion` (when given), then the live ones. */
  subscribe(orgId: string, sinceVersion: number | null): AsyncIterable<Revision>;
  /** This process has just committed: read the log now rather than at the next poll. */
  notifyCommitted(): void;
  /** Every committed revision of every organisation, in commit order (for caches). Returns an unsubscribe. */
  watchAll(listener: (revision: Revision) => void): () => void;
  /** Told whenever another process has committed anything (a key revoked by the CLI, say). */
  watchForeignCommits(listener: () => void): () => void;
  close(): Promise<void>;
}

type Listener = (revision: Revision) => void;

const batchSize = 500;

/**
 * Reads the revision log after the last position it has seen, whenever this process commits or
 * the store says another process did (polled every `pollIntervalMs`). Since it only ever reads
 * committed rows in commit order, an event cannot exist for a rolled-back change, nor be skipped.
 */
export class RevisionLogTailer implements ChangeEvents {
  private lastSeq = 0;
  private marker = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly allListeners = new Set<Listener>();
  private readonly foreignCommitListeners = new Set<() => void>();
  /** Ends every open subscription: on shutdown, streams complete instead of being cut. */
  private readonly stops = new Set<() => void>();
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ready: Promise<void>;

  private readonly pollIntervalMs: number;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly store: ConfigStore,
    options: {
      pollIntervalMs?: number;
      /** A failed read of the log (the database is away): reported, and retried at the next poll. */
      onError?: (error: unknown) => void;
    } = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.onError = options.onError ?? ((error) => console.error('change feed:', error));
    this.ready = this.start();
    this.ready.catch(this.onError);
  }

  private async start(): Promise<void> {
    this.lastSeq = await this.store.latestRevisionSeq();
    this.marker = await this.store.externalCommitMarker();
    this.timer = setInterval(() => void this.checkForeignCommits().catch(this.onError), this.pollIntervalMs);
    this.timer.unref();
  }

  private async checkForeignCommits(): Promise<void> {
    const marker = await this.store.externalCommitMarker();
    if (marker === this.marker) return;
    this.marker = marker;
    for (const listener of this.foreignCommitListeners) listener();
    await this.drain();
  }

  notifyCommitted(): void {
    this.drain().catch(this.onError);
  }

  /** Reads and dispatches everything after lastSeq; one drain at a time, repeated if asked meanwhile. */
  private drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      await this.ready;
      do {
        this.drainAgain = false;
        for (;;) {
          const batch = await this.store.revisionsAfter(this.lastSeq, batchSize);
          for (const revision of batch) {
            this.lastSeq = revision.seq;
            for (const listener of this.allListeners) listener(revision);
            for (const listener of this.listeners.get(revision.orgId) ?? []) listener(revision);
          }
          if (batch.length < batchSize) break;
        }
      } while (this.drainAgain);
    })().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  watchAll(listener: (revision: Revision) => void): () => void {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  }

  watchForeignCommits(listener: () => void): () => void {
    this.foreignCommitListeners.add(listener);
    return () => this.foreignCommitListeners.delete(listener);
  }

  subscribe(orgId: string, sinceVersion: number | null): AsyncIterable<Revision> {
    return new Repeater<Revision>(async (push, stop) => {
      const end = () => stop();
      this.stops.add(end);
      await this.ready;
      let delivered = sinceVersion ?? 0;
      let replaying = true;
      const pending: Revision[] = [];
      const deliver = (revision: Revision) => {
        if (revision.version <= delivered) return;
        delivered = revision.version;
        void push(revision);
      };
      // Listen before reading the backlog, so nothing committed in between is missed; the
      // version check drops what both deliver.
      const listener: Listener = (revision) => (replaying ? pending.push(revision) : deliver(revision));
      const listeners = this.listeners.get(orgId) ?? new Set<Listener>();
      this.listeners.set(orgId, listeners.add(listener));
      try {
        if (sinceVersion !== null) for (const revision of await this.store.revisionsSince(orgId, sinceVersion)) deliver(revision);
        pending.forEach(deliver);
        replaying = false;
        await stop;
      } catch (error) {
        stop(error);
      } finally {
        this.stops.delete(end);
        listeners.delete(listener);
        if (listeners.size === 0 && this.listeners.get(orgId) === listeners) this.listeners.delete(orgId);
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const stop of this.stops) stop();
    await this.draining;
  }
}
