/**
 * Content digests ("sha256:<64 hex>"), the names of everything in the image store, and a
 * stream stage that hashes and counts what passes through it.
 */
import * as crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { OffThreadHash } from './hash-thread';

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
 * once the stream has ended. `maxBytes` stops a source that sends more than it announced. A
 * long stream is hashed on the thread pool (hash-thread.ts), while its bytes go on downstream.
 */
export class DigestStream extends Transform {
  readonly #hash = new OffThreadHash();
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
    await this.#hash.add(Buffer.from(bytes));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.#maxBytes) {
      done(this.#onTooLong());
      return;
    }
    // Downstream gets the chunk now; the hash may ask the stream to wait for the pool.
    const wait = this.#hash.add(chunk);
    if (wait) wait.then(() => done(null, chunk), done);
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.#hash.digest().then((hex) => {
      this.#digest = `sha256:${hex}`;
      done();
    }, done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#hash.drop();
    done(error);
  }
}
