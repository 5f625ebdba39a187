/**
 * Unpacks one layer blob into an empty directory: decompress, parse the tar in TypeScript,
 * and hand the entries in batches to the native applier, which writes them on the thread
 * pool (under the directory's fd, never following a link) while the next batch is parsed.
 * The layer's diff id (the sha256 of its uncompressed tar) comes out of the same pass, and
 * so does the check of the compressed blob's digest and size when they are given. On any
 * failure (hostile entry, digest mismatch, limit, abort, I/O) the directory is emptied again.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { ImageArchiveError } from '../errors/errors';
import { native } from '../native/binding';
import { OffThreadHash } from './hash-thread';
import type { NativeLayerApplier, NativeLayerEntry } from '../../types/native';
import { LayerEntryKind, entryFor } from './layer-ops';
import { chunksOf } from './stream-chunks';
import { NativeGunzip } from './tar/native-gunzip';
import { DecompressedTooLarge, compressionOf, decompressor, sniffCompression, type LayerCompression } from './tar/decompress';
import { TarParser, type TarHandler, type TarHeader } from './tar/tar-reader';

/** The issue's default for `maxLayerBytes`: 8 GiB of uncompressed tar per layer. */
export const DEFAULT_MAX_LAYER_BYTES = 8 * 1024 ** 3;

export interface UnpackLayerOptions {
  /** The layer's media type (OCI or Docker); absent: the compression is read from its first bytes. */
  mediaType?: string;
  /** An existing, empty directory: the layer's files go here. */
  into: string;
  /** Refuse a layer whose uncompressed tar is larger (a decompression bomb). Default 8 GiB. */
  maxLayerBytes?: number;
  signal?: AbortSignal;
  /** The expected diff id ("sha256:<hex>" of the uncompressed tar), from the image config. */
  diffId?: string;
  /** The expected digest and size of the blob as given (compressed), from the manifest. */
  digest?: string;
  size?: number;
  /**
   * The blob comes from the content store, which checked its digest when it stored it: the
   * digest names the layer in errors, and is not computed again (the size still is checked).
   */
  blobVerified?: boolean;
  /**
   * The unpacked layers below this one, top first. A parent directory the tar leaves out is
   * made with the attributes it has there (else 0755 root), so the overlay shows it unchanged.
   * A function: the layers below are still on their way; the unpack writes the entries
   * meanwhile, and asks for them (and waits) before it gives those directories their attributes.
   */
  lowerDirs?: string[] | (() => Promise<string[]>);
  /** Called as bytes of the blob are read. */
  onBytes?: (compressedBytes: number) => void;
}

export interface UnpackedLayer {
  /** "sha256:<hex>" of the uncompressed tar. */
  diffId: string;
  /** Bytes of uncompressed tar. */
  unpackedBytes: number;
}

/** Entries and data bytes in one batch for the applier: large enough to amortize a hop to the thread pool. */
const BATCH_ENTRIES = 2048;
const BATCH_BYTES = 4 * 1024 * 1024;

export async function unpackLayer(source: Readable, options: UnpackLayerOptions): Promise<UnpackedLayer> {
  const into = options.into;
  const existing = await fs.readdir(into);
  if (existing.length > 0) throw new Error(`unpackLayer: ${into} is not empty`);
  const privileged = process.geteuid?.() === 0;
  let applier: NativeLayerApplier | undefined;
  try {
    const lowersLater = typeof options.lowerDirs === 'function';
    applier = new (native().LayerApplier)(into, {
      privileged,
      opaqueXattr: privileged ? 'trusted.overlay.opaque' : 'user.overlay.opaque',
      lowerDirs: lowersLater ? [] : ((options.lowerDirs as string[] | undefined) ?? []),
      lowersAtFinish: lowersLater,
    });
    return await unpackInto(source, applier, options);
  } catch (error) {
    source.destroy();
    applier?.close();
    applier = undefined;
    await emptyDirectory(into);
    throw error;
  } finally {
    applier?.close();
  }
}

