/**
 * Read slabs: a download's buffer is used again only once the download reads into it no more
 * and every hold of every view handed on is let go; a chunk let go more often than it was held
 * frees nothing it does not own; other memory is ignored; an idle process keeps no slab. The
 * stages a pull passes a download through (the store's hash and file, the unpack's gunzip)
 * each let go of a chunk once done with it, and not before.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { DigestStream, sha256Digest } from '../../lib/images/digest';
import { fileSink } from '../../lib/images/file-sink';
import { ReadSlab, holdChunk, releaseChunk, slabReader } from '../../lib/images/read-slabs';
import { NativeGunzip } from '../../lib/images/tar/native-gunzip';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

afterAll(() => removeTempDirs());

/**
 * Whether the next slab taken is `buffer` again. (A boolean: jest would print two MiB-long
 * buffers on a failure.)
 */
function reused(buffer: Buffer): boolean {
  return new ReadSlab().buffer === buffer;
}

/** Runs `body` as one download reading into slabs (the pool lives only while one does). */
function asReader<T>(body: () => T): T {
  const done = slabReader();
  try {
    return body();
  } finally {
    done();
  }
}

test('a slab comes back only after the reader is done and each view is let go as often as it was held', () => {
  asReader(() => {
    const slab = new ReadSlab();
    const a = slab.handOn(slab.buffer.subarray(0, 100));
    const b = slab.handOn(slab.buffer.subarray(100, 300));
    holdChunk(a); // a second stage keeps `a`
    slab.done();
    releaseChunk(a);
    releaseChunk(b);
    // `a` is still held once: the buffer must not be handed out again.
    expect(reused(slab.buffer)).toBe(false);
    releaseChunk(a);
    expect(reused(slab.buffer)).toBe(true);
  });
});

test('a slab the reader still reads into is not handed out again, whatever its views do', () => {
  asReader(() => {
    const slab = new ReadSlab();
    const a = slab.handOn(slab.buffer.subarray(0, 10));
    releaseChunk(a);
    expect(reused(slab.buffer)).toBe(false);
  });
});

test('letting a chunk go more often than it was held frees nothing another view holds', () => {
  asReader(() => {
    const slab = new ReadSlab();
    const a = slab.handOn(slab.buffer.subarray(0, 10));
    const b = slab.handOn(slab.buffer.subarray(10, 20));
    slab.done();
    releaseChunk(a);
    releaseChunk(a);
    releaseChunk(a);
    expect(reused(slab.buffer)).toBe(false);
    releaseChunk(b);
    expect(reused(slab.buffer)).toBe(true);
  });
});

test('chunks that are not views of a slab are passed on as they are and ignored', () => {
  asReader(() => {
    const slab = new ReadSlab();
    const copy = Buffer.from(slab.buffer.subarray(0, 10));
    expect(slab.handOn(copy)).toBe(copy);
    holdChunk(copy);
    releaseChunk(copy);
    releaseChunk(Buffer.alloc(4));
    slab.done();
    // The slab had no view out: it is free once the reader is done with it.
    expect(reused(slab.buffer)).toBe(true);
  });
});

test('a slab let go once no download reads any more is not kept', () => {
  let slab: ReadSlab | undefined;
  let view: Buffer | undefined;
  asReader(() => {
    slab = new ReadSlab();
    view = slab.handOn(slab.buffer.subarray(0, 10));
    slab.done();
  });
  // The last stage lets go after the download ended: nothing is kept for an idle process.
  releaseChunk(view as Buffer);
  asReader(() => {
    expect(reused((slab as ReadSlab).buffer)).toBe(false);
  });
});

test('a pull\'s stages let go of a download chunk once each is done with it: the slab comes back after the last', async () => {
  const data = crypto.randomBytes(300_000);
  const gzipped = zlib.gzipSync(data);
  const done = slabReader();
  try {
    const slab = new ReadSlab();
    gzipped.copy(slab.buffer);
    const chunk = slab.handOn(slab.buffer.subarray(0, gzipped.length));
    slab.done();
    // The layer tee's copy for the unpack.
    holdChunk(chunk);
    // The content store: hashed and written.
    const file = path.join(tempDir('tsc-read-slabs-'), 'blob');
    const handle = await fs.promises.open(file, 'w');
    const digest = new DigestStream();
    try {
      await pipeline(Readable.from([chunk]), digest, fileSink(handle));
    } finally {
      await handle.close();
    }
    expect(digest.digest).toBe(sha256Digest(gzipped));
    // The unpack has not read it yet: the slab must not be handed out again.
    expect(reused(slab.buffer)).toBe(false);
    const gunzip = new NativeGunzip((async function* () {
      yield chunk;
    })());
    const out: Buffer[] = [];
    for (let c = await gunzip.next(); c; c = await gunzip.next()) {
      out.push(Buffer.from(c));
      gunzip.release(c);
    }
    gunzip.close();
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(fs.readFileSync(file).equals(gzipped)).toBe(true);
    expect(reused(slab.buffer)).toBe(true);
  } finally {
    done();
  }
});
