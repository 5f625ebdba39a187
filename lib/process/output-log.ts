/**
 * The log of a container that is not detached: what its main process wrote to 'pipe' stdout
 * and stderr (or its terminal), as Node read it, kept in memory for c.logs(). It is capped as
 * a detached container's log is (log.maxSize x log.maxFiles, 30 MiB by default): past the cap
 * the oldest output goes. Only what passes through Node is recorded: with 'inherit' or
 * 'ignore' the output never does, and logs() says so (ContainerLogsError).
 *
 * Recording does not change how the streams flow: it sees each chunk as the stream takes it
 * in (push), whether or when the caller reads it.
 */
import type { Readable } from 'node:stream';
import type { LogRecord } from '../state/types';

export class OutputLog {
  /** The records kept are #records[#first..]: dropping one only moves #first (no shift per record). */
  #records: LogRecord[] = [];
  #first = 0;
  #bytes = 0;
  /** How many records went past the cap: the index of #records[#first] among all there were. */
  #dropped = 0;
  #ended = false;
  readonly #waiters = new Set<() => void>();

  constructor(readonly capBytes: number) {}

  add(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    let data = chunk;
    if (data.length > this.capBytes) data = data.subarray(data.length - this.capBytes);
    this.#records.push({ stream, time: new Date(), data });
    this.#bytes += data.length;
    while (this.#bytes > this.capBytes) {
      const oldest = this.#records[this.#first++] as LogRecord;
      this.#bytes -= oldest.data.length;
      this.#dropped++;
    }
    // The dropped slots go once they are most of the array.
    if (this.#first > 1024 && this.#first * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#first);
      this.#first = 0;
    }
    this.#wake();
  }

  /** No more output will come (the process's stdio has closed). */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
    this.#waiters.clear();
  }

  /** The records in batches: the first is everything kept now; with follow, later ones until end(). */
  async *batches(follow: boolean, signal?: AbortSignal): AsyncGenerator<LogRecord[]> {
    let next = this.#dropped;
    for (;;) {
      if (signal?.aborted) return;
      const ended = this.#ended;
      const batch = this.#records.slice(this.#first + Math.max(0, next - this.#dropped));
      next = this.#dropped + this.#records.length - this.#first;
      yield batch;
      if (!follow || ended) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          this.#waiters.delete(done);
          resolve();
        };
        this.#waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}

/** Records every chunk the stream takes in, under `name`. */
export function recordStream(stream: Readable, name: 'stdout' | 'stderr', log: OutputLog): void {
  const push = stream.push.bind(stream);
  stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk !== null && chunk !== undefined) {
      const data = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk as Uint8Array);
      if (data.length > 0) log.add(name, data);
    }
    return push(chunk, encoding);
  };
}

/**
 * The log of a main process's 'pipe' stdout and stderr (or its terminal, as stdout), ended when
 * its stdio closes; undefined when neither passes through Node.
 */
export function recordOutput(
  main: { stdout: Readable | null; stderr: Readable | null; once(event: 'close', listener: () => void): unknown },
  cap: { maxSize: number; maxFiles: number },
): OutputLog | undefined {
  if (!main.stdout && !main.stderr) return undefined;
  const log = new OutputLog(cap.maxSize * cap.maxFiles);
  if (main.stdout) recordStream(main.stdout, 'stdout', log);
  if (main.stderr) recordStream(main.stderr, 'stderr', log);
  main.once('close', () => log.end());
  return log;
}
