/**
 * DigestStream hashes short streams on the main thread and long ones on the thread pool, in
 * batches, with a wait when too many are on their way (hash-thread.ts): either way its digest and size are the bytes' own, with a seeded first
 * part (a resumed download) or without, and the bytes pass through unchanged.
 */
import * as crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from '../../lib/images/digest';

const MiB = 1024 * 1024;

async function digestOf(data: Buffer, seeded: number): Promise<{ digest: string; size: number; passed: Buffer }> {
  const stream = new DigestStream();
  await stream.seed(data.subarray(0, seeded));
  const rest: Buffer[] = [];
  for (let o = seeded; o < data.length; o += 64 * 1024) rest.push(data.subarray(o, Math.min(o + 64 * 1024, data.length)));
  const passed: Buffer[] = [];
  await pipeline(Readable.from(rest), stream, new Writable({ write: (c: Buffer, _e, done) => (passed.push(c), done()) }));
  return { digest: stream.digest, size: stream.size, passed: Buffer.concat(passed) };
}

test.each([
  [0, 0],
  [100, 0],
  [MiB - 1, 0],
  [MiB, 0],
  [MiB + 1, 0],
  [12 * MiB + 7, 0],
  [12 * MiB + 7, 5 * MiB + 3],
  [3 * MiB, 3 * MiB],
])('%d bytes, %d of them seeded: the digest and size of the bytes', async (length, seeded) => {
  const data = crypto.randomBytes(length);
  const r = await digestOf(data, seeded);
  expect(r.digest).toBe(`sha256:${crypto.createHash('sha256').update(data).digest('hex')}`);
  expect(r.size).toBe(length);
  expect(r.passed.equals(data.subarray(seeded))).toBe(true);
});

test('a stream past its announced size fails with the given error', async () => {
  const stream = new DigestStream(2 * MiB, () => new RangeError('too long'));
  await expect(pipeline(Readable.from([crypto.randomBytes(MiB), crypto.randomBytes(MiB), crypto.randomBytes(10)]), stream, new Writable({ write: (_c, _e, done) => done() }))).rejects.toThrow('too long');
});
