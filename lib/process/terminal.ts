/**
 * The Node side of a container process's terminal: the master end of its pty, which the
 * container's process sent before it exec'd (native/helper/terminal.cc), as two streams. `input` is what
 * the program reads (keystrokes), `output` what it writes (stdout and stderr, merged as on any
 * terminal). Both exist from the start: the master arrives with the helper's report, and
 * listeners a caller sets right after spawn() must still see everything.
 *
 * The master is non-blocking (the container's process opened it so) and both its ends are
 * driven from the event loop, never through a tty.ReadStream: libuv would take the master's
 * last short read, which comes with POLLHUP once the program's side is closed, for the end and
 * drop the output queued behind it; and it writes to a pty master as to a blocking fd, looping
 * on EAGAIN, so a program that does not read its input would stall Node. The addon reads
 * (readTerminal); input goes out with fs.writeSync, and what does not fit in the terminal's
 * input queue is tried again a little later.
 */
import * as fs from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import type { TerminalSize } from '../options/types';
import type { TerminalReaderHandle } from '../../types/native';
import { native } from '../native/binding';
import { errnoName } from '../errors/errors';

/**
 * Once the process has exited, its output is all in the master, which reads EIO when that is
 * read and no process holds the terminal. A process it left in the background may still hold
 * it, and write to it without end: the session ends anyway, this long after the exit. Only time
 * in which the reader keeps up counts (output a slow reader has not taken yet is no reason to
 * stop), up to GRACE_MOST_MS in all. Output does not extend it: it is no quiet timer.
 */
export const GRACE_AFTER_EXIT_MS = 150;
export const GRACE_MOST_MS = 2000;
const GRACE_STEP_MS = 25;

/** Waits before writing again input that the program has not made room for. */
const RETRY_FIRST_MS = 5;
const RETRY_MAX_MS = 100;

/** ^D: what stdin.end() types, the end of input for a program that reads lines. */
const END_OF_INPUT = Buffer.from([0x04]);

type Done = (error?: Error | null) => void;

export class Terminal {
  /** What the program reads: written to the master. end() types ^D. */
  readonly input: Writable;
  /** What the program writes: read from the master; ends once the master is closed. */
  readonly output: PassThrough;

  #size: TerminalSize;
  #fd = -1;
  #reader: TerminalReaderHandle | undefined;
  #attached = false;
  #closed = false;
  #resizedEarly = false;
  #processExited = false;
  #paused = false;
  #graceTimer: NodeJS.Timeout | undefined;
  /** Input written before the master arrived, to write once it has. */
  readonly #waiting: (() => void)[] = [];
  /** A write waiting for room in the terminal's input queue. */
  #retry: { timer: NodeJS.Timeout; done: Done } | undefined;

