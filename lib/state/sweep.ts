/**
 * Clearing what crashed processes left in the state root. A container whose maker died
 * before it was made, or whose lock nobody holds while it belonged to a Node process (not
 * detached), is abandoned: its processes are killed and its cgroups and directory removed. A detached
 * container that stopped is kept (its logs, exit status and config stay for restore) until
 * deleted; a state directory that cannot be read is kept and reported by list().
 */
import * as fs from 'node:fs';
import { ContainerCgroup } from '../cgroups/container-cgroup';
import { ContainerDirectory, MAKING_PREFIX, REMOVING_PREFIX, RunRecord, StateRecord } from './container-directory';
import { removeTree } from './state-io';
import { isSameProcess } from './process-identity';
import { makerAlive } from './observe';

const CGROUP_REMOVAL_WAIT_MS = 2000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Kills whatever still runs of a container and removes its cgroups, synchronously: the
 * caller may make a container of the same id (and cgroup name) next.
 */
export function killAndRemoveCgroups(record: StateRecord, run: RunRecord | undefined): void {
  // The monitor first: its death takes the container's first process along.
  const processes = [[run?.monitorPid ?? 0, run?.monitorStartTime], [record.pid, record.startTime], [run?.pid ?? 0, run?.startTime]] as const;
  for (const [pid, startTime] of processes) {
    if (isSameProcess(pid, startTime)) {
      try {
        process.kill(pid, 9);
      } catch {
        // gone meanwhile
      }
    }
  }
  if (!record.cgroup) return;
  const cgroup = ContainerCgroup.attach(record.cgroup);
  cgroup.signalAll(9);
  // Killed processes leave their cgroup a moment after they die.
  for (let waited = 0; !cgroup.removeNow() && waited < CGROUP_REMOVAL_WAIT_MS; waited += 10) {
    if (waited % 200 === 0) cgroup.signalAll(9);
    sleepSync(10);
  }
}

/** Removes the container if it is abandoned (see above); true when it is gone. */
export function clearIfAbandoned(directory: ContainerDirectory): boolean {
  if (!directory.exists()) return true;
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
  if (!unfinished && record.detached) return false;
  // Its lock, taken first, keeps any other process from clearing or remaking it meanwhile.
  if (!unfinished && !directory.claim()) return false;
  try {
    killAndRemoveCgroups(record, run);
    directory.remove();
    return true;
  } finally {
    directory.releaseOwnership();
  }
}

let swept = new Set<string>();

/** Once per process and state root: clears every abandoned container and unfinished make. */
export function sweepStateRoot(root: string): void {
  if (swept.has(root)) return;
  swept.add(root);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const directory = new ContainerDirectory(root, name);
    try {
      if (name.startsWith(MAKING_PREFIX)) {
        // A make that died before its rename: nothing was started from it yet.
        if (ContainerDirectory.isAbandonedMake(name)) removeTree(directory.dir);
      } else if (name.startsWith(REMOVING_PREFIX)) {
        // A removal that died half way: the name was already free.
        removeTree(directory.dir);
      } else if (!name.startsWith('.')) {
        clearIfAbandoned(directory);
      }
    } catch {
      // raced with another process clearing it: leave it
    }
  }
}

/** For tests: forget which roots were swept. */
export function resetSweepsForTest(): void {
  swept = new Set<string>();
}
