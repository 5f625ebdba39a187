/**
 * SHA-256 off the JavaScript thread, for streams large enough to pay for it. A pull hashes each
 * blob as it downloads and each layer's tar as it unpacks (its diff id): hundreds of megabytes
 * per pull, and on Node's one JavaScript thread that work is what bounds a pull. Here the bytes
 * go in batches to the addon's StreamHash, which hashes them on libuv's thread pool, borrowing
 * them (no copy, no worker thread to feed). A short stream is hashed here at its end: a trip to
 * the pool costs more than it saves.
 */
import { createHash } from 'node:crypto';
import { native } from '../native/binding';
import type { NativeStreamHash } from '../../types/native';
import { holdChunk, releaseChunk } from './read-slabs';

/** Bytes gathered before they go to the pool in one batch (and below which a stream is hashed here). */
const BATCH_BYTES = 1024 * 1024;
/** Batches sent and not hashed yet, past which `add` asks its caller to wait. */
const MAX_BATCHES_IN_FLIGHT = 8;

/**
 * A running SHA-256 fed chunk by chunk. The chunks must stay unchanged until `digest` settles
 * (or forever, after `drop`): they are hashed later, on another thread, as they are. A chunk
 * of a download's read slab is held until it is hashed (read-slabs.ts).
 */
export class OffThreadHash {
  #native: NativeStreamHash | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The batches on their way, oldest first; each settles after the ones before it. */
  #inFlight: Promise<void>[] = [];
  #tail: Promise<void> = Promise.resolve();
  #ended = false;

  /** Takes a chunk; when too much waits for the pool, a promise to await before the next one. */
  add(chunk: Buffer): Promise<void> | undefined {
    if (this.#ended) throw new Error('OffThreadHash: ended');
    if (chunk.length === 0) return undefined;
    holdChunk(chunk);
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < BATCH_BYTES) return undefined;
    this.#send();
    if (this.#inFlight.length > MAX_BATCHES_IN_FLIGHT) return this.#inFlight.shift();
    return undefined;
  }

  /** The hex digest of everything added; ends the hash. */
  async digest(): Promise<string> {
    if (this.#ended) throw new Error('OffThreadHash: ended');
    this.#ended = true;
    if (!this.#native) {
      const hash = createHash('sha256');
      for (const chunk of this.#pending) hash.update(chunk);
      for (const chunk of this.#pending) releaseChunk(chunk);
      this.#pending = [];
      return hash.digest('hex');
    }
    if (this.#pendingBytes > 0) this.#send();
    this.#inFlight = [];
    await this.#tail;
    return this.#native.digest();
  }

  /** Gives the hash up (its stream failed); batches on their way finish on their own. */
  drop(): void {
    this.#ended = true;
    this.#pending = [];
    this.#inFlight = [];
  }

  #send(): void {
    const hash = (this.#native ??= new (native().StreamHash)());
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    // The addon takes one update at a time: each batch goes once the one before is hashed.
    const sent = this.#tail.then(async () => {
      await hash.update(batch);
      for (const chunk of batch) releaseChunk(chunk);
    });
    this.#tail = sent;
    // Seen when awaited (by add's caller or by digest); never an unhandled rejection meanwhile.
    sent.catch(() => {});
    this.#inFlight.push(sent);
  }
}
