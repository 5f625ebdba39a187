/**
 * NativeGunzip: the addon's gunzip gives the bytes Node's zlib gives, whatever the input's
 * chunking, for one member or several, compressible or not, with zero padding after the
 * end; its digest is the SHA-256 of those bytes; cut or corrupt input fails with the codes
 * Node's gunzip uses (the unpack names them as corrupt data); and a buffer given back with
 * release() is used again for later output, never while its bytes are still handed out.
 */
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { NativeGunzip } from '../../lib/images/tar/native-gunzip';

const MiB = 1024 * 1024;

async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, data.length - offset);
    yield data.subarray(offset, offset + n);
    offset += n;
  }
}

/** Inflates, copying each output (the buffers are reused once released), and releasing each. */
async function inflate(data: Buffer, sizes: number[]): Promise<{ out: Buffer; digest: string; chunks: number }> {
  const gunzip = new NativeGunzip(chunked(data, sizes));
  const parts: Buffer[] = [];
  try {
    for (let chunk = await gunzip.next(); chunk; chunk = await gunzip.next()) {
      parts.push(Buffer.from(chunk));
      gunzip.release(chunk);
    }
    return { out: Buffer.concat(parts), digest: await gunzip.digest(), chunks: parts.length };
  } finally {
    gunzip.close();
  }
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Text that compresses well: its output is many times its input. */
function compressible(length: number): Buffer {
  const line = Buffer.from('the same line of a text file, over and over again\n');
  return Buffer.alloc(length, line);
}

test.each([
  ['random bytes, socket-sized chunks', crypto.randomBytes(3 * MiB + 17), [65536]],
  ['random bytes, one byte at a time at first', crypto.randomBytes(200_000), [1, 1, 1, 7, 100_000]],
  ['compressible text (output far past each input)', compressible(40 * MiB + 3), [65536, 3]],
  ['empty content', Buffer.alloc(0), [10]],
])('%s: the bytes and diff id Node zlib gives', async (_name, content, sizes) => {
  const gz = zlib.gzipSync(content);
  const { out, digest } = await inflate(gz, sizes);
  expect(out.equals(zlib.gunzipSync(gz))).toBe(true);
  expect(digest).toBe(sha256(content));
});

test('several members in a row are one stream, as gunzip reads them', async () => {
  const a = crypto.randomBytes(300_000);
  const b = compressible(2 * MiB);
  const gz = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
  const { out } = await inflate(gz, [4096]);
  expect(out.equals(Buffer.concat([a, b]))).toBe(true);
  expect(out.equals(zlib.gunzipSync(gz))).toBe(true);
});

test('zero bytes after the last member are padding and ignored', async () => {
  const content = crypto.randomBytes(100_000);
  const gz = Buffer.concat([zlib.gzipSync(content), Buffer.alloc(1000)]);
  const { out } = await inflate(gz, [333]);
  expect(out.equals(content)).toBe(true);
});

test.each([
  ['cut inside a member', 'Z_BUF_ERROR', (gz: Buffer) => gz.subarray(0, gz.length - 100), /unexpected end of file/],
  ['cut inside the header', 'Z_BUF_ERROR', (gz: Buffer) => gz.subarray(0, 5), /unexpected end of file/],
  ['nothing at all', 'Z_BUF_ERROR', () => Buffer.alloc(0), /unexpected end of file/],
  ['not gzip', 'Z_DATA_ERROR', () => Buffer.from('plain text, not a gzip stream at all'), /incorrect header check/],
  ['garbage after a member', 'Z_DATA_ERROR', (gz: Buffer) => Buffer.concat([gz, Buffer.from('garbage')]), /header/],
  [
    'a corrupt block',
    'Z_DATA_ERROR',
    (gz: Buffer) => {
      const bad = Buffer.from(gz);
      bad.fill(0xff, 20, 60);
      return bad;
    },
    /./,
  ],
])('%s: fails with %s, as Node gunzip does', async (_name, code, damage, message) => {
  const gz = damage(zlib.gzipSync(compressible(2 * MiB)));
  expect(() => zlib.gunzipSync(gz)).toThrow(expect.objectContaining({ code }));
  const error = await inflate(gz, [65536]).catch((e: unknown) => e);
  expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
});

test('a released buffer is used again; one still handed out is not', async () => {
  const content = crypto.randomBytes(6 * MiB);
  const gunzip = new NativeGunzip(chunked(zlib.gzipSync(content), [65536]));
  const kept = await gunzip.next();
  const keptCopy = Buffer.from(kept as Buffer);
  const seen = new Set<ArrayBuffer>();
  let reused = 0;
  const parts: Buffer[] = [keptCopy];
  for (let chunk = await gunzip.next(); chunk; chunk = await gunzip.next()) {
    expect(chunk.buffer).not.toBe((kept as Buffer).buffer);
    if (seen.has(chunk.buffer as ArrayBuffer)) reused++;
    seen.add(chunk.buffer as ArrayBuffer);
    parts.push(Buffer.from(chunk));
    // Once the buffer is free again, the inflate the next call starts takes it (not a new one).
    await gunzip.release(chunk);
  }
  gunzip.close();
  // The one never released still holds its bytes.
  expect((kept as Buffer).equals(keptCopy)).toBe(true);
  // Two buffers carry every output after the kept one: the second output's inflate ran ahead
  // before anything was released, and each later inflate started once the buffer before was free.
  expect({ seen: seen.size, reused }).toEqual({ seen: 2, reused: parts.length - 1 - 2 });
  expect(reused).toBeGreaterThan(0);
  expect(Buffer.concat(parts).equals(content)).toBe(true);
});
