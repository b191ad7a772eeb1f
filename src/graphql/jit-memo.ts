// graphql-jit memoizes helpers of its compiler with lodash.memoize, whose cache keeps every key and
// result for ever. One of them (joinOriginPaths) is keyed by an array made afresh for each field of
// each compilation: every query compiled left its arrays and strings behind for good, however soon
// the compiled query itself was let go of (a client sending endless distinct operations grew the
// heap without end). This bounds every such cache: each is a Map cleared whole once it holds
// maxEntries (the helpers are pure, so a cleared entry is only computed again). lodash gives a
// memoized function its cache when it is made, at graphql-jit's loading: every module that imports
// graphql-jit or @envelop/graphql-jit imports this module first.
import memoize from 'lodash.memoize';

const maxEntries = 10_000;

class BoundedMemoCache {
  private readonly entries = new Map<unknown, unknown>();

  get(key: unknown): unknown {
    return this.entries.get(key);
  }

  has(key: unknown): boolean {
    return this.entries.has(key);
  }

  set(key: unknown, value: unknown): this {
    if (this.entries.size >= maxEntries) this.entries.clear();
    this.entries.set(key, value);
    return this;
  }

  delete(key: unknown): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

memoize.Cache = BoundedMemoCache;

/** The cache a function memoized from now on gets (for the test of this bound). */
export const memoCacheOf = (fn: (key: object) => unknown) => memoize(fn).cache;
