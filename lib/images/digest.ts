/**
 * Content digests ("sha256:<64 hex>"), the names of everything in the image store, and a
 * stream stage that hashes and counts what passes through it.
 */
import * as crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ThreadHash } from './hash-thread';

/** A stream longer than this is hashed on the worker thread (hash-thread.ts), in batches of it. */
const THREAD_HASH_BATCH = 1024 * 1024;
/** Bytes sent to the worker and not yet hashed there, past which the stream waits. */
const THREAD_HASH_IN_FLIGHT = 8 * 1024 * 1024;

/** The one algorithm OCI requires and every registry speaks; others are refused, not guessed at. */
export const DIGEST_ALGORITHM = 'sha256';
const DIGEST_PATTERN = /^sha256:([a-f0-9]{64})$/;

/** The hex part of a valid digest, or undefined. */
export function digestHex(digest: unknown): string | undefined {
  if (typeof digest !== 'string') return undefined;
  return DIGEST_PATTERN.exec(digest)?.[1];
}

export function isDigest(value: unknown): value is string {
  return digestHex(value) !== undefined;
}

/** The hex of `digest`; a TypeError naming `where` when it is not a sha256 digest. */
export function parseDigest(digest: unknown, where = 'digest'): string {
  const hex = digestHex(digest);
  if (hex === undefined) {
    const shown = typeof digest === 'string' ? JSON.stringify(digest.slice(0, 100)) : typeof digest;
    throw new TypeError(`${where}: expected "sha256:" and 64 lowercase hex digits, got ${shown}`);
  }
  return hex;
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

/**
 * Passes bytes through unchanged while hashing and counting them; `digest` and `size` are final
 * once the stream has ended. `maxBytes` stops a source that sends more than it announced.
 */
export class DigestStream extends Transform {
  #hash = crypto.createHash('sha256');
  /** Once the stream passes THREAD_HASH_BATCH bytes: its hash on the worker thread. */
  #thread: ThreadHash | undefined;
  /** Bytes not hashed yet (kept until a batch is full). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #inFlight: Promise<void>[] = [];
  #size = 0;
  #digest: string | undefined;
  readonly #maxBytes: number;
  readonly #onTooLong: () => Error;

  constructor(maxBytes = Number.POSITIVE_INFINITY, onTooLong: () => Error = () => new RangeError(`more than ${maxBytes} bytes`)) {
    // Room for a few socket reads on either side: fewer pauses of the source.
    super({ highWaterMark: 1024 * 1024 });
    this.#maxBytes = maxBytes;
    this.#onTooLong = onTooLong;
  }

  get size(): number {
    return this.#size;
  }

  /** The digest of everything that passed; only once the stream has ended. */
  get digest(): string {
    if (this.#digest === undefined) throw new Error('DigestStream: the digest is known only at the end');
    return this.#digest;
  }

  /**
   * Counts and hashes bytes that came before the stream (a resumed download's first part).
   * The caller may reuse `bytes` once the promise resolves.
   */
  async seed(bytes: Buffer): Promise<void> {
    this.#size += bytes.length;
    await this.#add(Buffer.from(bytes));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.#maxBytes) {
      done(this.#onTooLong());
      return;
    }
    this.#add(chunk).then(() => done(null, chunk), done);
  }

  override _flush(done: TransformCallback): void {
    this.#finish().then((hex) => {
      this.#digest = `sha256:${hex}`;
      done();
    }, done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#thread?.drop();
    done(error);
  }

  /** Takes a chunk towards the hash; resolves once the stream may go on (the worker keeps up). */
  async #add(chunk: Buffer): Promise<void> {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < THREAD_HASH_BATCH) return;
    this.#thread ??= new ThreadHash();
    const sent = this.#thread.update(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    // Seen when awaited (here or at the end); never an unhandled rejection meanwhile.
    sent.catch(() => {});
    this.#inFlight.push(sent);
    if (this.#inFlight.length * THREAD_HASH_BATCH > THREAD_HASH_IN_FLIGHT) await this.#inFlight.shift();
  }

  /** The hex digest of everything added: on this thread for a short stream, else from the worker. */
  async #finish(): Promise<string> {
    if (!this.#thread) {
      for (const chunk of this.#pending) this.#hash.update(chunk);
      this.#pending = [];
      return this.#hash.digest('hex');
    }
    if (this.#pendingBytes > 0) this.#inFlight.push(this.#thread.update(this.#pending, this.#pendingBytes));
    this.#pending = [];
    await Promise.all(this.#inFlight.splice(0));
    return this.#thread.digest();
  }
}
