/**
 * What the commands that act on a container by id share: where they write, how they find the
 * container, and how a failure becomes a message and an exit status.
 */
import { Container } from '../../container/container';
import { EXIT_RUNTIME_ERROR } from '../parsed';

/**
 * The exit status when the container named does not exist or is in the wrong state for the
 * command (not running, running without -f): docker exits 1 for these, keeping 125 for
 * failures of the runtime itself.
 */
export const EXIT_CONTAINER_ERROR = 1;

export interface Output {
  write(s: string | Uint8Array): unknown;
}

/** Where a command writes; tests pass their own. */
export interface CommandIO {
  stdout: Output;
  stderr: Output;
  /** Where SIGINT and SIGTERM come from (default: process). */
  signals: NodeJS.EventEmitter;
}

export function defaultIO(io: Partial<CommandIO> = {}): CommandIO {
  return { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, signals: io.signals ?? process };
}

/** One line on stderr, named as the CLI's own (library messages may already carry the name). */
export function report(io: CommandIO, message: string): void {
  io.stderr.write(`ts-container: ${message.replace(/^ts-container: /, '')}\n`);
}

function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The library's codes for a container that does not exist, or cannot do what was asked now. */
const CONTAINER_ERROR_CODES = new Set(['ENOCONTAINER', 'ECONTAINERSTATE', 'ECONTAINERSTOPPED']);

/**
 * Reports a failed operation on container `id` and returns the exit status: 1 for an unknown id
 * or a container in the wrong state, 125 for anything else.
 */
export function reportFailure(io: CommandIO, id: string, err: unknown): number {
  const code = errorCode(err);
  if (code === 'ENOCONTAINER') {
    report(io, `no such container: ${id}`);
    return EXIT_CONTAINER_ERROR;
  }
  report(io, errorMessage(err));
  return typeof code === 'string' && CONTAINER_ERROR_CODES.has(code) ? EXIT_CONTAINER_ERROR : EXIT_RUNTIME_ERROR;
}

/** The container `id` of the state directory; rejects with the library's ContainerNotFoundError. */
export function openContainer(id: string, stateRoot: string | undefined): Promise<Container> {
  return Container.get(id, stateRoot === undefined ? {} : { stateRoot });
}

/**
 * Runs `action` on each id in turn, as docker stop/rm do: one failure does not stop the others,
 * and the exit status is the first failure's.
 */
export async function forEachId(io: CommandIO, ids: readonly string[], action: (id: string) => Promise<void>): Promise<number> {
  let status = 0;
  for (const id of ids) {
    try {
      await action(id);
    } catch (err) {
      const code = reportFailure(io, id, err);
      if (status === 0) status = code;
    }
  }
  return status;
}

/**
 * Calls `onSignal` on SIGINT and SIGTERM instead of letting them kill the CLI; returns the
 * function that removes the handlers.
 */
export function onInterrupt(io: CommandIO, onSignal: (signal: NodeJS.Signals) => void): () => void {
  const listeners = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const fn = (): void => onSignal(sig);
    io.signals.on(sig, fn);
    return [sig, fn] as const;
  });
  return () => {
    for (const [sig, fn] of listeners) io.signals.removeListener(sig, fn);
  };
}
