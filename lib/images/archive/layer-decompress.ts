/**
 * Layer decompression for exports: a docker-archive holds each layer as a plain tar whose
 * digest is the layer's diff id, whatever compression the store keeps it in.
 */
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import type { Compression } from '../media-types';

/** fzstd's push-style streaming decoder as a Node Transform. */
class ZstdDecompress extends Transform {
  readonly #decoder = new Decompress((chunk) => {
    this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.#decoder.push(chunk);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#decoder.push(new Uint8Array(0), true);
      done();
    } catch (error) {
      done(error as Error);
    }
  }
}

/** A stream stage that undoes `compression`; undefined for an uncompressed layer. */
export function decompressor(compression: Compression): Transform | undefined {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') return new ZstdDecompress();
  return undefined;
}
