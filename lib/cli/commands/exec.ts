/**
 * `ts-container exec ID CMD...`: run CMD in a running container with the caller's stdout and
 * stderr (and stdin with -i, a terminal with -t), and exit with CMD's status.
 */
import type { ProcessOptions } from '../../options/types';
import type { ContainerProcess } from '../../process/container-process';
import type { ExecCommand } from '../parsed';
import { exitCodeOf, FORWARDED_SIGNALS } from '../run-command';
import { callerTerminalSize, runInteractive } from '../terminal-session';
import { openContainer, type CommandIO } from './common';
import { reportStartFailure } from './start';

export async function execCommand(cmd: ExecCommand, io: CommandIO): Promise<number> {
  const options: ProcessOptions = {
    ...(cmd.env && { env: cmd.env }),
    ...(cmd.user && { user: cmd.user }),
    ...(cmd.cwd !== undefined && { cwd: cmd.cwd }),
  };
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    const child = cmd.tty
      ? // A terminal of the caller's size, which the session keeps in step; its stdio is the terminal.
        container.exec(cmd.argv, { ...options, tty: callerTerminalSize() ?? true })
      : // Without -i the program reads an empty stdin, as with docker exec: a program that
        // reads stdin does not steal the caller's input.
        container.exec(cmd.argv, { ...options, stdio: [cmd.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
    // ChildProcess-like: an unhandled 'error' event would crash the CLI; wait() reports it.
    child.on('error', () => {});
    const stopForwarding = forwardSignals(io, child);
    try {
      // The session owns the caller's terminal (raw mode, resize) until the program is done.
      if (cmd.tty) await runInteractive(child, { input: cmd.interactive, signals: io.signals });
      return exitCodeOf(await child.wait());
    } finally {
      stopForwarding();
    }
  } catch (err) {
    return reportStartFailure(io, cmd.id, cmd.argv[0], err);
  }
}

/**
 * Signals the CLI gets go to the exec'd process, which then decides to exit or not: it is no
 * PID 1, so a signal it has no handler for ends it as it would outside a container.
 */
function forwardSignals(io: CommandIO, child: ContainerProcess): () => void {
  const listeners = FORWARDED_SIGNALS.map((sig) => {
    const fn = (): void => {
      child.kill(sig);
    };
    io.signals.on(sig, fn);
    return [sig, fn] as const;
  });
  return () => {
    for (const [sig, fn] of listeners) io.signals.removeListener(sig, fn);
  };
}
