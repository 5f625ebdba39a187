/**
 * A detached container's log, as its monitor writes it (native/monitor/log_writer.cc): frames of
 * "<stdout|stderr|dropped> <unix ms> <length>\n" followed by exactly <length> bytes of output
 * (the header is declared in protocol/state-files.ts),
 * so any bytes (not only text) come back as they were written, each tagged with its stream.
 * A "dropped" frame's bytes are the decimal count of output bytes the monitor could not write.
 *
 * The log is rotated: container.log is the newest file, container.log.1 the one before it,
 * and so on; a frame is never split between files. Reading starts at the oldest file and
 * walks to the newest, following each file by its inode through the renames, so a rotation
 * while reading (or following) loses and repeats nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogOptions, LogRecord } from './types';
import { selectRecords } from './log-select';
import { LOG_FRAME_HEADER, LOG_FRAME_TERMINATOR } from '../protocol/generated/state-files';

const FOLLOW_POLL_MS = 50;

/** Parses the complete frames in `bytes`; returns them and how many bytes they used. */
export function parseFrames(bytes: Buffer): { records: LogRecord[]; used: number } {
  const records: LogRecord[] = [];
  let offset = 0;
  for (;;) {
    const newline = bytes.indexOf(LOG_FRAME_TERMINATOR, offset);
    if (newline < 0) break;
    const header = LOG_FRAME_HEADER.exec(bytes.subarray(offset, newline).toString('latin1'));
    if (!header) throw new Error(`log: malformed frame header at byte ${offset}`);
    const length = Number(header[3]);
    const end = newline + 1 + length;
    if (end > bytes.length) break;
    const data = bytes.subarray(newline + 1, end);
    const time = new Date(Number(header[2]));
    if (header[1] === 'dropped') records.push({ stream: 'dropped', time, data: Buffer.alloc(0), droppedBytes: Number(data.toString('latin1')) });
    else records.push({ stream: header[1] as 'stdout' | 'stderr', time, data });
    offset = end;
  }
  return { records, used: offset };
}

/** The rotated files (container.log.N) by N, and their inodes. */
function rotatedFiles(file: string): { index: number; ino: number }[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found: { index: number; ino: number }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[1-9]\d*$/.test(name.slice(prefix.length))) continue;
    const index = Number(name.slice(prefix.length));
    try {
      found.push({ index, ino: fs.lstatSync(path.join(dir, name)).ino });
    } catch {
      // Rotated away meanwhile.
    }
  }
  return found.sort((a, b) => a.index - b.index);
}

function openIfThere(name: string): number | null {
  try {
    return fs.openSync(name, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function inodeAt(name: string): number | null {
  try {
    return fs.lstatSync(name).ino;
  } catch {
    return null;
  }
}

/**
 * The log's files, oldest first, one at a time. `next()` is called once the current file is
 * read to its end: it moves on when the current file has been rotated (a newer one exists),
 * and returns false while the current one is still the newest.
 */
class LogFiles {
  #fd: number | null = null;
  #ino = -1;
  position = 0;

  constructor(readonly file: string) {}

  get fd(): number | null {
    return this.#fd;
  }

  close(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  #open(name: string): boolean {
    const fd = openIfThere(name);
    if (fd === null) return false;
    this.close();
    this.#fd = fd;
    this.#ino = fs.fstatSync(fd).ino;
    this.position = 0;
    return true;
  }

  /** Opens the oldest file there is; false when there is no log yet. */
  openOldest(): boolean {
    for (const { index } of rotatedFiles(this.file).reverse()) {
      if (this.#open(`${this.file}.${index}`)) return true;
    }
    return this.#open(this.file);
  }

  /**
   * Whether the file being read will grow no more: the monitor writes only to container.log,
   * and renames it before it makes a new one. Checked before the last read of a file.
   */
  isRotated(): boolean {
    return this.#fd !== null && inodeAt(this.file) !== this.#ino;
  }

  /** Opens the file after the current one (read to its end, and rotated). */
  openNext(): boolean {
    const rotated = rotatedFiles(this.file);
    const at = rotated.find((r) => r.ino === this.#ino);
    if (at) {
      // The next newer file: .N-1, or container.log after .1.
      const newer = rotated.filter((r) => r.index < at.index).pop();
      return this.#open(newer ? `${this.file}.${newer.index}` : this.file) || this.#open(this.file);
    }
    // Not there any more: removed as the oldest while we read it. Go on with the oldest left.
    return this.openOldest();
  }
}

/**
 * Reads the log from its oldest file; with follow, goes on reading what is appended (across
 * rotations) until `isFinished()` says no more will come (then reads the rest) or the signal
 * aborts. `since` and `tail` select as log-select.ts says.
 */
export function readLog(file: string, options: LogOptions, isFinished: () => boolean): AsyncGenerator<LogRecord> {
  return selectRecords(logBatches(file, options, isFinished), options);
}

/** The log's records in batches: the first is everything there is now. */
async function* logBatches(file: string, options: LogOptions, isFinished: () => boolean): AsyncGenerator<LogRecord[]> {
  const files = new LogFiles(file);
  let pending: Buffer = Buffer.alloc(0);
  /** Reads the current file from where it was left to its end. */
  const readToEnd = (): LogRecord[] => {
    const fd = files.fd;
    if (fd === null) return [];
    const size = fs.fstatSync(fd).size;
    if (size <= files.position) return [];
    const chunk = Buffer.alloc(size - files.position);
    const n = fs.readSync(fd, chunk, 0, chunk.length, files.position);
    files.position += n;
    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
    const { records, used } = parseFrames(pending);
    pending = pending.subarray(used);
    return records;
  };
  /** Everything there is now, through every rotated file to the newest. */
  const readAvailable = (): LogRecord[] => {
    if (files.fd === null && !files.openOldest()) return [];
    const records: LogRecord[] = [];
    for (;;) {
      // Asked before the read: once rotated, the file is complete, and a read after the
      // question gets all of it.
      const rotated = files.isRotated();
      records.push(...readToEnd());
      if (!rotated) return records;
      // A frame never spans two files: what is left is a frame cut short (a crash); it goes.
      pending = Buffer.alloc(0);
      if (!files.openNext()) return records;
    }
  };
  try {
    for (;;) {
      if (options.signal?.aborted) return;
      // Checked before reading, so nothing written before the end is missed.
      const finished = !options.follow || isFinished();
      yield readAvailable();
      if (finished) return;
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    }
  } finally {
    files.close();
  }
}
