/**
 * The content store: every blob (manifest, config, layer) under images/blobs/sha256/<hex>,
 * named by its digest. A blob is written under images/ingest/ first, checked against the
 * digest and size it must have, and renamed into place, so a reader never sees a partial or
 * wrong blob.
 *
 * A blob whose digest is known is written to ingest/<hex>, and only by the process holding
 * that file's flock: two processes storing one blob at once (two pulls of one image) do not
 * both download it; the second waits, then finds the blob stored. A writer killed with -9
 * drops its lock with its life and leaves its partial file: the next writer of that blob takes
 * the lock and continues from the file's end when its source can start there (a registry
 * download, with Range), else starts over. A blob of unknown digest goes to a temporary file
 * of its own; an unlocked one is removed when a store is next opened.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageArchiveError } from '../errors/errors';
import { native } from '../native/binding';
import { verifyDataRoot } from './data-root';
import { DigestStream, digestHex, parseDigest } from './digest';
import { lockNamedFile } from './file-lock';
import type { Lease } from './lease';
import { fileSink } from './file-sink';

/**
 * Where a blob's bytes come from: a stream, or a function that opens one starting at a byte
 * offset (a download that can resume where a killed writer stopped).
 */
export type BlobSource = Readable | ((offset: number) => Readable);

export interface BlobExpectation {
  /** The digest the bytes must have; when absent, the blob is named by what arrives. */
  digest?: string;
  /** The exact size the bytes must have. */
  size?: number;
  /** How a failure names the blob (an archive entry, a layer); default the digest. */
  entry?: string;
  /** The lease of the import or pull storing it: the blob is named there before it is stored. */
  lease?: Lease;
}

export interface StoredBlob {
  digest: string;
  size: number;
}

/** Configs, manifests and indexes are small; a larger "JSON" blob is refused, not read. */
export const MAX_JSON_BLOB = 8 * 1024 * 1024;

/** Manifests and configs readBytesSync has read, by path (a blob's bytes never change), oldest first. */
const smallBlobsRead = new Map<string, Buffer>();
const SMALL_BLOBS_KEPT = 64;
/** Larger ones (a config with a long history) are read each time. */
const SMALL_BLOB_BYTES = 64 * 1024;

/** A dead writer's partial blob is kept this long for the next writer to resume, then cleared. */
const PARTIAL_BLOB_KEPT_MS = 24 * 3600 * 1000;
const PARTIAL_BLOB_NAME = /^[a-f0-9]{64}$/;

export class ContentStore {
  /** <dataRoot>/images */
  readonly root: string;
  readonly #dataRoot: string;
  readonly #blobs: string;
  readonly #ingest: string;
  #prepared: Promise<void> | undefined;

  constructor(dataRoot: string) {
    this.#dataRoot = dataRoot;
    this.root = path.join(dataRoot, 'images');
    this.#blobs = path.join(this.root, 'blobs', 'sha256');
    this.#ingest = path.join(this.root, 'ingest');
  }

