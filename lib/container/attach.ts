/**
 * Containers found in the state root, made by any process (or an earlier run of this one):
 * list(), get() and restore(). A found container's context is attached (context.ts): its
 * processes and cgroups stay its owner's until it is destroyed from here.
 */
import * as fs from 'node:fs';
import { recordedHealth } from '../health/health-file';
import type { ProcessOptions } from '../options/types';
import { ContainerNotFoundError, ContainerStateError, ContainerStoppedError } from '../errors/errors';
import { launchProcess, type ContainerProcess } from '../process/container-process';
import type { ResolvedStdio } from '../process/stdio';
import { watchRecordedExit } from '../process/recorded-exit';
import { ContainerCgroup } from '../cgroups/container-cgroup';
import { ContainerDirectory } from '../state/container-directory';
import { observe, observeAsync } from '../state/observe';
import { openRecordedProcess } from '../state/process-identity';
import { killAndRemoveCgroups } from '../state/sweep';
import { resolveStateRoot, verifyStateRoot } from '../state/state-root';
import type { ContainerListEntry, StateRootOptions } from '../state/types';
import { ContainerContext } from './context';
import { spawnMain } from './create';

/** How many containers list() reads at once. */
const LIST_BATCH = 64;

/** Every container in the state root, made by any process, with its status read from the kernel. */
export async function list(options?: StateRootOptions): Promise<ContainerListEntry[]> {
  const root = resolveStateRoot(options?.stateRoot);
  const ids = await ContainerDirectory.idsAsync(root);
  const entries: ContainerListEntry[] = [];
  // No synchronous I/O, and a bounded number of containers read at once (each holds fds).
  for (let i = 0; i < ids.length; i += LIST_BATCH) {
    const batch = await Promise.all(ids.slice(i, i + LIST_BATCH).map((id) => listEntry(root, id)));
    for (const entry of batch) if (entry) entries.push(entry);
  }
  return entries;
}

async function listEntry(root: string, id: string): Promise<ContainerListEntry | null> {
  const directory = new ContainerDirectory(root, id);
  try {
    const observed = await observeAsync(directory);
    // A pool member is a container once pool.spawn() gives it a program.
    if (observed.record.pooled) return null;
    const state = observed.state;
    const health = await recordedHealth(directory);
    return health ? { ...state, health } : state;
  } catch (error) {
    // Deleted while we looked: not a container any more.
    const exists = await fs.promises.access(directory.dir).then(() => true, () => false);
    if (!exists) return null;
    return { id, bundle: directory.dir, status: 'unknown', error: (error as Error).message };
  }
}

/** The state directory of a container of the root; not found for an id that could not name one. */
export function existingDirectory(root: string, id: string): ContainerDirectory {
  const directory = new ContainerDirectory(root, id);
  if (typeof id !== 'string' || id.startsWith('.') || id.includes('/') || !verifyStateRoot(root, false) || !directory.exists()) {
    throw new ContainerNotFoundError(String(id), root);
  }
  return directory;
}

/** get(): the context of a container of the state root, with its live main process if any. */
export function attachedContext(root: string, id: string): ContainerContext {
  const directory = existingDirectory(root, id);
  const { record, run, main, state } = observe(directory);
  if (record.pooled) throw new ContainerNotFoundError(id, root);
  const saved = directory.readConfig();
  const context = new ContainerContext({ ...saved.options, id, stateRoot: root });
  context.directory = directory;
  context.record = record;
  context.origin = {
    kind: 'attached',
    recordedExit: run?.exited ? { exitCode: run.exitCode, signal: (state.signal ?? null) as NodeJS.Signals | null } : undefined,
    ...(run && !run.exited && run.startedAt !== null ? { unrecordedExitOf: run.pid } : {}),
  };
  if (record.cgroup) context.cgroup = ContainerCgroup.attach(record.cgroup);
  // A recorded pid is the container's only while it is in the container's own cgroup.
  if (main && context.cgroup && !context.cgroup.pids().includes(main.pid)) return context;
  const pidfd = main ? openRecordedProcess(main.pid, main.startTime) : -1;
  if (pidfd < 0 || !main) return context;
  context.main = launchProcess({
    argv: saved.argv,
    stdio: noStdio(),
    start: async () => ({ ok: true, pid: main.pid, pidfd, errno: 0, stepId: 0, step: '', terminalFd: -1 }),
    reportError: () => new ContainerStoppedError(id, 'attach'),
    watchExit: watchRecordedExit(directory),
    outlivesNode: true,
    killSignal: 9,
  });
  return context;
}

/**
 * restore(): makes a stopped (or lost: after a crash or reboot) container again from the
 * config it was made with, and starts it. Its state directory, logs and cgroups start afresh.
 */
export async function restore(id: string, options?: StateRootOptions): Promise<ContainerContext> {
  const root = resolveStateRoot(options?.stateRoot);
  const directory = existingDirectory(root, id);
  const observed = observe(directory);
  if (observed.main || observed.state.status === 'creating') {
    throw new ContainerStateError(`container ${id} is ${observed.state.status}; only a stopped container can be restored`);
  }
  const saved = directory.readConfig();
  // A container kept by the CLI's foreground run starts again in the background, as docker
  // start does: the process restoring it returns at once, and nobody here reads its output.
  const detach = observed.record.kept === true ? { detach: true } : {};
  const context = new ContainerContext({ ...saved.options, ...detach, id, stateRoot: root });
  await killAndRemoveCgroups(observed.record, observed.run);
  directory.remove();
  // Nobody here reads what a restored container that is not detached writes.
  const stdio = context.detach ? undefined : 'ignore';
  const processOptions: ProcessOptions = { ...saved.process, ...(stdio ? { stdio } : {}) };
  const main = spawnMain(context, saved.argv, processOptions, false);
  await main.started;
  return context;
}

/** stdio of a process this Node process only watches: it has none here. */
function noStdio(): ResolvedStdio {
  return { childFds: [-1, -1, -1], closeAfterStart: [], stdin: null, stdout: null, stderr: null };
}
