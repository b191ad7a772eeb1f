// When each key was last used, for `key list`: remembered in memory and written in batches, so a
// request never costs a write of its own.
import type { ConfigStore } from '../store/config-store.ts';

export interface KeyUseOptions {
  /** How often the batch is written (default 60 s): `key list` is behind by at most this much. */
  readonly flushMs?: number;
  /** Keys remembered before the batch is written early (default 10,000: well under 2 MB). */
  readonly maxPending?: number;
  readonly now?: () => number;
}

export class KeyUseRecorder {
  /** Key id -> the last time it was used (ms), since the last write. */
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxPending: number;
  private readonly now: () => number;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ConfigStore,
    options: KeyUseOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 10_000;
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 60_000);
    this.timer.unref();
  }

  /** One use of the key, now. */
  saw(keyId: string): void {
    this.pending.set(keyId, this.now());
    if (this.pending.size >= this.maxPending) void this.flush();
  }

  /** Writes what was seen since the last write, in one store call; failures are dropped (it is a hint). */
  flush(): Promise<void> {
    if (this.pending.size === 0) return this.writing;
    const batch = new Map([...this.pending].map(([id, at]) => [id, new Date(at)]));
    this.pending = new Map();
    this.writing = this.writing.then(() => this.store.recordKeyUse(batch).catch(() => undefined));
    return this.writing;
  }

  /** Writes the last batch and stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