  constructor(size: TerminalSize) {
    this.#size = { ...size };
    this.input = new Writable({
      write: (chunk: Buffer, _encoding, done) => this.#write(chunk, done),
      final: (done) => this.#write(END_OF_INPUT, done),
    });
    this.output = new PassThrough();
    // Once the reader is behind, the master waits; once it has caught up, reading goes on.
    this.output.on('drain', () => this.#resume());
    // Destroyed by its owner (the process is destroyed, or failed to start): the master goes too.
    this.output.once('close', () => this.close());
  }

  /** The size the terminal was given last. */
  get size(): TerminalSize {
    return { ...this.#size };
  }

  /** Connects the master (-1: none came; the output then just ends). Takes ownership of fd. */
  attach(fd: number): void {
    if (this.#closed || this.#attached) {
      if (fd >= 0) native().closeFd(fd);
      return;
    }
    this.#attached = true;
    if (!(fd >= 0)) {
      this.#finish();
      return;
    }
    this.#fd = fd;
    if (this.#resizedEarly) native().setWindowSize(fd, this.#size.columns, this.#size.rows);
    this.#reader = native().readTerminal(
      fd,
      (data) => this.#onData(data),
      (errno) => this.#onEnd(errno),
    );
    for (const resume of this.#waiting.splice(0)) resume();
  }

  /** TIOCSWINSZ: the program's foreground process group gets SIGWINCH. No-op once closed. */
  resize(size: TerminalSize): void {
    if (this.#closed) return;
    this.#size = { ...size };
    if (!this.#attached) {
      // Applied when the master arrives (the plan carried the first size).
      this.#resizedEarly = true;
      return;
    }
    native().setWindowSize(this.#fd, size.columns, size.rows);
  }

  /**
   * The process has exited: what it wrote is read, then the master closes. Input stops now:
   * what is typed from here on would reach only a process it left behind (a fake prompt).
   */
  processExited(): void {
    this.#processExited = true;
    this.#dropPendingInput();
    this.#startGrace();
  }

  /** Closes the master now; output not read from it yet is dropped. Idempotent. */
  close(): void {
    this.#finish();
  }

  #onData(data: Buffer): void {
    if (!this.output.write(data)) {
      this.#paused = true;
      this.#reader?.pause();
    }
  }

  #onEnd(errno: number): void {
    // The addon has stopped reading; its handle is spent.
    this.#reader = undefined;
    if (errno !== 0 && !this.output.destroyed) {
      const error = new Error(`read the terminal: ${errnoName(errno)}`) as NodeJS.ErrnoException;
      error.errno = -errno;
      error.code = errnoName(errno);
      error.syscall = 'read';
      this.output.destroy(error);
    }
    this.#finish();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#reader?.resume();
  }

  /** Stops reading, closes the master, ends the output and lets pending input go. */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#graceTimer) clearInterval(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#reader?.close();
    this.#reader = undefined;
    // No write is in flight (they are synchronous), so the fd can go now.
    if (this.#fd >= 0) native().closeFd(this.#fd);
    this.#fd = -1;
    this.#dropPendingInput();
    if (!this.output.destroyed && !this.output.writableEnded) this.output.end();
  }

  /** Input waiting for room or for the master: each sees the session over and drops its input. */
  #dropPendingInput(): void {
    const retry = this.#retry;
    this.#retry = undefined;
    if (retry) {
      clearTimeout(retry.timer);
      retry.done();
    }
    for (const resume of this.#waiting.splice(0)) resume();
  }

  #startGrace(): void {
    if (this.#closed || this.#graceTimer) return;
    let readingMs = 0;
    let sinceExitMs = 0;
    this.#graceTimer = setInterval(() => {
      sinceExitMs += GRACE_STEP_MS;
      // Output nobody has taken yet holds the reader back: that time is not counted.
      if (!this.#paused) readingMs += GRACE_STEP_MS;
      if (readingMs >= GRACE_AFTER_EXIT_MS || sinceExitMs >= GRACE_MOST_MS) this.#finish();
    }, GRACE_STEP_MS);
    // The terminal keeps no program alive that has nothing else to do.
    this.#graceTimer.unref();
  }

  #write(chunk: Buffer, done: Done): void {
    // Input for a terminal that is gone, or whose program has exited, reaches no program of the
    // user's: dropped, as a closed terminal drops keys.
    if (this.#closed || this.#processExited) return done();
    if (!this.#attached) {
      this.#waiting.push(() => this.#write(chunk, done));
      return;
    }
    let offset = 0;
    let delay = RETRY_FIRST_MS;
    const attempt = (): void => {
      this.#retry = undefined;
      if (this.#closed || this.#processExited) return done();
      try {
        while (offset < chunk.length) offset += fs.writeSync(this.#fd, chunk, offset, chunk.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // The terminal's input queue is full: the program has not read what it was given.
          this.#retry = { timer: setTimeout(attempt, delay), done };
          delay = Math.min(delay * 2, RETRY_MAX_MS);
          return;
        }
        // EIO: no process holds the terminal any more.
        if (code === 'EIO') return done();
        return done(error as Error);
      }
      done();
    };
    attempt();
  }
}
