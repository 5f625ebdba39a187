/**
 * A process running in a container, shaped like Node's ChildProcess: pid,
 * stdio streams, kill(), and the 'spawn', 'exit', 'close' and 'error' events;
 * plus wait() and output() promises. Its exit is seen through its pidfd.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { ExitStatus, ProcessOutput, TerminalSize, Usage } from '../options/types';
import type { ExitBookkeeping, ExitWatcherHandle, HelperReport, ProcessResources } from '../../types/native';
import { native } from '../native/binding';
import { closeChildEnds, ResolvedStdio } from './stdio';
import { signalName, toSignalNumber } from './signals';
import { liveProcesses } from './live-processes';
import { releaseNamespaceHolds } from './namespace-holds';
import { processUsage } from './usage';
import { Terminal } from './terminal';
import { checkDimension } from '../options/tty';
import { ContainerStateError } from '../errors/errors';
import { fail } from '../options/option-error';
import type { EmitArgs, ListenerOf } from './stdio-types';

export interface ProcessLaunch {
  argv: string[];
  stdio: ResolvedStdio;
  /** Starts the helper; resolves with its report. Rejections become 'error'. */
  start: (stdioFds: [number, number, number]) => Promise<HelperReport>;
  /** Turns a failed report into the error the user sees. */
  reportError: (report: HelperReport) => Error;
  /** The usage report at exit, from the process's own figures and its wall time (setupMs is added). */
  usage?: (own: ProcessResources, wallMs: number) => Omit<Usage, 'setupMs'>;
  timeout?: number;
  killSignal: number;
  signal?: AbortSignal;
  /**
   * A pseudo-terminal of this size as the program's stdio (the helper's report brings its
   * master); `stdio` then holds only the helper's own fds.
   */
  tty?: TerminalSize | null;
  /**
   * Watches for the exit of a process that Node does not reap (a detached container's, or
   * one made by another process): default, Node's own child, reaped through its pidfd.
   */
  watchExit?: (pidfd: number, pid: number, onExit: (code: number | null, signal: number | null, resources: ProcessResources) => void) => ExitWatcherHandle;
  /** A detached container's main process is not killed when Node exits. */
  outlivesNode?: boolean;
  /**
   * For a process Node reaps: what the exit watcher does at the exit before Node hears of it
   * (native ExitBookkeeping), asked for once the process runs. The figures it reads reach
   * `usage` (ProcessResources.files); `recorded` is told whether run.json was written.
   */
  exitBookkeeping?: () => ExitBookkeeping | undefined;
  recorded?: (written: boolean) => void;
}

/**
 * After a timeout or an abort, SIGKILL follows killSignal when the process
 * is still there this long after: a container's PID 1 ignores every signal
 * it has no handler for, so killSignal alone may do nothing.
 */
export const KILL_ESCALATION_MS = 2000;

/**
 * After the program has exited, how long Node keeps reading its stdout and stderr pipes for end
 * of file. A process it left behind (`sh -c 'sleep 1000 &'`) holds their write ends: Node then
 * closes its read ends, and 'close' and output() come anyway, with `stdioOpenAfterExit` set.
 * Only time in which the caller reads counts: output a caller has not read yet is not dropped.
 */
export const STDIO_AFTER_EXIT_MS = 2000;
const STDIO_CHECK_MS = 100;

/** output()'s default `maxBuffer`: execFile's, 1 MiB of stdout (and as much of stderr). */
export const DEFAULT_MAX_BUFFER = 1024 * 1024;

export interface OutputOptions {
  /**
   * The most bytes of stdout, and of stderr, that output() keeps (default 1 MiB, as execFile).
   * More kills the process (SIGKILL) and rejects with code 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'.
   */
  maxBuffer?: number;
}

/**
 * Makes the process for a launch: spawn(), create() and exec() (and a handle on a detached
 * container's main process) are the only makers; ContainerProcess has no public constructor.
 */
export let launchProcess: (launch: ProcessLaunch) => ContainerProcess;

/**
 * Its events, typed as ChildProcess's: `on('exit', (code, signal) => ...)` gets
 * `number | null` and `NodeJS.Signals | null`; any other event name is EventEmitter's.
 */
