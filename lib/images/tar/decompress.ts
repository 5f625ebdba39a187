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

/** A transform that decompresses, or null for 'none'. */
export function decompressor(compression: LayerCompression): Transform | null {
  switch (compression) {
    case 'none':
      return null;
    case 'gzip':
      // Large output chunks: fewer, bigger batches for the applier.
      return zlib.createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd':
      return new ZstdTransform();
  }
}

class ZstdTransform extends Transform {
  private readonly decoder = new ZstdDecompress((chunk) => {
    // fzstd may hand out views of its own window: copy before it moves on.
    if (chunk.length > 0) this.push(Buffer.from(chunk));
  });

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
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(`zstd: ${message}`), { code: 'Z_DATA_ERROR' });
}
