// The per-key request limit, and the per-address limit of unknown keys, when this process counts
// them alone: a fixed window per key (or address), as
// rate-limiter-flexible's RateLimiterMemory counts it (a window opens at a key's first request and
// lasts `durationMs`), held in one small object per key and counted synchronously (the library makes
// a promise and a result object per request).
//
// Why not RateLimiterMemory itself: every request of every key goes through this check. In a CPU
// profile of reads spread over 10,000 keys (`npm run bench:many-orgs -- --cpu-prof DIR`), its
// consume was the largest cost that grows with the number of keys, about 1 µs of some 30 per read:
// a record per key with a boxed expiry time and a timer, a promise and a result object per request.
// Limits shared by a cluster or in Redis still go through the library (api-key-auth.ts).

import { monotonicMs } from '../monotonic-clock.ts';

interface KeyWindow {
  count: number;
  /** When the window ends, on the monotonic clock (monotonic-clock.ts). */
  endsAt: number;
}

export class KeyWindows {
  private readonly windows = new Map<string, KeyWindow>();
  private nextSweepAt: number;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly now: () => number = monotonicMs,
  ) {
    // A refusal is told by a positive wait: a window of no time would admit everything.
    if (!(durationMs >= 1)) throw new RangeError(`a window lasts at least 1 ms, not ${durationMs}`);
    this.nextSweepAt = now() + durationMs;
  }

  /** Counts one request of the key: 0 while within its limit, else the ms until its window ends. */
  consume(key: string): number {
    const now = this.now();
    // Ended windows of keys not seen since are dropped once a window's time, so memory follows the
    // keys in use, not every key ever seen (the library keeps a timer per key for this; a timer of
    // our own would outlive a gateway that is closed).
    if (now >= this.nextSweepAt) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + this.durationMs };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count > this.points ? window.endsAt - now : 0;
  }

  /** The ms until the key's window ends once its count has reached the limit, else 0; counts nothing. */
  exhausted(key: string): number {
    const window = this.windows.get(key);
    if (!window || window.count < this.points) return 0;
    return Math.max(0, window.endsAt - this.now());
  }

  /** Keys with a window held. */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    this.nextSweepAt = now + this.durationMs;
  }
}
