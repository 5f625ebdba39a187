/**
 * A Writable onto an open FileHandle that never closes it: the store keeps its temporary
 * files open (and flock-ed) past the end of the stream, until they are synced and renamed.
 * (fs write streams over a handle or fd either hold the handle forever or close the fd
 * themselves when destroyed.)
 */
import type * as fs from 'node:fs';
import { Writable } from 'node:stream';

export function fileSink(handle: fs.promises.FileHandle, start = 0): Writable {
  let position = start;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      (async () => {
        for (let offset = 0; offset < chunk.length; ) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position);
          offset += bytesWritten;
          position += bytesWritten;
        }
      })().then(() => done(), done);
    },
  });
}
