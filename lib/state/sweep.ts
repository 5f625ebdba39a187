/**
 * Clearing what crashed processes left in the state root. A container whose maker died
 * before it was made, or whose lock nobody holds while it belonged to a Node process (not
 * detached, not kept by the CLI once stopped), is abandoned: its processes are killed and its cgroups and directory removed. A detached
 * container that stopped is kept (its logs, exit status and config stay for restore) until
 * deleted; a state directory that cannot be read is kept and reported by list().
 *
 * A state record is not trusted to name what may be killed: a recorded pid is killed only if
 * it is in the container's own (marked) cgroup, and a recorded monitor only if it is
 * ts-container's helper program. Waiting for killed processes to leave their cgroups never
 * blocks Node's event loop.
 */
import * as fs from 'node:fs';
import { ContainerCgroup } from '../cgroups/container-cgroup';
import { isHelperProcess } from '../cgroups/stale-cgroups';
import { ContainerDirectory, MAKING_PREFIX, REMOVING_PREFIX, RunRecord, StateRecord } from './container-directory';
import { removeTree } from './state-io';
import { isSameProcess } from './process-identity';
import { makerAlive } from './observe';
import { OncePerRoot } from './once-per-root';

const CGROUP_REMOVAL_WAIT_MS = 2000;
const CGROUP_REMOVAL_POLL_MS = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Kills whatever still runs of a container, as its record names it and as its cgroup holds
 * it; returns its cgroups (still to be removed once their processes have left).
 */
function killRecorded(record: StateRecord, run: RunRecord | undefined): ContainerCgroup | null {
  const cgroup = record.cgroup ? ContainerCgroup.attach(record.cgroup) : null;
  const inCgroup = new Set(cgroup?.pids() ?? []);
  // The monitor first: its death takes the container's first process along.
  const processes = [
    [run?.monitorPid ?? 0, run?.monitorStartTime, 'monitor'],
    [record.pid, record.startTime, 'container'],
    [run?.pid ?? 0, run?.startTime, 'container'],
  ] as const;
  for (const [pid, startTime, kind] of processes) {
    if (!isSameProcess(pid, startTime)) continue;
    if (kind === 'monitor' ? !isHelperProcess(pid) : !inCgroup.has(pid)) continue;
    try {
      process.kill(pid, 9);
    } catch {
      // gone meanwhile
    }
  }
  cgroup?.signalAll(9);
  return cgroup;
}

/** Removes the cgroups once the killed processes have left them (or gives up, for the next sweep). */
async function removeWhenEmpty(cgroup: ContainerCgroup): Promise<void> {
  for (let waited = 0; !cgroup.removeNow() && waited < CGROUP_REMOVAL_WAIT_MS; waited += CGROUP_REMOVAL_POLL_MS) {
    if (waited % 200 === 0) cgroup.signalAll(9);
    await sleep(CGROUP_REMOVAL_POLL_MS);
  }
}

/** Kills whatever still runs of a container and removes its cgroups. */
export async function killAndRemoveCgroups(record: StateRecord, run: RunRecord | undefined): Promise<void> {
  const cgroup = killRecorded(record, run);
  if (cgroup) await removeWhenEmpty(cgroup);
}

/**
 * Clears the container if it is abandoned (see above): false when it is not; else its
 * processes are killed and its directory is gone, and the promise resolves once its cgroups are.
 */
function clearAbandoned(directory: ContainerDirectory): false | Promise<void> {
  if (!directory.exists()) return Promise.resolve();
  let record: StateRecord;
  let run: RunRecord | undefined;
  try {
    record = directory.readState();
    run = directory.readRun();
  } catch {
    return false;
  }
  // Never made: its maker died (a monitor may hold the lock, and is killed with the rest).
  const unfinished = record.phase === 'creating' && !makerAlive(record);
  // A detached container is its monitor's; a kept one (the CLI's run) has stopped for good.
  if (!unfinished && (record.detached || record.kept === true)) return false;
  // Its lock, taken first, keeps any other process from clearing or remaking it meanwhile.
  if (!unfinished && !directory.claim()) return false;
  let cgroup: ContainerCgroup | null;
  try {
    cgroup = killRecorded(record, run);
    directory.remove();
  } finally {
    directory.releaseOwnership();
  }
  return cgroup ? removeWhenEmpty(cgroup) : Promise.resolve();
}

/**
 * Removes the container if it is abandoned; true when it is gone. Its cgroups go in the
 * background: a make of the same id ends them by name before it makes its own.
 */
export function clearIfAbandoned(directory: ContainerDirectory): boolean {
  const cleared = clearAbandoned(directory);
  if (cleared === false) return false;
  cleared.catch(() => undefined);
  return true;
}

const sweeps = new OncePerRoot((root) => sweepOnce(root));

/**
 * Once per process and state root: clears every abandoned container and unfinished make.
 * Later calls get the first one's promise.
 */
export function sweepStateRoot(root: string): Promise<void> {
  return sweeps.run(root);
}

async function sweepOnce(root: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(root);
  } catch {
    return;
  }
  const pending: Promise<void>[] = [];
  for (const [index, name] of names.entries()) {
    // A large root is read a slice per turn of the event loop.
    if (index > 0 && index % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    const directory = new ContainerDirectory(root, name);
    try {
      if (name.startsWith(MAKING_PREFIX)) {
        // A make that died before its rename: nothing was started from it yet.
        if (ContainerDirectory.isAbandonedMake(root, name)) removeTree(directory.dir);
      } else if (name.startsWith(REMOVING_PREFIX)) {
        // A removal that died half way: the name was already free.
        removeTree(directory.dir);
      } else if (!name.startsWith('.')) {
        const cleared = clearAbandoned(directory);
        if (cleared) pending.push(cleared.catch(() => undefined));
        // Kept: what a write killed half way left in it goes.
        else directory.removeStaleTemporaries();
      }
    } catch {
      // raced with another process clearing it: leave it
    }
  }
  await Promise.all(pending);
}

/** For tests: forget which roots were swept. */
export function resetSweepsForTest(): void {
  sweeps.reset();
}
