// The request id of the edge's step 1: the client's when sane, else a new random one.
import { describe, expect, it } from 'vitest';
import { requestIdFrom } from '../src/edge/request-log.ts';

describe('requestIdFrom', () => {
  it('keeps a sane x-request-id', () => {
    expect(requestIdFrom('checkout-42.retry:1')).toBe('checkout-42.retry:1');
  });

  it('makes a new id for none, an empty or an unsafe one', () => {
    for (const given of [undefined, null, '', 'a b', 'x'.repeat(101), 'id\r\nset-cookie: a=b'])
      expect(requestIdFrom(given)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('makes distinct ids, across many draws of its pool of random bytes', () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => requestIdFrom(undefined)));
    expect(ids.size).toBe(5_000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('keeps an id it made when a client sends it back', () => {
    const made = requestIdFrom(undefined);
    expect(requestIdFrom(made)).toBe(made);
  });
});
