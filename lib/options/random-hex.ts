/**
 * Random hex strings for names (container ids), drawn from a pool that is refilled as it
 * runs out: one draw from the system's generator serves many ids, where a draw per id cost
 * about 10 µs on the path of every spawn. Each byte is used once, so the names are as random
 * as with a draw each.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 512;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` random bytes (at most the pool's size) as 2 * bytes hex digits. */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL_BYTES) throw new RangeError(`randomHex: bytes must be an integer from 1 to ${POOL_BYTES}`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
