// The limits counted in this process: a fixed window from a key's (or an address's) first request.
import { expect, it } from 'vitest';
import { KeyWindows } from '../src/edge/key-windows.ts';

it('admits the points of a window, refuses the rest until it ends, then opens a new one', () => {
  let now = 1_000;
  const windows = new KeyWindows(3, 60_000, () => now);
  expect([1, 2, 3].map(() => windows.consume('key_a'))).toEqual([0, 0, 0]);
  now += 20_000;
  // Over the limit: the time left in the window, counted from the first request.
  expect(windows.consume('key_a')).toBe(40_000);
  expect(windows.consume('key_b')).toBe(0); // each key has its own window
  now += 39_999;
  expect(windows.consume('key_a')).toBe(1);
  now += 1;
  expect(windows.consume('key_a')).toBe(0);
});

it("drops the ended windows of keys not seen since, once a window's time", () => {
  let now = 0;
  const windows = new KeyWindows(10, 60_000, () => now);
  windows.consume('old');
  now = 30_000;
  windows.consume('recent');
  now = 59_999;
  windows.consume('recent');
  expect(windows.size).toBe(2);
  // A minute on, the next request sweeps: the old key's window has ended, the recent one's has not.
  now = 60_000;
  windows.consume('recent');
  expect(windows.size).toBe(1);
  for (let request = 4; request <= 10; request++) expect(windows.consume('recent')).toBe(0);
  expect(windows.consume('recent')).toBe(30_000);
});

it('tells, without counting, when a window has used its points (an address that sent too many unknown keys)', () => {
  let now = 0;
  const failures = new KeyWindows(2, 60_000, () => now);
  expect(failures.exhausted('10.0.0.1')).toBe(0); // never seen
  failures.consume('10.0.0.1');
  expect(failures.exhausted('10.0.0.1')).toBe(0);
  now = 15_000;
  failures.consume('10.0.0.1');
  expect(failures.exhausted('10.0.0.1')).toBe(45_000);
  expect(failures.exhausted('10.0.0.1')).toBe(45_000); // asking counts nothing
  expect(failures.exhausted('10.0.0.2')).toBe(0);
  now = 60_000;
  expect(failures.exhausted('10.0.0.1')).toBe(0);
});
