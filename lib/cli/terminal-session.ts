/**
 * A terminal session with a container process that has a terminal (the tty option), as
 * `docker run -it` gives one: the caller's terminal in raw mode, so that every key (^C, ^Z and
 * ^D among them) reaches the program's terminal, whose line discipline makes of them what a
 * terminal does; the program's output on the caller's stdout; the caller's window size sent at
 * the start and on every SIGWINCH; and the caller's terminal back as it was afterwards, however
 * the session ends. Used by `run -t` and `exec -t`.
 */
import type { TerminalSize } from '../options/types';
import type { ContainerProcess } from '../process/container-process';
import { ContainerStateError } from '../errors/errors';

export interface InteractiveOptions {
  /** Pass what is typed here (stdin) to the program: -i. Default true. */
  input?: boolean;
  /** The caller's terminal; default process.stdin and process.stdout. */
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Where SIGWINCH comes from; default process. */
  signals?: NodeJS.EventEmitter;
}

/** The size of the caller's terminal, or undefined when stdout is no terminal. */
export function callerTerminalSize(stdout: NodeJS.WriteStream = process.stdout): TerminalSize | undefined {
  if (!stdout.isTTY) return undefined;
  const [columns, rows] = stdout.getWindowSize();
  // A pseudo-terminal nobody sized says 0x0: the program gets the default size then.
  return columns > 0 && rows > 0 ? { columns, rows } : undefined;
}

/**
 * Connects the caller's terminal to the process's until the process has exited and its output
 * has been written out ('close'), or it failed to start (its wait() says why).
 */
export async function runInteractive(p: ContainerProcess, options: InteractiveOptions = {}): Promise<void> {
  const output = p.stdout;
  if (!p.isTTY || !output) {
    throw new ContainerStateError(`${p.spawnfile}: a terminal session needs a process with a terminal (the tty option)`);
  }
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const signals = options.signals ?? process;
  const programInput = options.input ?? true ? p.stdin : null;
  const input = programInput !== null;
  const raw = input && stdin.isTTY === true;
  const ended = new Promise<void>((resolve) => {
    p.once('close', () => resolve());
    p.once('spawn-failed', () => resolve());
  });
  const forwardSize = (): void => {
    const size = callerTerminalSize(stdout);
    if (size) p.resize(size.columns, size.rows);
  };
  try {
    forwardSize();
    signals.on('SIGWINCH', forwardSize);
    // Not ended with the program: the CLI may still write to its stdout.
    output.pipe(stdout, { end: false });
    if (programInput) {
      // Raw: no echo, no line editing, no signals made here; the program's terminal does it all.
      if (raw) stdin.setRawMode(true);
      stdin.pipe(programInput);
    }
    await ended;
  } finally {
    signals.removeListener('SIGWINCH', forwardSize);
    output.unpipe(stdout);
    if (programInput) {
      stdin.unpipe(programInput);
      if (raw) stdin.setRawMode(false);
      // Reading stdin would keep the caller's event loop alive.
      stdin.pause();
    }
  }
}
