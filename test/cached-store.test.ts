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

it('keeps one slot per organisation: a newer revision from the change feed replaces what it holds, an older one does not', async () => {
  const dir = tempDir();
  const inner = openSqliteStore(`${dir.path}/configs.db`);
  try {
    const service = new ConfigService(inner);
    await service.createOrg(operator, 'acme', exampleSettings());
    const cache = new CachedConfigStore(inner);
    const first = await cache.getConfig('acme');
    const slot = cache.peekConfigSlot('acme')!;
    expect(slot.current).toBe(first);

    // Committed past the cache (as another process would), then delivered by the change feed.
    await service.update(operator, { orgId: 'acme', patch: { branding: { color: '#123456' } }, door: 'cli' });
    const [newest, oldest] = [
      (await inner.listRevisions('acme', { limit: 1 }))[0]!,
      (await inner.revisionsSince('acme', 0, 1))[0]!,
    ];
    cache.applyRevision(newest);
    expect(cache.peekConfigSlot('acme')).toBe(slot);
    expect(slot.current).not.toBe(first);
    expect(slot.current.version).toBe(2);
    const current = slot.current;
    cache.applyRevision(oldest);
    expect(slot.current).toBe(current);
  } finally {
    await inner.close();
    dir.remove();
  }
});
