/**
 * A detached container's log, as its monitor writes it (cpp/monitor.cc): frames of
 * "<stdout|stderr> <unix ms> <length>\n" followed by exactly <length> bytes of output,
 * so any bytes (not only text) come back as they were written, each tagged with its stream.
 */
import * as fs from 'node:fs';
import type { LogOptions, LogRecord } from './types';

const FOLLOW_POLL_MS = 50;

/** Parses the complete frames in `bytes`; returns them and how many bytes they used. */
export function parseFrames(bytes: Buffer): { records: LogRecord[]; used: number } {
  const records: LogRecord[] = [];
  let offset = 0;
  for (;;) {
    const newline = bytes.indexOf(0x0a, offset);
    if (newline < 0) break;
    const header = /^(stdout|stderr) (\d+) (\d+)$/.exec(bytes.subarray(offset, newline).toString('latin1'));
    if (!header) throw new Error(`log: malformed frame header at byte ${offset}`);
    const length = Number(header[3]);
    const end = newline + 1 + length;
    if (end > bytes.length) break;
    records.push({ stream: header[1] as LogRecord['stream'], time: new Date(Number(header[2])), data: bytes.subarray(newline + 1, end) });
    offset = end;
  }
  return { records, used: offset };
}

/**
 * Reads the log from its start; with follow, goes on reading what is appended until
 * `isFinished()` says no more will come (then reads the rest) or the signal aborts.
 */
export async function* readLog(file: string, options: LogOptions, isFinished: () => boolean): AsyncGenerator<LogRecord> {
  let position = 0;
  let pending: Buffer = Buffer.alloc(0);
  const readMore = (): LogRecord[] => {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= position) return [];
      const chunk = Buffer.alloc(size - position);
      const n = fs.readSync(fd, chunk, 0, chunk.length, position);
      position += n;
      pending = Buffer.concat([pending, chunk.subarray(0, n)]);
    } finally {
      fs.closeSync(fd);
    }
    const { records, used } = parseFrames(pending);
    pending = pending.subarray(used);
    return records;
  };
  for (;;) {
    if (options.signal?.aborted) return;
    // Checked before reading, so nothing written before the end is missed.
    const finished = !options.follow || isFinished();
    yield* readMore();
    if (finished) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}
