/**
 * The read buffers of blob downloads (streaming-get.ts), used again once nothing reads their
 * bytes. A new 1 MiB buffer per MiB downloaded costs a pull's JavaScript thread a full garbage
 * collection every few dozen megabytes (V8 collects on external memory growth) and the kernel
 * a page fault per 4 KiB of it; a few reused buffers cost neither.
 *
 * A download's body goes out as views of a slab. Each view is held once by whoever the
 * response hands it to, and the stage that reads it last lets go (`releaseChunk`): the file
 * writer of the content store once the bytes are written, the gunzip of an unpack once it has
 * inflated them. A stage that keeps a view past the point where the next one may let go takes a
 * hold of its own first (`holdChunk`): the off-thread hash until it has hashed the bytes, the
 * layer tee for the unpack's copy. The slab is reused once every view of it is let go and the
 * download reads into it no more. A view never let go (a stream that failed, a stage that
 * does not know about slabs) only keeps its slab from being reused: the collector takes it.
 * Chunks that are not views of a slab are ignored by both calls.
 */

/** Bytes of one slab. */
export const SLAB_BYTES = 1024 * 1024;
/** Free slabs kept while downloads run (over all of them). */
const KEPT_SLABS = 32;

const freeSlabs: Buffer[] = [];
/** Downloads reading into slabs now: once none is left, the kept slabs go (an idle process keeps none). */
let readers = 0;

interface ViewHolds {
  slab: ReadSlab;
  count: number;
}

const holdsOf = new WeakMap<Uint8Array, ViewHolds>();

/** One buffer a download reads into; its views go out with `view`. */
export class ReadSlab {
  readonly buffer: Buffer;
  /** The reader's own hold (until `done`) plus one per view not let go. */
  #holds = 1;

  constructor() {
    this.buffer = freeSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  }

  /**
   * Registers `bytes` (a view of this slab's buffer) as handed on, held once; returns it. A
   * chunk of other memory (a copy) is returned as it is.
   */
  handOn(bytes: Buffer): Buffer {
    if (bytes.buffer !== this.buffer.buffer || bytes.length === 0) return bytes;
    const holds = holdsOf.get(bytes);
    if (holds) holds.count++;
    else holdsOf.set(bytes, { slab: this, count: 1 });
    this.#holds++;
    return bytes;
  }

  /** The download reads into this slab no more (it took another, or its socket closed). */
  done(): void {
    this.letGo();
  }

  /** @internal one hold fewer; the last returns the buffer. */
  letGo(): void {
    if (--this.#holds > 0) return;
    if (readers > 0 && freeSlabs.length < KEPT_SLABS) freeSlabs.push(this.buffer);
  }
}

/** A download starts reading into slabs; call the returned function once it reads no more. */
export function slabReader(): () => void {
  readers++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--readers === 0) freeSlabs.length = 0;
  };
}

/** Takes a hold of `chunk` (a view handed on by a slab): its bytes stay until `releaseChunk`. */
export function holdChunk(chunk: Uint8Array): void {
  const holds = holdsOf.get(chunk);
  if (holds) holds.count++;
}

/** Lets go of one hold of `chunk`: the caller reads its bytes no more. */
export function releaseChunk(chunk: Uint8Array): void {
  const holds = holdsOf.get(chunk);
  if (!holds) return;
  if (--holds.count > 0) return;
  holdsOf.delete(chunk);
  holds.slab.letGo();
}
