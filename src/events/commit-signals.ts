// How a process learns that the database has new commits: the wake-up calls of the change feed.

/**
 * What a signal tells the change feed. `revisions`: read the revision log. `keys`: API keys may have
 * changed (revoked, say). `unknown`: anything may have been committed, or signals were lost while
 * disconnected; read the log and forget the cached keys.
 */
export type CommitSignal = 'revisions' | 'keys' | 'unknown';

/**
 * A source of commit signals. The log itself is the truth: a signal only says when to read it, so a
 * lost or repeated signal costs a read, never an event.
 */
export interface CommitSignals {
  /** Starts delivering signals to `listener`; an `unknown` signal follows each (re)connection. */
  start(listener: (signal: CommitSignal) => void): void;
  /** Tells the other processes that this one committed (for sources the database does not feed itself). */
  publish(signal: CommitSignal): Promise<void>;
  /** Whether signals can currently arrive (for /ready). */
  isConnected(): boolean;
  close(): Promise<void>;
}

/**
 * SQLite: PRAGMA data_version changes when another connection commits to the file, so polling it
 * notices the CLI or a second process. It cannot tell what was committed.
 */
export class DataVersionPoll implements CommitSignals {
  private timer: NodeJS.Timeout | undefined;
  private last: number | undefined;

  constructor(
    private readonly dataVersion: () => number,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(listener: (signal: CommitSignal) => void): void {
    try {
      this.last = this.dataVersion();
    } catch (error) {
      this.onError(error);
    }
    this.timer = setInterval(() => {
      try {
        const current = this.dataVersion();
        if (this.last !== undefined && current !== this.last) listener('unknown');
        this.last = current;
      } catch (error) {
        this.onError(error);
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  async publish(): Promise<void> {
    // Other processes learn from data_version; nothing to send.
  }

  isConnected(): boolean {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }
}
