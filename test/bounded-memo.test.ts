// The memory of hot-path results (bounded-memo.ts) holds what it may and no more, whatever the
// arguments a client sends; and remembering changes no answer.
import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/api-keys.ts';
import { originDecision, requestOrigins } from '../src/auth/origin-policy.ts';
import { BoundedMemo } from '../src/bounded-memo.ts';

describe('BoundedMemo', () => {
  it('computes each argument once while it is held', () => {
    let calls = 0;
    const memo = new BoundedMemo(
      (text) => {
        calls++;
        return text.length;
      },
      10,
      20,
    );
    expect([memo.of('abc'), memo.of('abc'), memo.of('de')]).toEqual([3, 3, 2]);
    expect(calls).toBe(2);
  });

  it('holds at most its capacity against endless distinct arguments, and no argument over its longest', () => {
    const memo = new BoundedMemo((text) => text.toUpperCase(), 100, 20);
    for (let i = 0; i < 10_000; i++) {
      expect(memo.of(`variant-${i}`)).toBe(`VARIANT-${i}`);
      expect(memo.size).toBeLessThanOrEqual(100);
    }
    const before = memo.size;
    expect(memo.of('x'.repeat(21))).toBe('X'.repeat(21));
    expect(memo.size).toBe(before);
  });

  it('keeps request origins within its bound, deciding as the URL parser does', () => {
    const list = ['https://allowed.example'];
    for (let i = 0; i < 5_000; i++) {
      expect(originDecision(list, `https://host-${i}.example`)).toEqual({ kind: 'denied' });
      expect(originDecision(['*'], `https://HOST-${i}.example:443`)).toMatchObject({ kind: 'allowed' });
    }
    expect(requestOrigins.size).toBeLessThanOrEqual(requestOrigins.capacity);
    // Remembered or not, the same origin gets the same decision.
    for (let round = 0; round < 2; round++)
      expect(originDecision(list, 'https://ALLOWED.example:443')).toEqual({
        kind: 'allowed',
        allowOrigin: 'https://ALLOWED.example:443',
      });
  });

  it('hashes a publishable key as it hashes any key, remembered or not', () => {
    const key = 'pk_abcdefghijklmnopqrstuvwxyz012345';
    for (let round = 0; round < 2; round++) expect(hashApiKey(key)).toBe(hash('sha256', key, 'hex'));
    expect(hashApiKey('a-secret')).toBe(hash('sha256', 'a-secret', 'hex'));
  });
});
