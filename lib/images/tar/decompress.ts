/**
 * A layer's compression, from its media type (OCI and Docker) or, where an archive names
 * none (`docker save` layers), from its first bytes; and a stream that undoes it. gzip is
 * Node's zlib (its work runs on the thread pool); zstd is fzstd, a pure-JavaScript
 * streaming decoder, since Node 20 has none.
 */
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { ImageArchiveError } from '../../errors/errors';

export type LayerCompression = 'none' | 'gzip' | 'zstd';

/**
 * The compression a layer media type names: OCI's `...layer.v1.tar[+gzip|+zstd]` (and the
 * non-distributable forms), Docker's `...rootfs.diff.tar[.gzip]` and `...foreign.diff.tar.gzip`.
 * Throws ImageArchiveError for anything else.
 */
export function compressionOf(mediaType: string): LayerCompression {
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar$/.test(mediaType)) return 'none';
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar\+gzip$/.test(mediaType)) return 'gzip';
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar\+zstd$/.test(mediaType)) return 'zstd';
  if (/^application\/vnd\.docker\.image\.rootfs\.(foreign\.)?diff\.tar\.gzip$/.test(mediaType)) return 'gzip';
  if (/^application\/vnd\.docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.zstd)?$/.test(mediaType)) {
    return mediaType.endsWith('.zstd') ? 'zstd' : 'none';
  }
  throw new ImageArchiveError(mediaType, 'not a layer media type this store can unpack');
}

/** The compression that a stream's first bytes show (gzip 1f 8b, zstd 28 b5 2f fd; else none). */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Thrown (as the stream's error) when a decompressor's output passes `maxBytes`. */
export class DecompressedTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes once decompressed`);
  }
}

/**
 * A transform that decompresses, or null for 'none'. Past `maxBytes` of output it fails with
 * DecompressedTooLarge: zstd decodes a whole input chunk at once, and a few bytes of it can
 * stand for gigabytes.
 */
export function decompressor(compression: LayerCompression, maxBytes = Number.MAX_SAFE_INTEGER): Transform | null {
  switch (compression) {
    case 'none':
      return null;
    case 'gzip':
      // Large output chunks: fewer, bigger batches for the applier. A deep output buffer lets
      // inflate (on the thread pool) run ahead while the main thread hashes and parses, as
      // `tar -xz` overlaps gzip and tar in two processes.
      // (zlib streams hand their options to Transform; ZlibOptions does not declare these.)
      const buffering = { readableHighWaterMark: 8 * 1024 * 1024, writableHighWaterMark: 1024 * 1024 };
      return zlib.createGunzip({ chunkSize: 256 * 1024, ...buffering } as zlib.ZlibOptions);
    case 'zstd':
      return new ZstdTransform(maxBytes);
  }
}

class ZstdTransform extends Transform {
  private produced = 0;
  private readonly decoder = new ZstdDecompress((chunk) => {
    this.produced += chunk.length;
    // Thrown out of the decoder's push: it stops decoding at once.
    if (this.produced > this.maxBytes) throw new DecompressedTooLarge(this.maxBytes);
    // fzstd may hand out views of its own window: copy before it moves on.
    if (chunk.length > 0) this.push(Buffer.from(chunk));
  });

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.push(chunk);
    } catch (error) {
      callback(zstdError(error));
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
    } catch (error) {
      callback(zstdError(error));
      return;
    }
    callback();
  }
}

function zstdError(error: unknown): Error {
  if (error instanceof DecompressedTooLarge) return error;
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(`zstd: ${message}`), { code: 'Z_DATA_ERROR' });
}
