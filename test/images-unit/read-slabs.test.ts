/**
 * Read slabs: a download's buffer is used again only once the download reads into it no more
 * and every hold of every view handed on is let go; a chunk let go more often than it was held
 * frees nothing it does not own; other memory is ignored; an idle process keeps no slab.
 */
import { ReadSlab, holdChunk, releaseChunk, slabReader } from '../../lib/images/read-slabs';

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
    expect(new ReadSlab().buffer).not.toBe(slab.buffer);
    releaseChunk(a);
    expect(new ReadSlab().buffer).toBe(slab.buffer);
  });
});

test('a slab the reader still reads into is not handed out again, whatever its views do', () => {
  asReader(() => {
    const slab = new ReadSlab();
    const a = slab.handOn(slab.buffer.subarray(0, 10));
    releaseChunk(a);
    expect(new ReadSlab().buffer).not.toBe(slab.buffer);
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
    expect(new ReadSlab().buffer).not.toBe(slab.buffer);
    releaseChunk(b);
    expect(new ReadSlab().buffer).toBe(slab.buffer);
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
    expect(new ReadSlab().buffer).toBe(slab.buffer);
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
    expect(new ReadSlab().buffer).not.toBe((slab as ReadSlab).buffer);
  });
});
