/**
 * OffThreadHash: the SHA-256 of every byte added, in order, whether the stream is short
 * (hashed on the JS thread at its end) or long (batches on the thread pool, with a wait when
 * too many are on their way); it ends once, and a dropped hash takes nothing more.
 */
import * as crypto from 'node:crypto';
import { OffThreadHash } from '../../lib/images/hash-thread';

const MiB = 1024 * 1024;

async function hashInChunks(data: Buffer, sizes: number[]): Promise<{ hex: string; waits: number }> {
  const hash = new OffThreadHash();
  let waits = 0;
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, data.length - offset);
    const wait = hash.add(data.subarray(offset, offset + n));
    if (wait) {
      waits++;
      await wait;
    }
    offset += n;
  }
  return { hex: await hash.digest(), waits };
}

test.each([
  ['empty', 0, [1]],
  ['short', 1000, [7, 0, 300]],
  ['one batch less a byte', MiB - 1, [64 * 1024]],
  ['just past a batch', MiB + 1, [256 * 1024]],
  ['many batches, uneven chunks', 20 * MiB + 13, [65536, 1, 0, 300000, 4096]],
])('%s: the digest of the bytes in order', async (_name, length, sizes) => {
  const data = crypto.randomBytes(length);
  const { hex } = await hashInChunks(data, sizes);
  expect(hex).toBe(crypto.createHash('sha256').update(data).digest('hex'));
});

test('a long stream is asked to wait while the pool catches up', async () => {
  const data = crypto.randomBytes(24 * MiB);
  const { hex, waits } = await hashInChunks(data, [MiB]);
  expect(hex).toBe(crypto.createHash('sha256').update(data).digest('hex'));
  expect(waits).toBeGreaterThan(0);
});

test('a hash ends once: a second digest, or an add after drop, throws', async () => {
  const done = new OffThreadHash();
  done.add(crypto.randomBytes(2 * MiB));
  await done.digest();
  await expect(done.digest()).rejects.toThrow('ended');
  const dropped = new OffThreadHash();
  dropped.add(crypto.randomBytes(2 * MiB));
  dropped.drop();
  expect(() => dropped.add(Buffer.from('x'))).toThrow('ended');
});