export interface ContainerProcess<Stdin extends Writable | null = Writable | null, Stdout extends Readable | null = Readable | null, Stderr extends Readable | null = Readable | null> {
  on<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  once<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  off<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  addListener<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  removeListener<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  prependListener<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  prependOnceListener<E extends string | symbol>(event: E, listener: ListenerOf<E>): this;
  emit<E extends string | symbol>(event: E, ...args: EmitArgs<E>): boolean;
}

/**
 * `Stdin`, `Stdout` and `Stderr` are what the `stdio` and `tty` options made of them (see
 * lib/process/stdio-types.ts): spawn() and exec() return `ContainerProcess<Writable, Readable,
 * Readable>` for the default 'pipe', null where 'inherit', 'ignore' or an fd was given.
 */
export class ContainerProcess<Stdin extends Writable | null = Writable | null, Stdout extends Readable | null = Readable | null, Stderr extends Readable | null = Readable | null> extends EventEmitter {
  /** Host pid; set when 'spawn' is emitted. */
  pid: number | undefined;
  /** The program's stdin, for stdio 'pipe' (or a terminal's input); null otherwise. */
  readonly stdin: Stdin;
  /** The program's stdout, for stdio 'pipe' (or a terminal's output); null otherwise. */
  readonly stdout: Stdout;
  /** The program's stderr, for stdio 'pipe'; null otherwise, and with a terminal (merged into stdout). */
  readonly stderr: Stderr;
  readonly spawnfile: string;
  readonly spawnargs: string[];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** A signal was sent to it with kill(), or by its timeout or abort: as ChildProcess's. */
  killed = false;
  /** Its `timeout` ran out (killSignal was sent). */
  timedOut = false;
  /**
   * Something else (a process it left in the background) still held its stdout or stderr when
   * it exited, and Node stopped reading STDIO_AFTER_EXIT_MS later: output after that is lost.
   */
  stdioOpenAfterExit = false;
  /** Set at exit, for processes this Node process reaps (not a detached container's main process). */
  get usage(): Usage | undefined {
    if (this.#usageAtExit) {
      this.#usageValue = this.#usageAtExit();
      this.#usageAtExit = undefined;
    }
    return this.#usageValue;
  }

  set usage(value: Usage | undefined) {
    this.#usageAtExit = undefined;
    this.#usageValue = value;
  }

  #usageValue: Usage | undefined;
  /** How the report is made from what was read at the exit, until it is first asked for. */
  #usageAtExit: (() => Usage) | undefined;

  #pidfd = -1;
  /** When spawn() or exec() was called: setupMs counts from here. */
  readonly #calledAt = performance.now();
  #startedAt = 0;
  readonly #terminal: Terminal | null;
  readonly #watchExit: ProcessLaunch['watchExit'];
  #waited = false;
  /** wait(), output() or started was called: a failure to start is theirs to report. */
  #failureHandled = false;
  readonly #outlivesNode: boolean;
  #usage: ProcessLaunch['usage'];
  readonly #recorded: ProcessLaunch['recorded'];
  #escalation: NodeJS.Timeout | undefined;
  #watcher: ExitWatcherHandle | undefined;
  #exited = false;
  #failed: Error | undefined;
  #pendingSignal: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abortListener: (() => void) | undefined;
  #signal: AbortSignal | undefined;
  readonly #killSignal: number;
  readonly #settled: Promise<void>;
  readonly #closed: Promise<void>;
  readonly #started: Promise<void>;

  static {
    launchProcess = (launch) => new ContainerProcess(launch);
  }

  private constructor(launch: ProcessLaunch) {
    super();
    this.spawnfile = launch.argv[0];
    this.spawnargs = [...launch.argv];
    // With a terminal, stdin and stdout are the terminal's; stderr is merged into stdout there.
    // The stream types are the caller's promise (spawn() and exec() derive them from the same options).
    this.#terminal = launch.tty ? new Terminal(launch.tty) : null;
    this.stdin = (this.#terminal ? this.#terminal.input : launch.stdio.stdin) as Stdin;
    this.stdout = (this.#terminal ? this.#terminal.output : launch.stdio.stdout) as Stdout;
    this.stderr = (this.#terminal ? null : launch.stdio.stderr) as Stderr;
    this.#killSignal = launch.killSignal;
    this.#signal = launch.signal;
    this.#usage = launch.usage;
    this.#recorded = launch.recorded;
    this.#watchExit = launch.watchExit;
    this.#outlivesNode = launch.outlivesNode ?? false;
    // A process whose error nobody listens for must not crash the program
    // when the caller uses wait(); an 'error' listener is added only then.
    this.#settled = new Promise<void>((resolve) => {
      this.once('exit', () => resolve());
      this.once('spawn-failed', () => resolve());
    });
    this.#closed = this.#whenStdioClosed();
    // As with ChildProcess, 'spawn' (and pid) come before any output: the program may
    // write before the helper's report reaches us, so output waits for it.
    this.#holdOutput();
    if (launch.signal?.aborted) {
      // As with an abort during the run, but nothing is started at all.
      closeChildEnds(launch.stdio);
      this.#started = Promise.resolve();
      queueMicrotask(() => this.#fail(abortError(launch.signal as AbortSignal)));
      return;
    }
    this.#started = this.#launch(launch);
    if (launch.signal) this.#watchAbort(launch.signal);
    if (launch.timeout !== undefined) {
      this.#timer = setTimeout(() => {
        this.timedOut = true;
        this.#terminate();
      }, launch.timeout);
    }
  }

