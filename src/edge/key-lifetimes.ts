// The edge's step 12: a stream lives no longer than its key. It ends at the key's expiry, and when
// a check of the key finds it revoked or expired (its expiry brought forward by a rotation): at
// every signal that keys changed (another process revoked one) and every `recheckMs` besides, for
// where no signal reaches this process (SQLite, with the CLI in another process).
import type { Actor } from '../auth/actor.ts';

/** Longest a timer may wait (setTimeout's limit); a later expiry is found by a recheck instead. */
const maxTimerMs = 2 ** 31 - 1;

type ApiKeyActor = Extract<Actor, { kind: 'apiKey' }>;

interface Watched {
  readonly actor: ApiKeyActor;
  /** The end of each stream of this key. */
  readonly ends: Set<() => void>;
}

export class KeyLifetimes {
  /** The streams held, by key hash: one entry per key, whatever its streams. */
  private readonly byKey = new Map<string, Watched>();
  private interval: NodeJS.Timeout | undefined;
  private checking: Promise<void> | null = null;

  constructor(
    /** Whether the key is still valid now, read from the store (not the actor's copy). */
    private readonly stillValid: (actor: ApiKeyActor) => Promise<boolean>,
    private readonly clock: () => number = Date.now,
    readonly recheckMs = 30_000,
  ) {}

  /** Ends a stream (calls `end`, once) when the actor's key stops; answers the function that stops watching. */
  watch(actor: Actor | null, end: () => void): () => void {
    if (actor?.kind !== 'apiKey') return () => undefined;
    let ended = false;
    const endOnce = () => {
      if (ended) return;
      ended = true;
      stop();
      end();
    };
    let watched = this.byKey.get(actor.keyHash);
    if (!watched) this.byKey.set(actor.keyHash, (watched = { actor, ends: new Set() }));
    watched.ends.add(endOnce);
    const untilExpiry = actor.expiresAt === null ? null : actor.expiresAt.getTime() - this.clock();
    const timer =
      untilExpiry !== null && untilExpiry < maxTimerMs
        ? setTimeout(endOnce, Math.max(0, untilExpiry)).unref()
        : undefined;
    this.interval ??= setInterval(() => void this.recheck(), this.recheckMs).unref();
    const stop = () => {
      clearTimeout(timer);
      const current = this.byKey.get(actor.keyHash);
      if (!current?.ends.delete(endOnce) || current.ends.size > 0) return;
      this.byKey.delete(actor.keyHash);
      if (this.byKey.size === 0) {
        clearInterval(this.interval);
        this.interval = undefined;
      }
    };
    return stop;
  }

  /** Checks every watched key once (one check at a time), ending the streams of those no longer valid. */
  recheck(): Promise<void> {
    this.checking ??= (async () => {
      try {
        for (const watched of [...this.byKey.values()]) {
          const valid = await this.stillValid(watched.actor).catch(() => true);
          if (!valid) for (const end of [...watched.ends]) end();
        }
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  /** Keys watched now (for tests). */
  get keys(): number {
    return this.byKey.size;
  }
}
