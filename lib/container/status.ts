/**
 * What each operation needs of the container, in one place: the rules (canSpawn, canExec,
 * canStart, canKill, ...) read the context and throw the error a user should see when the
 * operation cannot go on. The order of each rule's checks is part of its contract: the first
 * failing one names the error.
 *
 * A handle's main process goes: none (owned, before spawn/create) → starting (the helper has
 * not reported) → created (waiting at its start FIFO, create() only) → running → exited.
 * An attached handle found its container stopped has no main process ('lost').
 */
import * as fs from 'node:fs';
import type { ExitStatus } from '../options/types';
import { ContainerNotFoundError, ContainerStateError, ContainerStoppedError } from '../errors/errors';
import type { ContainerProcess } from '../process/container-process';
import type { ContainerCgroup } from '../cgroups/container-cgroup';
import type { ContainerDirectory } from '../state/container-directory';
import type { ContainerContext } from './context';
import { readRecordedExit } from '../process/recorded-exit';
import { signalName } from '../process/signals';

/** spawn()/create(): a handle makes one main process, and never one for a container it found. */
export function canSpawn(context: ContainerContext): void {
  if (context.destroyed) throw new ContainerStateError(`container ${context.id} has been destroyed`);
  if (context.main || context.origin.kind === 'attached') {
    throw new ContainerStateError(`container ${context.id} already has a main process; use exec()`);
  }
}

/** exec(), when called: the container has a main process, so something to join. */
export function canExec(context: ContainerContext): ContainerProcess {
  if (context.destroyed) throw new ContainerStateError(`container ${context.id} has been destroyed`);
  const main = context.main;
  if (!main) {
    if (context.origin.kind === 'attached') throw new ContainerStoppedError(context.id, 'exec');
    throw new ContainerStateError(`container ${context.id} has no main process yet; call spawn() first`);
  }
  return main;
}

/** exec(), once the main process has reported: it runs, and has been started. */
export function canExecNow(context: ContainerContext, main: ContainerProcess): ContainerCgroup {
  if (!main.running || !context.cgroup) throw new ContainerStoppedError(context.id, 'exec');
  // As runc: a created container's first process waits at its start FIFO, in the
  // container but still in setup; nothing else runs beside it until start().
  const directory = context.directory;
  if (directory && fs.existsSync(directory.fifoPath)) {
    throw new ContainerStateError(`container ${context.id} is created but not started; call start() before exec()`);
  }
  return context.cgroup;
}

/** start(): the container was created and its program still waits at the start FIFO. */
export async function canStart(context: ContainerContext): Promise<ContainerDirectory> {
  const directory = context.directory;
  if (!directory) throw new ContainerStateError(`container ${context.id} has not been created; call create() first`);
  await context.main?.started.catch(() => undefined);
  if (!directory.hasStartFifo()) {
    if (context.main?.running) throw new ContainerStateError(`container ${context.id} has already been started`);
    throw new ContainerStoppedError(context.id, 'start');
  }
  return directory;
}

/**
 * kill(): the cgroup to signal, when the main process runs; undefined when only the main
 * process (or nothing) can be signalled. A kill never throws for a container that ended.
 */
export function canKill(context: ContainerContext): ContainerCgroup | undefined {
  if (!context.main?.running || !context.cgroup) return undefined;
  return context.cgroup;
}

/** The cgroup of a running container, once its main process has started: for stats, pause, update... */
export async function runningCgroup(context: ContainerContext, operation: string): Promise<ContainerCgroup> {
  const main = context.main;
  if (!main) {
    if (context.origin.kind === 'attached') throw new ContainerStoppedError(context.id, operation);
    throw new ContainerStateError(`container ${context.id}: cannot ${operation} it before spawn()`);
  }
  // The program may print before the helper's report reaches us: wait for the report.
  await main.started.catch(() => undefined);
  if (!main.running || !context.cgroup) throw new ContainerStoppedError(context.id, operation);
  return context.cgroup;
}

/**
 * wait() without a main process: how a found container ended, if known. One found just as
 * its program ended (the process gone, its exit not yet recorded) gets the record once its
 * reaper writes it.
 */
export async function exitWithoutMain(context: ContainerContext): Promise<ExitStatus> {
  const { origin, directory } = context;
  if (origin.kind === 'attached') {
    if (origin.recordedExit) return origin.recordedExit;
    if (origin.unrecordedExitOf === undefined || !directory) return { exitCode: null, signal: null };
    const exit = await readRecordedExit(directory, origin.unrecordedExitOf);
    return { exitCode: exit?.code ?? null, signal: exit?.signal == null ? null : signalName(exit.signal) };
  }
  throw new ContainerStateError(`container ${context.id} has no main process; call spawn() first`);
}

/** state(), logs(): the container has a state directory, made by create() or spawn(). */
export function madeDirectory(context: ContainerContext, hint: string): ContainerDirectory {
  const directory = context.directory;
  if (!directory) throw new ContainerStateError(`container ${context.id} has not been created${hint}`);
  return directory;
}

/** state(): the directory must still be there; another process may have destroyed the container. */
export function canObserve(context: ContainerContext): ContainerDirectory {
  const directory = madeDirectory(context, '; call create() or spawn() first');
  if (!directory.exists()) throw new ContainerNotFoundError(context.id, directory.root);
  return directory;
}
