// The per-organisation CORS decision (auth/origin-policy.ts): a pure function, tested alone.
import { describe, expect, it } from 'vitest';
import { originDecision } from '../src/auth/origin-policy.ts';

describe('originDecision', () => {
  const list = ['https://allowed.example', 'http://localhost:8080'];

  it('allows exactly the listed origins, echoing the one asked', () => {
    expect(originDecision(list, 'https://allowed.example')).toEqual({
      kind: 'allowed',
      allowOrigin: 'https://allowed.example',
    });
    expect(originDecision(list, 'http://localhost:8080')).toMatchObject({ kind: 'allowed' });
  });

  it('denies other origins, look-alikes included', () => {
    for (const origin of [
      'https://evil.example',
      'http://allowed.example',
      'https://allowed.example.evil.example',
      'https://sub.allowed.example',
      'http://localhost:8081',
      'https://allowed.example/path',
      'https://allowed.example, https://evil.example',
      '',
      'null',
      'not an origin',
    ])
      expect(originDecision(list, origin), origin).toEqual({ kind: 'denied' });
  });

  it('compares origins as browsers serialise them (case, default port)', () => {
    expect(originDecision(list, 'https://ALLOWED.example:443')).toMatchObject({ kind: 'allowed' });
    expect(originDecision(['https://a.example'], 'https://a.example:8443')).toEqual({ kind: 'denied' });
  });

  it('"*" allows any origin, "null" included; an empty list allows none', () => {
    expect(originDecision(['*'], 'https://evil.example')).toEqual({
      kind: 'allowed',
      allowOrigin: 'https://evil.example',
    });
    expect(originDecision(['*'], 'null')).toEqual({ kind: 'allowed', allowOrigin: 'null' });
    expect(originDecision([], 'https://allowed.example')).toEqual({ kind: 'denied' });
  });

  it('does not refuse a request without Origin (not a browser)', () => {
    expect(originDecision([], undefined)).toEqual({ kind: 'no-origin' });
    expect(originDecision(list, null)).toEqual({ kind: 'no-origin' });
  });
});
