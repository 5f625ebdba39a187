/**
 * A Writable onto an open FileHandle that never closes it: the store keeps its temporary
 * files open (and flock-ed) past the end of the stream, until they are synced and renamed.
 * (fs write streams over a handle or fd either hold the handle forever or close the fd
 * themselves when destroyed.) The chunks that arrive while a write is in flight go out
 * together in one writev: a download's 64 KiB socket reads cost one trip to the thread pool
 * per few MiB, not one each. The sink is the last stage to read a download's chunks: once
 * written, they are let go (read-slabs.ts).
 */
import type * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { releaseChunk } from './read-slabs';
import { native } from '../native/binding';

/** Bytes buffered before the stream asks its source to wait. */
const BUFFERED_BYTES = 4 * 1024 * 1024;
/**
 * Every stretch this long that is written is sent to disk at once (not waited for): the fsync
 * that completes the blob then waits for the last stretch, not for the whole file.
 */
const WRITEBACK_BYTES = 8 * 1024 * 1024;
/** Buffers per writev (the kernel takes at most 1024 at once). */
const MAX_BUFFERS = 1024;

export function fileSink(handle: fs.promises.FileHandle, start = 0): Writable {
  let position = start;
  let writtenBack = start;
  const startWriteback = (): void => {
    if (position - writtenBack < WRITEBACK_BYTES) return;
    // Only a head start: a failure here is the fsync's to report.
    native().startWriteback(handle.fd, writtenBack, position - writtenBack).catch(() => undefined);
    writtenBack = position;
  };
  const writeAll = async (chunks: Buffer[]) => {
    const buffers = chunks.slice();
    for (let first = 0; first < buffers.length; ) {
      const batch = buffers.slice(first, first + MAX_BUFFERS);
      let { bytesWritten } = await handle.writev(batch, position);
      position += bytesWritten;
      // A short write: go on from the first byte not written.
      for (const buffer of batch) {
        if (bytesWritten >= buffer.length) {
          bytesWritten -= buffer.length;
          first++;
          continue;
        }
        buffers[first] = buffer.subarray(bytesWritten);
        break;
      }
    }
    for (const chunk of chunks) releaseChunk(chunk);
    startWriteback();
  };
  return new Writable({
    highWaterMark: BUFFERED_BYTES,
    write(chunk: Buffer, _encoding, done) {
      writeAll([chunk]).then(() => done(), done);
    },
    writev(chunks, done) {
      writeAll(chunks.map((c) => c.chunk as Buffer)).then(() => done(), done);
    },
  });
}