  /** killSignal now, SIGKILL later if that did not end the process. */
  #terminate(): void {
    this.kill(this.#killSignal);
    if (this.#killSignal === 9 || this.#exited) return;
    this.#escalation = setTimeout(() => this.kill(9), KILL_ESCALATION_MS);
    this.#escalation.unref();
  }

  async #launch(launch: ProcessLaunch): Promise<void> {
    let report: HelperReport;
    try {
      report = await launch.start(launch.stdio.childFds);
    } catch (error) {
      closeChildEnds(launch.stdio);
      this.#fail(error as Error);
      return;
    }
    closeChildEnds(launch.stdio);
    if (!report.ok) {
      this.#fail(launch.reportError(report));
      return;
    }
    this.pid = report.pid;
    this.#pidfd = report.pidfd;
    this.#heldNamespaces = report.heldNamespaceFds ?? [];
    this.#startedAt = performance.now();
    if (!this.#outlivesNode) liveProcesses.add(this.#pidfd);
    const onExit = (code: number | null, signal: number | null, resources: ProcessResources): void => this.#onExit(code, signal, resources);
    this.#watcher = this.#watchExit ? this.#watchExit(this.#pidfd, report.pid, onExit) : native().watchExit(this.#pidfd, onExit, true, launch.exitBookkeeping?.());
    if (this.#waited) this.#watcher.ref?.();
    // The master came with the report, before 'spawn': output is held until then, as always.
    if (this.#terminal) this.#terminal.attach(report.terminalFd ?? -1);
    else if (report.terminalFd >= 0) native().closeFd(report.terminalFd);
    this.emit('spawn');
    this.#releaseOutput();
    if (this.#pendingSignal !== undefined) this.kill(this.#pendingSignal);
  }

  /** Namespaces held so that their teardown was not part of the exit (see HelperReport). */
  #heldNamespaces: number[] = [];

  #heldOutput: Readable[] = [];

  #holdOutput(): void {
    for (const stream of [this.stdout, this.stderr]) {
      if (!stream) continue;
      stream.pause();
      this.#heldOutput.push(stream);
    }
  }

  /**
   * Lets output flow where the caller asked for it (a 'data' listener or a pipe), and
   * otherwise puts the stream back in its initial mode, where a later 'data' listener
   * starts it, as on any fresh stream.
   */
  #releaseOutput(): void {
    for (const stream of this.#heldOutput.splice(0)) {
      // The caller resumed it already: theirs to drive.
      if (stream.readableFlowing !== false) continue;
      const piped = (stream as unknown as { _readableState?: { pipes?: unknown[] } })._readableState?.pipes?.length ?? 0;
      if (stream.listenerCount('data') > 0 || piped > 0) stream.resume();
      else (stream as { readableFlowing: boolean | null }).readableFlowing = null;
    }
  }

  /** Resolves once the process runs (rejects if it could not start). */
  get started(): Promise<void> {
    // Whoever awaits this hears of a failure: it is not raised as an uncaught exception.
    this.#failureHandled = true;
    return this.#started.then(() => {
      if (this.#failed) throw this.#failed;
    });
  }

  /** The pidfd while the process has not been reaped; -1 after. */
  get pidfd(): number {
    return this.#exited ? -1 : this.#pidfd;
  }

  get running(): boolean {
    return this.#pidfd >= 0 && !this.#exited;
  }

  #fail(error: Error): void {
    this.#failed = error;
    this.#releaseOutput();
    this.#clearTimers();
    this.stdin?.destroy();
    this.stdout?.destroy();
    this.stderr?.destroy();
    this.emit('spawn-failed');
    if (this.listenerCount('error') > 0) {
      this.emit('error', error);
      return;
    }
    // As ChildProcess: by the next tick someone listens for 'error' or has asked for the outcome
    // (wait(), output(), started); else the error is thrown, an uncaught exception, not silence.
    process.nextTick(() => {
      if (this.listenerCount('error') > 0 || !this.#failureHandled) this.emit('error', error);
    });
  }

  #onExit(code: number | null, signal: number | null, resources: ProcessResources): void {
    this.#exited = true;
    this.#clearTimers();
    // Its output is drained from the terminal, then the master closes and 'close' follows.
    this.#terminal?.processExited();
    const wallMs = performance.now() - this.#startedAt;
    // A process another one reaps (a detached container's monitor) reports no figures here.
    if (!this.#watchExit) {
      const usageOf = this.#usage;
      const setupMs = this.#startedAt - this.#calledAt;
      const report = (): Usage => ({ ...(usageOf ? usageOf(resources, wallMs) : processUsage(resources, wallMs, false)), setupMs });
      // Figures the exit watcher read at the exit (resources.files) are worked out when first
      // asked for, off the way to 'exit' and wait(); a report that reads live files is made now.
      if (resources.files !== undefined) this.#usageAtExit = report;
      else this.usage = report();
      if (resources.recorded !== undefined) this.#recorded?.(resources.recorded);
    }
    liveProcesses.delete(this.#pidfd);
    this.#watcher = undefined;
    native().closeFd(this.#pidfd);
    // Let go a turn later, once wait() has resolved: handing them to the closing thread wakes it.
    const held = this.#heldNamespaces;
    setImmediate(() => releaseNamespaceHolds(held));
    this.exitCode = code;
    this.signalCode = signal === null ? null : signalName(signal);
    this.emit('exit', this.exitCode, this.signalCode);
    if (!this.#terminal) this.#boundStdioAfterExit();
    void this.#closed.then(() => this.emit('close', this.exitCode, this.signalCode));
  }

  /**
   * Ends Node's reading of stdout and stderr once the caller has read for STDIO_AFTER_EXIT_MS
   * after the exit without end of file: a process left behind holds the pipes.
   */
  #boundStdioAfterExit(): void {
    const open = (): Readable[] => this.#outputStreams().filter((s) => !s.destroyed && !s.readableEnded);
    if (open().length === 0) return;
    let readingMs = 0;
    const check = setInterval(() => {
      const streams = open();
      if (streams.length === 0) return clearInterval(check);
      // A stream nobody reads (paused, or behind a slow consumer) keeps its output: not counted.
      if (streams.some((s) => s.readableFlowing === true)) readingMs += STDIO_CHECK_MS;
      if (readingMs < STDIO_AFTER_EXIT_MS) return;
      clearInterval(check);
      this.stdioOpenAfterExit = true;
      for (const s of streams) s.destroy();
    }, STDIO_CHECK_MS);
    // This keeps no program alive that has nothing else to do.
    check.unref();
  }

  /** stdout and stderr, where Node has them. */
  #outputStreams(): Readable[] {
    return [this.stdout as Readable | null, this.stderr as Readable | null].filter((s): s is Readable => s !== null);
  }

  #whenStdioClosed(): Promise<void> {
    const streams = this.#outputStreams();
    return Promise.all(
      streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) resolve();
            else s.once('close', () => resolve());
          }),
      ),
    ).then(() => {
      this.stdin?.destroy();
    });
  }

  #watchAbort(signal: AbortSignal): void {
    const onAbort = (): void => {
      const error = abortError(signal);
      this.#terminate();
      this.#failed ??= error;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    };
    this.#abortListener = onAbort;
    signal.addEventListener('abort', onAbort, { once: true });
  }

  #clearTimers(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#escalation) clearTimeout(this.#escalation);
    this.#escalation = undefined;
    this.#timer = undefined;
    if (this.#abortListener && this.#signal) this.#signal.removeEventListener('abort', this.#abortListener);
    this.#abortListener = undefined;
  }

  /** Closes Node's ends of the stdio pipes, read or not (what was not read is dropped). */
  releaseStdio(): void {
    this.stdin?.destroy();
    this.stdout?.destroy();
    this.stderr?.destroy();
  }

  /** Whether the process has a terminal (the `tty` option): then stdin and stdout are the terminal's. */
  get isTTY(): boolean {
    return this.#terminal !== null;
  }

  /** The terminal's size as last set, or null for a process without a terminal. */
  get terminalSize(): TerminalSize | null {
    return this.#terminal ? this.#terminal.size : null;
  }

  /**
   * Resizes the terminal, as a terminal window does: the program's foreground process group
   * gets SIGWINCH. Throws ContainerStateError for a process without a terminal; does nothing
   * once the process has exited.
   */
  resize(columns: number, rows: number): void {
    if (!this.#terminal) {
      throw new ContainerStateError(`${this.spawnfile}: cannot resize: the process has no terminal (give it the tty option)`);
    }
    const size = { columns: checkDimension(columns, 'columns'), rows: checkDimension(rows, 'rows') };
    if (this.#exited || this.#failed) return;
    this.#terminal.resize(size);
  }

  /** Sends a signal (default SIGTERM). false when the process has exited or never started. */
  kill(signal?: NodeJS.Signals | number): boolean {
    const number = toSignalNumber(signal, toSignalNumber('SIGTERM', 15));
    if (this.#exited || this.#failed) return false;
    if (this.#pidfd < 0) {
      // Not started yet: deliver once it is.
      this.#pendingSignal = number;
      return true;
    }
    const sent = native().sendSignal(this.#pidfd, number);
    if (sent) this.killed = true;
    return sent;
  }

  /** Resolves with the exit status; rejects if the process could not start or was aborted. */
  async wait(): Promise<ExitStatus> {
    // Waiting for a process Node does not reap keeps Node running until it exits (its
    // watcher may not exist yet: it is made once the helper has reported).
    this.#waited = true;
    this.#failureHandled = true;
    this.#watcher?.ref?.();
    await this.#settled;
    if (this.#failed) throw this.#failed;
    // The usage report is made when read (see usage).
    const exited = this;
    return {
      exitCode: this.exitCode,
      signal: this.signalCode,
      get usage() {
        return exited.usage;
      },
      killed: this.killed,
      timedOut: this.timedOut,
    };
  }

  /**
   * Collects stdout and stderr (which must be 'pipe', or the process has a terminal) as strings,
   * like execFile, keeping at most `maxBuffer` bytes of each (see OutputOptions). Resolves once
   * both have ended; see STDIO_AFTER_EXIT_MS for a process that leaves them open.
   */
  async output(options: OutputOptions = {}): Promise<ProcessOutput> {
    this.#failureHandled = true;
    const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    if (typeof maxBuffer !== 'number' || !(maxBuffer >= 0)) fail('maxBuffer', `expected a number of bytes, got ${String(maxBuffer)}`);
    if (!this.#terminal && (this.stdout === null || this.stderr === null)) {
      fail('stdio', "output() collects stdout and stderr: both must be 'pipe' (or give the process a terminal)");
    }
    let overflow: (RangeError & { code: string }) | undefined;
    const collect = (stream: Readable | null, name: 'stdout' | 'stderr'): Promise<string> =>
      new Promise((resolve) => {
        if (!stream || stream.destroyed) return resolve('');
        const chunks: Buffer[] = [];
        let length = 0;
        stream.on('data', (chunk: Buffer) => {
          if (overflow) return;
          if (length + chunk.length > maxBuffer) {
            chunks.push(chunk.subarray(0, maxBuffer - length));
            overflow = maxBufferError(name);
            // As execFile: the process goes, and no more is read.
            this.kill(9);
            this.releaseStdio();
            return;
          }
          chunks.push(chunk);
          length += chunk.length;
        });
        stream.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
    const [stdout, stderr] = await Promise.all([collect(this.stdout, 'stdout'), collect(this.stderr, 'stderr')]);
    const status = await this.wait();
    if (overflow) throw Object.assign(overflow, status, { stdout, stderr });
    return { ...status, stdout, stderr, stdioOpenAfterExit: this.stdioOpenAfterExit };
  }
}

/** Node's error for execFile's maxBuffer. */
function maxBufferError(name: 'stdout' | 'stderr'): RangeError & { code: string } {
  const error = new RangeError(`${name} maxBuffer length exceeded`) as RangeError & { code: string };
  error.code = 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
  return error;
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason as unknown });
  error.name = 'AbortError';
  (error as Error & { code: string }).code = 'ABORT_ERR';
  return error;
}
