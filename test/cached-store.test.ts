// The key cache: a key is remembered for a while, then read again from the database, where a change
// made past this process (a revocation by another one) shows.
import { afterEach, expect, it, vi } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import { createApiKey, hashApiKey } from '../src/auth/api-keys.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { CachedConfigStore } from '../src/store/cached-store.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { tempDir } from './helpers.ts';

afterEach(() => vi.useRealTimers());

it('reads a key again once its time is up, keeping the record it holds while the key is unchanged', async () => {
  const dir = tempDir();
  const inner = openSqliteStore(`${dir.path}/keys.db`);
  try {
    await new ConfigService(inner).createOrg(operator, 'acme', exampleSettings());
    const { key, record: created } = await createApiKey(inner, 'acme', 'admin');
    const cache = new CachedConfigStore(inner);
    const reads = vi.spyOn(inner, 'findApiKeyByHash');
    vi.useFakeTimers({ toFake: ['performance'] });

    const first = await cache.findApiKeyByHash(hashApiKey(key));
    expect(first?.id).toBe(created.id);
    expect(cache.peekApiKey(hashApiKey(key))).toBe(first);
    vi.advanceTimersByTime(29_000);
    expect(await cache.findApiKeyByHash(hashApiKey(key))).toBe(first);
    expect(reads).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(2_000);
    expect(cache.peekApiKey(hashApiKey(key))).toBeUndefined();
    // Read again, and unchanged: the same record object, not an equal copy.
    expect(await cache.findApiKeyByHash(hashApiKey(key))).toBe(first);
    expect(reads).toHaveBeenCalledTimes(2);

    // Revoked past the cache (as another process would): it holds until its time is up, then is gone.
    await inner.revokeApiKey(created.id);
    expect(await cache.findApiKeyByHash(hashApiKey(key))).toBe(first);
    vi.advanceTimersByTime(31_000);
    expect(await cache.findApiKeyByHash(hashApiKey(key))).toBeUndefined();
    expect(cache.peekApiKey(hashApiKey(key))).toBeUndefined();
  } finally {
    await inner.close();
    dir.remove();
  }
});
