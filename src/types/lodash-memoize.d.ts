// lodash.memoize, as graphql-jit uses it (src/graphql/jit-memo.ts bounds its caches).
declare module 'lodash.memoize' {
  interface MemoCache {
    get(key: unknown): unknown;
    has(key: unknown): boolean;
    set(key: unknown, value: unknown): MemoCache;
    delete(key: unknown): boolean;
    clear(): void;
  }
  interface Memoize {
    // biome-ignore lint/suspicious/noExplicitAny: any function, as lodash takes it
    <F extends (...args: any[]) => unknown>(
      func: F,
      resolver?: (...args: Parameters<F>) => unknown,
    ): F & {
      cache: MemoCache;
    };
    /** The cache class each memoized function gets when it is made. */
    Cache: new () => MemoCache;
  }
  const memoize: Memoize;
  export default memoize;
}