  /** Where a blob lives (whether or not it is there). */
  path(digest: string): string {
    return path.join(this.#blobs, parseDigest(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await fs.promises.stat(this.path(digest))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** The size of a stored blob; undefined when it is not there. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fs.promises.stat(this.path(digest))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Makes the data root (checked as trusted) and the store's directories, and removes the
   * temporary files of writers that died. Every writing call does this once.
   */
  prepare(): Promise<void> {
    this.#prepared ??= (async () => {
      verifyDataRoot(this.#dataRoot, true);
      await fs.promises.mkdir(this.#blobs, { recursive: true, mode: 0o700 });
      await fs.promises.mkdir(this.#ingest, { recursive: true, mode: 0o700 });
      await this.#removeDeadIngests();
    })();
    this.#prepared.catch(() => {
      this.#prepared = undefined;
    });
    return this.#prepared;
  }

  async #removeDeadIngests(): Promise<void> {
    for (const name of await fs.promises.readdir(this.#ingest)) {
      const file = path.join(this.#ingest, name);
      let handle: fs.promises.FileHandle;
      try {
        handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      } catch {
        continue;
      }
      try {
        // A live writer holds its lock until the rename; an unlocked file has no writer.
        if (!native().tryLock(handle.fd)) continue;
        const [open, now] = await Promise.all([handle.stat(), fs.promises.lstat(file).catch(() => undefined)]);
        // A dead writer's partial blob stays a while: the next pull of it resumes there.
        const resumable = PARTIAL_BLOB_NAME.test(name) && Date.now() - open.mtimeMs < PARTIAL_BLOB_KEPT_MS;
        if (!resumable && now && now.ino === open.ino && now.dev === open.dev) await fs.promises.rm(file, { recursive: true, force: true });
      } finally {
        await handle.close();
      }
    }
  }

  /** A new temporary file under ingest/, locked by this process, with no other name. */
  async #openIngestFile(label: string): Promise<{ file: string; handle: fs.promises.FileHandle }> {
    for (;;) {
      const file = path.join(this.#ingest, `${label}-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
      const handle = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      // A cleaner of another process may have taken the new file for a dead writer's between
      // the open and the lock: then it is (or will be) unlinked; take another name.
      if (native().tryLock(handle.fd) && (await handle.stat()).nlink > 0) return { file, handle };
      await handle.close();
    }
  }

  /**
   * Writes a blob from `source`, verified against `expected` before it becomes visible. A blob
   * already stored is not written again (the source is closed, or never opened). A blob of known
   * digest that another process is writing is waited for. Resolves to its digest and size.
   */
  async ingest(source: BlobSource, expected: BlobExpectation = {}, signal?: AbortSignal): Promise<StoredBlob> {
    const wantedHex = expected.digest === undefined ? undefined : parseDigest(expected.digest, 'ingest: digest');
    const entry = expected.entry ?? expected.digest ?? 'blob';
    await this.prepare();
    if (expected.digest === undefined || wantedHex === undefined) {
      signal?.throwIfAborted();
      const { file, handle } = await this.#openIngestFile('new');
      const stream = typeof source === 'function' ? source(0) : source;
      return this.#write(file, handle, stream, 0, undefined, expected, entry, signal);
    }
    await expected.lease?.add(expected.digest);
    const stored = await this.#stored(expected);
    if (stored) {
      if (typeof source !== 'function') source.destroy();
      return stored;
    }
    return this.#ingestKnown(wantedHex, source, expected, entry, signal);
  }

  /** The blob when it is stored with the expected size. */
  async #stored(expected: BlobExpectation): Promise<StoredBlob | undefined> {
    const size = await this.size(expected.digest as string);
    if (size === undefined || (expected.size !== undefined && size !== expected.size)) return undefined;
    return { digest: expected.digest as string, size };
  }

  /** ingest() of a blob of known digest: one writer at a time, under the lock of ingest/<hex>. */
  async #ingestKnown(hex: string, source: BlobSource, expected: BlobExpectation, entry: string, signal?: AbortSignal): Promise<StoredBlob> {
    const file = path.join(this.#ingest, hex);
    for (let attempt = 1; ; attempt++) {
      // Waits while another process writes this blob.
      const handle = await lockNamedFile(file, 0o644, signal);
      const stored = await this.#stored(expected).catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
      if (stored) {
        // Written meanwhile by the process that held the lock: this name is a leftover.
        await fs.promises.rm(file, { force: true });
        await handle.close();
        if (typeof source !== 'function') source.destroy();
        return stored;
      }
      // A dead writer's bytes: kept when the source can start after them (and only once).
      let offset = (await handle.stat()).size;
      if (typeof source !== 'function' || attempt > 1 || (expected.size !== undefined && offset > expected.size)) {
        if (offset > 0) await handle.truncate(0);
        offset = 0;
      }
      const stream = typeof source !== 'function' ? source : offset === expected.size ? Readable.from([]) : source(offset);
      try {
        return await this.#write(file, handle, stream, offset, expected.digest, expected, entry, signal);
      } catch (error) {
        // A resumed blob that fails its digest may owe it to the dead writer's part: once more from the start.
        if (offset > 0 && error instanceof ImageArchiveError && !signal?.aborted) continue;
        throw error;
      }
    }
  }

  /**
   * Writes `stream` into the locked ingest file from `offset` on (the bytes before it are
   * already there), checks the whole against `expected`, and renames it into the store. The
   * file is removed and its handle closed whatever happens.
   */
  async #write(
    file: string,
    handle: fs.promises.FileHandle,
    stream: Readable,
    offset: number,
    digest: string | undefined,
    expected: BlobExpectation,
    entry: string,
    signal?: AbortSignal,
  ): Promise<StoredBlob> {
    let renamed = false;
    try {
      const counter = new DigestStream(expected.size ?? Number.POSITIVE_INFINITY, () => new ImageArchiveError(entry, `more bytes than the ${expected.size} announced`));
      if (offset > 0) await hashExisting(handle, offset, counter);
      await pipeline(stream, counter, fileSink(handle, offset), { signal });
      if (expected.size !== undefined && counter.size !== expected.size) {
        throw new ImageArchiveError(entry, `${counter.size} bytes where ${expected.size} were announced`);
      }
      if (digest !== undefined && counter.digest !== digest) {
        throw new ImageArchiveError(entry, `content digest ${counter.digest} differs from the expected ${digest}`);
      }
      await handle.sync();
      await expected.lease?.add(counter.digest);
      await fs.promises.rename(file, path.join(this.#blobs, digestHex(counter.digest) as string));
      renamed = true;
      return { digest: counter.digest, size: counter.size };
    } finally {
      stream.destroy();
      if (!renamed) await fs.promises.rm(file, { force: true });
      await handle.close();
    }
  }

  /** ingest() of bytes in memory (a manifest or config made here). */
  ingestBytes(bytes: Buffer, expected: BlobExpectation = {}, signal?: AbortSignal): Promise<StoredBlob> {
    return this.ingest(Readable.from([bytes]), { size: bytes.length, ...expected }, signal);
  }

  /**
   * A temporary file under ingest/ for work on the way in (a compressed archive's tar),
   * locked like an ingest, so that a dead process's scratch is cleared too. `release` removes it.
   */
  async scratchFile(): Promise<{ path: string; handle: fs.promises.FileHandle; release: () => Promise<void> }> {
    await this.prepare();
    const { file, handle } = await this.#openIngestFile('scratch');
    return {
      path: file,
      handle,
      release: async () => {
        await fs.promises.rm(file, { force: true });
        await handle.close();
      },
    };
  }

  /** A stored blob's bytes (a manifest or config); ImageArchiveError when missing or too large. */
  async readBytes(digest: string, maxBytes = MAX_JSON_BLOB): Promise<Buffer> {
    const file = this.path(digest);
    let size: number | undefined;
    try {
      size = (await fs.promises.stat(file)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new ImageArchiveError(digest, 'blob missing from the content store');
    }
    if (size > maxBytes) throw new ImageArchiveError(digest, `${size} bytes, more than the ${maxBytes} a manifest or config may have`);
    return fs.promises.readFile(file);
  }

  /** readBytes() for a caller that cannot wait. */
  readBytesSync(digest: string, maxBytes = MAX_JSON_BLOB): Buffer {
    const file = this.path(digest);
    // A blob's bytes never change under its name: a container's start reads its image's
    // manifest and config from memory after the first time.
    const known = smallBlobsRead.get(file);
    if (known !== undefined && known.length <= maxBytes) return Buffer.from(known);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new ImageArchiveError(digest, 'blob missing from the content store');
    }
    if (size > maxBytes) throw new ImageArchiveError(digest, `${size} bytes, more than the ${maxBytes} a manifest or config may have`);
    const bytes = fs.readFileSync(file);
    if (bytes.length > SMALL_BLOB_BYTES) return bytes;
    if (smallBlobsRead.size >= SMALL_BLOBS_KEPT) smallBlobsRead.delete(smallBlobsRead.keys().next().value as string);
    smallBlobsRead.set(file, Buffer.from(bytes));
    return bytes;
  }

  async readJson(digest: string): Promise<unknown> {
    const bytes = await this.readBytes(digest);
    try {
      return JSON.parse(bytes.toString());
    } catch (error) {
      throw new ImageArchiveError(digest, `not valid JSON (${(error as Error).message})`);
    }
  }

  /** A stream of a stored blob's bytes. */
  open(digest: string): Readable {
    // Large reads: an unpack from the store makes fewer trips to the thread pool.
    return fs.createReadStream(this.path(digest), { highWaterMark: 1024 * 1024 });
  }

  /** The digests of every stored blob. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.#blobs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** Removes a blob; false when it was not there. */
  async remove(digest: string): Promise<boolean> {
    try {
      await fs.promises.unlink(this.path(digest));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}

/** Feeds the first `length` bytes of the file to the digest (a resumed blob's part on disk). */
async function hashExisting(handle: fs.promises.FileHandle, length: number, counter: DigestStream): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(length, 4 * 1024 * 1024));
  for (let position = 0; position < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) throw new Error(`ingest: the partial blob shrank under its lock at ${position} bytes`);
    await counter.seed(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}