async function unpackInto(source: Readable, applier: NativeLayerApplier, options: UnpackLayerOptions): Promise<UnpackedLayer> {
  const { signal } = options;
  signal?.throwIfAborted();
  const maxBytes = options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  const onAbort = () => source.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const blob = new BlobCheck(options.digest, options.size, options.onBytes, options.blobVerified === true);
  const batcher = new EntryBatcher();
  const parser = new TarParser(batcher);
  let tar: TarSource | undefined;
  let unpackedBytes = 0;
  let inflight: Promise<void> | undefined;
  // Chunks whose file data are in batches not yet applied, with the batch that frees them.
  const held: { chunk: Buffer; batch: number }[] = [];
  let batchesSent = 0;
  const applied = (batch: number) => {
    while (held.length > 0 && held[0].batch <= batch) tar?.release((held.shift() as { chunk: Buffer }).chunk);
  };
  const send = async (batch: NativeLayerEntry[]) => {
    if (inflight) await inflight;
    signal?.throwIfAborted();
    const serial = batchesSent++;
    inflight = applier.apply(batch).then(
      () => applied(serial),
      (error: unknown) => {
        throw nativeError(error);
      },
    );
    // Seen when awaited; never an unhandled rejection meanwhile.
    inflight.catch(() => {});
  };
  try {
    tar = await tarSource(source, options.mediaType, blob, maxBytes);
    for (let chunk = await tar.next(); chunk; chunk = await tar.next()) {
      unpackedBytes += chunk.length;
      if (unpackedBytes > maxBytes) throw bombError(options, maxBytes, parser.current);
      const hashing = tar.hash(chunk);
      // After the end-of-archive marker, bytes still count towards the diff id.
      const slices = batcher.slices;
      if (!parser.ended) parser.write(chunk);
      // The chunk's file data go out in the batch being filled (or earlier ones).
      if (batcher.slices === slices) tar.release(chunk);
      else held.push({ chunk, batch: batchesSent + batcher.readyCount });
      for (let batch = batcher.take(); batch; batch = batcher.take()) await send(batch);
      if (hashing) await hashing;
    }
    parser.finish();
    batcher.flush();
    for (let batch = batcher.take(); batch; batch = batcher.take()) await send(batch);
    if (inflight) await inflight;
    inflight = undefined;
    applied(Number.POSITIVE_INFINITY);
    await blob.verify();
    const diffId = `sha256:${await tar.diffId()}`;
    if (options.diffId !== undefined && options.diffId !== diffId) {
      throw new ImageArchiveError(options.digest ?? options.diffId, `the layer's diff id is ${diffId}, not ${options.diffId} as the image config says`);
    }
    const lowerDirs = typeof options.lowerDirs === 'function' ? await options.lowerDirs() : undefined;
    signal?.throwIfAborted();
    await applier.finish(lowerDirs).catch((error: unknown) => {
      throw nativeError(error);
    });
    return { diffId, unpackedBytes };
  } catch (error) {
    // The applier must be idle before it is closed.
    if (inflight) await inflight.catch(() => {});
    tar?.drop();
    blob.drop();
    if (signal?.aborted) throw signal.reason;
    if (error instanceof DecompressedTooLarge) throw bombError(options, maxBytes, parser.current);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A layer past maxLayerBytes: named by its blob (the bomb is the layer, not one file of it). */
function bombError(options: UnpackLayerOptions, maxBytes: number, current: string): ImageArchiveError {
  return new ImageArchiveError(
    options.digest ?? options.diffId ?? '(layer)',
    `the layer unpacks to more than ${maxBytes} bytes (maxLayerBytes)${current ? `, reading ${current}` : ''}: ` +
      'refused as a decompression bomb',
  );
}

/** The blob's digest and size, measured as it is read, checked at its end. */
class BlobCheck {
  readonly hash: OffThreadHash | undefined;
  bytes = 0;
  constructor(
    private readonly digest: string | undefined,
    private readonly size: number | undefined,
    private readonly onBytes: ((bytes: number) => void) | undefined,
    verified: boolean,
  ) {
    if (digest !== undefined) {
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new ImageArchiveError(digest, 'not a sha256 digest');
      if (!verified) this.hash = new OffThreadHash();
    }
  }

  /** Counts and hashes a chunk; a promise when the hash asks the reader to wait for the pool. */
  add(chunk: Buffer): Promise<void> | undefined {
    this.bytes += chunk.length;
    if (this.size !== undefined && this.bytes > this.size) {
      throw new ImageArchiveError(this.digest ?? '(layer)', `the blob is larger than the ${this.size} bytes the manifest gives`);
    }
    this.onBytes?.(this.bytes);
    return this.hash?.add(chunk);
  }

  async verify(): Promise<void> {
    const name = this.digest ?? '(layer)';
    if (this.size !== undefined && this.bytes !== this.size) {
      throw new ImageArchiveError(name, `the blob is ${this.bytes} bytes, not ${this.size} as the manifest gives`);
    }
    if (this.hash && this.digest !== `sha256:${await this.hash.digest()}`) {
      throw new ImageArchiveError(name, 'the blob does not match its digest');
    }
  }

  drop(): void {
    this.hash?.drop();
  }
}

/** The uncompressed tar of a blob, chunk by chunk, and its diff id. */
interface TarSource {
  /** The next chunk, or undefined at the end. */
  next(): Promise<Buffer | undefined>;
  /** Adds the chunk to the diff id where the source does not hash itself (a promise: wait for the pool). */
  hash(chunk: Buffer): Promise<void> | undefined;
  /** Nothing refers to the chunk's bytes any more. */
  release(chunk: Buffer): void;
  /** The hex diff id, once `next` gave undefined. */
  diffId(): Promise<string>;
  drop(): void;
}

/**
 * The blob's tar: gzip inflated by the addon into reused buffers (native-gunzip.ts); zstd or
 * plain tar through a stream, hashed on the pool (hash-thread.ts). The compressed bytes pass
 * through `blob` first.
 */
async function tarSource(source: Readable, mediaType: string | undefined, blob: BlobCheck, maxBytes: number): Promise<TarSource> {
  const input = chunksOf(source);
  let first = await input.next();
  while (!first.done && (first.value as Buffer).length === 0) first = await input.next();
  let compression: LayerCompression = 'none';
  if (mediaType !== undefined) compression = compressionOf(mediaType);
  else if (!first.done) compression = sniffCompression(first.value as Buffer);
  async function* raw(): AsyncGenerator<Buffer> {
    if (first.done) return;
    const wait = blob.add(first.value as Buffer);
    if (wait) await wait;
    yield first.value as Buffer;
    for (;;) {
      const next = await input.next();
      if (next.done) return;
      const waitNext = blob.add(next.value as Buffer);
      if (waitNext) await waitNext;
      yield next.value as Buffer;
    }
  }
  if (compression === 'gzip') {
    const gunzip = new NativeGunzip(raw());
    return {
      next: () => gunzip.next().catch((error: unknown) => Promise.reject(corruptionError(error, compression, blob))),
      hash: () => undefined,
      release: (chunk) => gunzip.release(chunk),
      diffId: async () => {
        try {
          return await gunzip.digest();
        } finally {
          gunzip.close();
        }
      },
      drop: () => gunzip.close(),
    };
  }
  const chunks = decompressed(raw(), compression, maxBytes);
  const diffHash = new OffThreadHash();
  return {
    next: async () => {
      try {
        const next = await chunks.next();
        return next.done ? undefined : next.value;
      } catch (error) {
        throw corruptionError(error, compression, blob);
      }
    },
    hash: (chunk) => diffHash.add(chunk),
    release: () => {},
    diffId: () => diffHash.digest(),
    drop: () => diffHash.drop(),
  };
}

/** The uncompressed bytes of `raw` (zstd or none). */
async function* decompressed(raw: AsyncGenerator<Buffer>, compression: LayerCompression, maxBytes: number): AsyncGenerator<Buffer> {
  const transform = decompressor(compression, maxBytes);
  if (!transform) {
    yield* raw;
    return;
  }
  // Read ahead of the decompressor, so the blob keeps flowing while it works.
  const out = pipeline(Readable.from(raw, { objectMode: false, highWaterMark: 1024 * 1024 }), transform, () => {});
  yield* chunksOf(out);
}

/** A decompressor's failure (corrupt or cut data) as the ImageArchiveError of the layer. */
function corruptionError(error: unknown, compression: LayerCompression, blob: BlobCheck): unknown {
  if (error instanceof ImageArchiveError || error instanceof DecompressedTooLarge) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'ERR_INVALID_ARG_TYPE') {
    return new ImageArchiveError(blob.bytes ? '(layer)' : '(empty layer)', `corrupt ${compression} data: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

/**
 * Tar entries as applier batches; file data are slices of the stream's chunks (no copy).
 * `toEntry` judges each header (a layer's rules by default; a copy into a container has its own).
 */
export class EntryBatcher implements TarHandler {
  private batch: NativeLayerEntry[] = [];
  private batchBytes = 0;
  private readonly ready: NativeLayerEntry[][] = [];
  /** The entry that takes the current file's next bytes (a File entry, or a Data entry in a later batch). */
  private receiving: NativeLayerEntry | undefined;
  private receivingPath = '';
  /** Whether `receiving` went out with an earlier batch (its next bytes need a Data entry). */
  private receivingSent = false;
  /** File data slices taken so far (a chunk that added none is not referred to). */
  slices = 0;

  /** Batches complete and waiting for `take`. */
  get readyCount(): number {
    return this.ready.length;
  }

  constructor(private readonly toEntry: (header: TarHeader) => NativeLayerEntry | null = entryFor) {}

  entry(header: TarHeader): void {
    const entry = this.toEntry(header);
    this.receiving = undefined;
    if (!entry) return;
    this.push(entry);
    if (entry.kind === LayerEntryKind.File && (entry.size ?? 0) > 0) {
      this.receiving = entry;
      this.receivingPath = entry.path;
      this.receivingSent = false;
    }
  }

  data(chunk: Buffer): void {
    if (!this.receiving) return; // the data of an entry that keeps none (a link, a directory)
    if (this.receivingSent) {
      this.receiving = { kind: LayerEntryKind.Data, path: this.receivingPath, data: [] };
      this.receivingSent = false;
      this.push(this.receiving);
    }
    this.receiving.data!.push(chunk);
    this.slices++;
    this.batchBytes += chunk.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    this.ready.push(this.batch);
    this.batch = [];
    this.batchBytes = 0;
    this.receivingSent = true;
  }

  take(): NativeLayerEntry[] | undefined {
    return this.ready.shift();
  }

  private push(entry: NativeLayerEntry): void {
    if (this.batch.length >= BATCH_ENTRIES) this.flush();
    this.batch.push(entry);
  }
}

/** Refusals of the applier (a path through a symlink, a link out of the layer) as ImageArchiveError. */
const REFUSALS = new Set(['ELOOP', 'EXDEV', 'ENOTDIR', 'EINVAL']);

function nativeError(error: unknown): Error {
  const e = error as Error & { entry?: string; code?: string; step?: string };
  if (typeof e?.entry !== 'string') return e;
  if (REFUSALS.has(e.code ?? '') || (e.step ?? '').startsWith('hard link target')) {
    return new ImageArchiveError(e.entry, e.message, { cause: e });
  }
  return e;
}

/** Removes everything inside `dir` (a failed unpack leaves nothing of itself). */
export async function emptyDirectory(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) await fs.rm(path.join(dir, name), { recursive: true, force: true, maxRetries: 2 });
}
