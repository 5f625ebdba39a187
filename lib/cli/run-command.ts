/**
 * `ts-container run`: start the command in a container with inherited stdio, forward the
 * signals the CLI receives, and turn the outcome into an exit status as docker and podman do.
 */
import { constants as osConstants } from 'node:os';
import { Container, ContainerSetupError } from '../index';
import { contextOf } from '../container/container';
import { keepStopped } from '../container/keep-stopped';
import type { ExitStatus, Usage } from '../options/types';
import { EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_RUNTIME_ERROR, type RunCommand } from './parsed';
import { callerTerminalSize, runInteractive } from './terminal-session';
import type { CommandIO } from './commands/common';

/** Signals that the CLI passes on to the container's main process instead of dying of them. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/** The number of SIGINT/SIGTERM after which the CLI sends SIGKILL instead. */
export const FORCE_KILL_AFTER = 3;

export interface RunIO {
  /** Where the CLI's own messages go (default process.stderr). */
  stderr?: { write(s: string): unknown };
  /** Where signals come from (default process). */
  signals?: NodeJS.EventEmitter;
}

/** The shell's convention: the exit code, or 128 + the signal's number. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.exitCode !== null) return status.exitCode;
  if (status.signal !== null) {
    const n = (osConstants.signals as Record<string, number | undefined>)[status.signal];
    if (n !== undefined) return 128 + n;
  }
  return EXIT_RUNTIME_ERROR;
}

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
}

/** Maps a failure to start or run the command to the CLI's exit status and a one-line message. */
export function describeFailure(err: unknown, program: string): { code: number; message: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrnoLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const isSpawn = typeof e.syscall === 'string' && e.syscall.startsWith('spawn');
  if (e.code === 'ENOENT' && isSpawn) {
    return { code: EXIT_NOT_FOUND, message: `${program}: command not found in the container (${message})` };
  }
  if ((e.code === 'EACCES' || e.code === 'ENOEXEC' || e.code === 'EISDIR' || e.code === 'EPERM') && isSpawn) {
    return { code: EXIT_NOT_EXECUTABLE, message: `${program}: cannot execute (${message})` };
  }
  if (err instanceof TypeError) return { code: EXIT_RUNTIME_ERROR, message: `invalid option: ${message}` };
  if (err instanceof ContainerSetupError) return { code: EXIT_RUNTIME_ERROR, message: `container setup failed: ${message}` };
  return { code: EXIT_RUNTIME_ERROR, message };
}

/** What messages call the program: the command given, else the image whose command it is. */
export function programName(cmd: RunCommand): string {
  return cmd.argv?.[0] ?? (cmd.options as { image?: string }).image ?? 'the command';
}

/** With an image: pull it first as --pull says (default: when it is missing), progress on stderr. */
export async function pullIfNeeded(cmd: RunCommand, io: CommandIO): Promise<void> {
  const image = (cmd.options as { image?: string }).image;
  if (image === undefined) return;
  const { ensureImage } = await import('./commands/images/pull');
  await ensureImage(image, cmd.options.dataRoot, cmd.pull ?? 'missing', io);
}

/** Runs the command; resolves to the exit status the CLI should exit with. Never rejects. */
export async function runCommand(cmd: RunCommand, io: RunIO = {}): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  const signals = io.signals ?? process;
  const report = (msg: string): void => {
    // Some library messages already name the program.
    stderr.write(`ts-container: ${msg.replace(/^ts-container: /, '')}\n`);
  };

  const program = programName(cmd);
  let container: Container;
  try {
    await pullIfNeeded(cmd, { stdout: process.stdout, stderr, signals });
    container = new Container(cmd.options);
  } catch (err) {
    const f = describeFailure(err, program);
    report(f.message);
    return f.code;
  }

  // Handlers go in before spawn so that a signal that comes early is not fatal to the CLI; it is
  // delivered once the process exists.
  let child: ReturnType<Container['spawn']> | undefined;
  const pending: NodeJS.Signals[] = [];
  let interrupts = 0;
  const forward = (sig: NodeJS.Signals): void => {
    if (child === undefined) {
      pending.push(sig);
      return;
    }
    // PID 1 of a PID namespace ignores every signal it has no handler for (`sleep` does not
    // stop on Ctrl-C without --init). The third SIGINT or SIGTERM therefore becomes SIGKILL.
    if (sig === 'SIGINT' || sig === 'SIGTERM') {
      interrupts += 1;
      if (interrupts >= FORCE_KILL_AFTER) {
        if (interrupts === FORCE_KILL_AFTER) report(`got ${sig} ${FORCE_KILL_AFTER} times: killing the container (SIGKILL)`);
        sig = 'SIGKILL';
      }
    }
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const listeners = FORWARDED_SIGNALS.map((sig) => {
    const fn = (): void => forward(sig);
    signals.on(sig, fn);
    return [sig, fn] as const;
  });

  let code: number;
  // The program ran and exited: without --rm, the container stays, stopped (keep-stopped.ts).
  let ran = false;
  try {
    // -t: a terminal of this terminal's size, which the session keeps in step; else our stdio.
    const tty = cmd.options.tty === true;
    child = tty
      ? container.spawn(cmd.argv, { tty: callerTerminalSize() ?? true })
      : container.spawn(cmd.argv, { stdio: 'inherit' });
    // ChildProcess-like: an unhandled 'error' event would crash us; wait() reports the error.
    child.on('error', () => {});
    for (const sig of pending.splice(0)) forward(sig);
    if (tty) await runInteractive(child, { input: cmd.interactive === true, signals });
    const status = await child.wait();
    ran = true;
    code = exitCodeOf(status);
    if (cmd.printUsage && status.usage) report(formatUsage(status.usage));
  } catch (err) {
    const f = describeFailure(err, program);
    report(f.message);
    code = f.code;
  } finally {
    for (const [sig, fn] of listeners) signals.removeListener(sig, fn);
  }

  // As docker: --rm deletes it; without, a container whose program ran is kept until
  // `delete`. One that never ran (setup failed, not found) leaves nothing either way.
  const keep = ran && cmd.rm !== true;
  try {
    if (!(keep && (await keepStopped(contextOf(container))))) await container.destroy();
  } catch (err) {
    report(`${keep ? 'keeping the stopped container' : 'destroy'} failed: ${err instanceof Error ? err.message : String(err)}`);
    // A container that could not be kept half-way is not left half-kept.
    if (keep) await container.destroy().catch(() => undefined);
    if (code === 0) code = EXIT_RUNTIME_ERROR;
  }
  return code;
}

/** One line for --usage: what the container used, as a contest judge's meta file would list it. */
export function formatUsage(usage: Usage): string {
  const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
  // A short program runs for a fraction of a millisecond: "0 ms" would read as a bug.
  const ms = (value: number): string => value.toFixed(value < 10 ? 1 : 0);
  return (
    `usage: setup ${ms(usage.setupMs)} ms, wall ${ms(usage.wallMs)} ms (from exec to exit), ` +
    `cpu user ${usage.cpuUserMs.toFixed(0)} ms, ` +
    `system ${usage.cpuSystemMs.toFixed(0)} ms, max rss ${mib(usage.maxRssBytes)} MiB, oom-killed ${usage.oomKilled ? 'yes' : 'no'}`
  );
}
