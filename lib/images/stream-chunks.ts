/**
 * The chunks of a byte stream as they were pushed, for `for await`. Iterating a Readable
 * directly reads in paused mode, where each read() joins everything buffered into one new
 * Buffer: a copy of every byte of a layer at each stage that buffers megabytes. Here the
 * chunks are taken from 'data' events as they are, and the stream is paused while the
 * consumer has its high-water mark of them waiting.
 */
import type { Readable } from 'node:stream';

export async function* chunksOf(stream: Readable): AsyncGenerator<Buffer, void, undefined> {
  const limit = Math.max(stream.readableHighWaterMark, 1);
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onData = (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= limit) stream.pause();
    notify();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: Error) => {
    failure ??= error;
    notify();
  };
  const onClose = () => {
    if (!ended && !failure) failure = Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    notify();
  };
  stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  try {
    for (;;) {
      if (failure) throw failure;
      const chunk = queue.shift();
      if (chunk !== undefined) {
        queued -= chunk.length;
        if (queued < limit && stream.isPaused() && !ended) stream.resume();
        yield chunk;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    // A consumer that stops early (or fails) ends the stream, as for-await over it would.
    if (!ended) {
      stream.on('error', () => {});
      stream.destroy();
    }
  }
}
