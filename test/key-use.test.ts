// Last use of keys (auth/key-use.ts): remembered in memory, written in bounded batches, never once per request.
import { describe, expect, it } from 'vitest';
import { KeyUseRecorder } from '../src/auth/key-use.ts';
import type { ConfigStore } from '../src/store/config-store.ts';

function countingStore() {
  const batches: Map<string, Date>[] = [];
  const store = {
    recordKeyUse: async (uses: ReadonlyMap<string, Date>) => void batches.push(new Map(uses)),
  } as unknown as ConfigStore;
  return { store, batches };
}

describe('KeyUseRecorder', () => {
  it('writes many uses of a key as one entry of one batch, with the last time', async () => {
    const { store, batches } = countingStore();
    let now = 1_000;
    const recorder = new KeyUseRecorder(store, { now: () => now });
    for (let request = 0; request < 10_000; request++) {
      now += 1;
      recorder.saw('key_a');
    }
    recorder.saw('key_b');
    expect(batches).toHaveLength(0);
    await recorder.close();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual(
      new Map([
        ['key_a', new Date(11_000)],
        ['key_b', new Date(11_000)],
      ]),
    );
  });

  it('writes early once it holds maxPending keys: its memory is bounded', async () => {
    const { store, batches } = countingStore();
    const recorder = new KeyUseRecorder(store, { maxPending: 3 });
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) recorder.saw(key);
    await recorder.flush();
    expect(batches.map((batch) => batch.size)).toEqual([3, 3, 1]);
    await recorder.close();
  });
});
