/**
 * Container ids' random part (lib/options/random-hex.ts): drawn from a pool, each byte used
 * once, so ids stay unique and unpredictable across many draws and refills.
 */
import { randomHex } from '../../lib/options/random-hex';

test('gives the asked number of hex digits, never the same twice across refills of the pool', () => {
  const ids = Array.from({ length: 3000 }, () => randomHex(6));
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
  expect(new Set(ids).size).toBe(ids.length);
  // Draws of other sizes share the pool and still fit it.
  expect(randomHex(32)).toMatch(/^[0-9a-f]{64}$/);
  expect(randomHex(512)).toMatch(/^[0-9a-f]{1024}$/);
  // Every hex digit turns up: the bytes are random, not a counter.
  expect(new Set(ids.join('')).size).toBe(16);
});

test('a size it cannot give is a RangeError', () => {
  for (const bad of [0, -1, 1.5, 513, Number.NaN]) expect(() => randomHex(bad)).toThrow(RangeError);
});
