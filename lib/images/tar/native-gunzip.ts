/**
 * A gzip layer's tar bytes, inflated on the thread pool by the addon (LayerInflater) into
 * output buffers that are used again once nothing reads them. Node's zlib streams allocate a
 * new Buffer for every output chunk: over a pull's hundreds of megabytes that garbage, not
 * the inflate, is what costs the JavaScript thread most. One inflate runs ahead while the
 * caller parses the previous output, and the diff id (the SHA-256 of the output) is hashed on
 * another pool thread (StreamHash) while the next inflate runs.
 *
 * The caller gives each chunk back with `release` once nothing refers to its bytes any more
 * (its file data written); its buffer is reused once it is hashed too. A chunk never given
 * back is simply left to the collector. The compressed input is let go of chunk by chunk once
 * inflated (a download's read slab is then reused, read-slabs.ts).
 */
import { native } from '../../native/binding';
import type { NativeLayerInflater, NativeStreamHash } from '../../../types/native';
import { releaseChunk } from '../read-slabs';

/** Bytes of one output buffer: one trip to the pool inflates at most this much. */
const SLAB_BYTES = 1024 * 1024;
/** Compressed bytes gathered (when the source has them) before an inflate starts. */
const INPUT_BYTES = 1024 * 1024;
/** Output buffers kept for reuse while unpacks run (all unpacks of the process share them). */
const KEPT_SLABS = 16;
/** Output buffers handed out and not hashed yet, past which `next` waits for the hash. */
const MAX_UNHASHED = 8;

const freeSlabs: Buffer[] = [];
/** NativeGunzips not closed yet: once none is left, the kept buffers go (an idle process keeps none). */
let openGunzips = 0;

function takeSlab(): Buffer {
  return freeSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
}

function giveBack(slab: Buffer): void {
  if (openGunzips > 0 && freeSlabs.length < KEPT_SLABS) freeSlabs.push(slab);
}

/** Inflated bytes; `bytes` is a view at the start of `slab`. */
interface Inflated {
  bytes: Buffer;
  slab: Buffer;
}

export class NativeGunzip {
  readonly #inflater: NativeLayerInflater = new (native().LayerInflater)();
  readonly #hash: NativeStreamHash = new (native().StreamHash)();
  /** The hash of each output handed out and not hashed yet, oldest first (each after the one before). */
  #hashing: Promise<void>[] = [];
  #hashed: Promise<void> = Promise.resolve();
  readonly #input: AsyncIterator<Buffer>;
  /** The input not inflated yet: whole chunks as they came, the first of them from #firstOffset on. */
  #pending: Buffer[] = [];
  #firstOffset = 0;
  #pendingBytes = 0;
  #inputEnded = false;
  #finished = false;
  /** The inflate running ahead of the caller. */
  #ahead: Promise<Inflated | undefined> | undefined;
  /** The slab behind each view handed out, and when it is hashed, for `release`. */
  readonly #slabOf = new WeakMap<Buffer, { slab: Buffer; hashed: Promise<void> }>();

  #closed = false;

  /** `input`: the compressed bytes (the blob), in order. Call `close` when done with it. */
  constructor(input: AsyncIterator<Buffer>) {
    this.#input = input;
    openGunzips++;
  }

  /** Done with (finished or failed): the last one closed lets the kept buffers go. Chunks still out stay valid. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (--openGunzips === 0) freeSlabs.length = 0;
  }

  /** The next inflated bytes, or undefined after the last. Errors carry zlib's code (Z_DATA_ERROR, Z_BUF_ERROR). */
  async next(): Promise<Buffer | undefined> {
    const step = this.#ahead ?? this.#step();
    this.#ahead = undefined;
    const inflated = await step;
    if (!inflated) return undefined;
    if (!this.#finished) {
      const ahead = this.#step();
      // Seen by the next call; never an unhandled rejection meanwhile.
      ahead.catch(() => {});
      this.#ahead = ahead;
    }
    // The addon's hash takes one update at a time: each output goes once the one before is hashed.
    const bytes = inflated.bytes;
    const hashed = this.#hashed.then(() => this.#hash.update([bytes]));
    // Seen by digest() (or never, after a failure); not an unhandled rejection meanwhile.
    hashed.catch(() => {});
    this.#hashed = hashed;
    this.#hashing.push(hashed);
    this.#slabOf.set(bytes, { slab: inflated.slab, hashed });
    if (this.#hashing.length > MAX_UNHASHED) await this.#hashing.shift();
    return bytes;
  }

  /**
   * Nothing refers to the bytes of `chunk` (a value `next` gave) any more: its buffer is reused
   * once it is hashed too. The promise (never rejected; callers need not wait) resolves when the
   * buffer is free for the next output.
   */
  release(chunk: Buffer): Promise<void> {
    const given = this.#slabOf.get(chunk);
    if (!given) return Promise.resolve();
    this.#slabOf.delete(chunk);
    return given.hashed.then(
      () => giveBack(given.slab),
      () => {},
    );
  }

  /** The hex SHA-256 of all the inflated bytes; only after `next` gave undefined. */
  async digest(): Promise<string> {
    this.#hashing = [];
    await this.#hashed;
    return this.#hash.digest();
  }

  async #step(): Promise<Inflated | undefined> {
    let stalled = false;
    for (;;) {
      while (!this.#inputEnded && (this.#pendingBytes < INPUT_BYTES || stalled)) {
        const next = await this.#input.next();
        if (next.done) this.#inputEnded = true;
        else if (next.value.length > 0) {
          this.#pending.push(next.value);
          this.#pendingBytes += next.value.length;
          stalled = false;
        }
      }
      if (this.#finished) return undefined;
      const slab = takeSlab();
      let result: { consumed: number; produced: number };
      try {
        const input = this.#firstOffset > 0 ? [this.#pending[0].subarray(this.#firstOffset), ...this.#pending.slice(1)] : this.#pending.slice();
        result = await this.#inflater.inflate(input, slab, this.#inputEnded);
      } catch (error) {
        this.#finished = true;
        throw error;
      }
      this.#consume(result.consumed);
      if (result.produced > 0) {
        if (this.#inputEnded && this.#pendingBytes === 0 && result.produced < slab.length) this.#finished = true;
        return { bytes: slab.subarray(0, result.produced), slab };
      }
      giveBack(slab);
      if (this.#inputEnded && this.#pendingBytes === 0) {
        this.#finished = true;
        return undefined;
      }
      // Only framing was read (a gzip header): more input is needed before output comes.
      if (result.consumed === 0) {
        if (this.#inputEnded) throw new Error('LayerInflater: no progress on the remaining input');
        stalled = true;
      }
    }
  }

  /** Drops the first `bytes` of the pending input; a chunk wholly inflated is let go. */
  #consume(bytes: number): void {
    this.#pendingBytes -= bytes;
    let left = bytes;
    while (left > 0) {
      const first = this.#pending[0];
      const rest = first.length - this.#firstOffset;
      if (rest <= left) {
        left -= rest;
        this.#pending.shift();
        this.#firstOffset = 0;
        releaseChunk(first);
      } else {
        this.#firstOffset += left;
        left = 0;
      }
    }
  }
}
