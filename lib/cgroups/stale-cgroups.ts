/**
 * Finding and ending container cgroups by name, for the cgroups a run that died left behind
 * and for `remove --force` of a container whose state is gone. Only cgroups that carry
 * ts-container's container mark are touched (see cgroup-mark.ts), and a live owner is told
 * apart by its flock on the cgroup's directory in the primary hierarchy, taken before the
 * mark is set: an unmarked cgroup is foreign or still being made, a marked one nobody
 * holds a lock on belongs to a run that died. No age is needed. Waiting for killed
 * processes to leave is asynchronous: Node's event loop goes on meanwhile.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { helperPath, native } from '../native/binding';
import { Hierarchies, hostHierarchies } from './hierarchy';
import { cgroupFileExists, readProcs, writeCgroupFile } from './cgroup-fs';
import { cgroupMark, isContainerMark, markCgroup } from './cgroup-mark';
import { removalInProgress, rmdirsUntilFailure } from './container-cgroup';
import { allHierarchies, parentPath, removeMadeParents, sameDirectory } from './cgroup-parent';
import { sweepCgroupsAhead } from './cgroups-ahead';

/** How long killed processes get to leave their cgroup before it is left to the next sweep. */
const REMOVAL_WAIT_MS = 2000;
const REMOVAL_POLL_MS = 10;
/** How often a make looks whether another process has removed a destroyed container's cgroup. */
const REMOVING_POLL_MS = 2;
/** Names the sweep ends at once. */
const SWEEP_BATCH = 32;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What /proc/<pid>/exe reads for a helper: the addon runs it from a sealed in-memory copy
 * of its binary (native/addon/helper_server.cc), never from the file on disk.
 */
const SEALED_HELPER_EXE = '/memfd:ts-container-helper (deleted)';

/** Whether pid runs ts-container's helper program (a detached container's monitor) as this user. */
export function isHelperProcess(pid: number): boolean {
  try {
    const exe = fs.readlinkSync(`/proc/${pid}/exe`);
    if (exe !== SEALED_HELPER_EXE && exe !== helperPath()) return false;
    // Any process may give a memfd that name: only one of this user's counts.
    return fs.statSync(`/proc/${pid}`).uid === process.getuid?.();
  } catch {
    return false;
  }
}

/**
 * The monitors holding the cgroup's directory open (their copy of its owner lock): found
 * through /proc when nothing else names them, as when the state directory is gone.
 */
function monitorsHolding(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || !isHelperProcess(pid)) continue;
    try {
      if (fs.readdirSync(`/proc/${pid}/fd`).some((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === dir)) found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

export interface EndOptions {
  /**
   * End it even while a live process (its maker or monitor) holds its lock, and take along
   * a parent the library made once it is empty.
   */
  force?: boolean;
}

/**
 * Kills every process in the container cgroups named `name` below the parent and removes
 * them; true when there was a marked cgroup of that name to end (and it is gone now, or
 * left to the next sweep when its processes would not leave).
 */
export async function endCgroupsNamed(name: string, cgroupParent: string | undefined, options: EndOptions = {}, hierarchies: Hierarchies = hostHierarchies()): Promise<boolean> {
  if (name === '' || name.includes('/') || name === '.' || name === '..') return false;
  const all = allHierarchies(hierarchies);
  const primary = all[0];
  if (!primary) return false;
  const owner = path.join(parentPath(primary, cgroupParent), name);
  // A container of this name destroyed a moment ago: its cgroup is on its way out.
  await removalInProgress(owner);
  // The usual case of a new container: nothing of the name. A make starts in the primary
  // hierarchy and a removal ends there, so nothing of it is left elsewhere either; asking
  // every hierarchy's mark would cost a failed lookup each. (remove --force still looks.)
  if (!options.force && !fs.existsSync(owner)) return false;
  // Ended by that removal, as this call would have.
  if (await untilRemovedByItsOwner(owner)) return true;
  // Being made (its maker has not marked it yet), or not ts-container's: left alone.
  if (fs.existsSync(owner) && !isContainerMark(cgroupMark(owner))) return false;
  const dirs = all.map((h) => path.join(parentPath(h, cgroupParent), name)).filter((d) => isContainerMark(cgroupMark(d)));
  if (dirs.length === 0) return false;
  let fd = -1;
  try {
    if (fs.existsSync(owner)) {
      fd = fs.openSync(owner, 'r');
      let locked: boolean | 'removed' | 'held' = native().tryLock(fd);
      if (!locked) {
        if (!options.force) return false;
        locked = await lockByForce(fd, owner);
        if (locked === 'removed') return true;
      }
      // Under its lock, marked as being removed: a make of the same name, or a remove
      // --force, waits for this removal instead of going on beside it.
      if (locked === true) markCgroup(fd, 'container-removing');
    }
    for (let waited = 0; ; waited += REMOVAL_POLL_MS) {
      // Another remover that finished first frees the name for a new container, whose
      // cgroups have the same paths: nothing is killed or removed by path after that.
      if (fd >= 0 && !sameDirectory(fd, owner)) return true;
      if (waited % 200 === 0) killAll(dirs, hierarchies);
      if (removeAll(dirs)) {
        // A removal (not a sweep, which makes a container there next) takes a parent the library made along.
        if (options.force) removeMadeParents(hierarchies, owner);
        return true;
      }
      if (waited >= REMOVAL_WAIT_MS) return true;
      await sleep(REMOVAL_POLL_MS);
    }
  } catch {
    // raced with its owner or another sweep: leave it
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * remove --force of a container cgroup whose lock (on `owner`, open at `fd`) is held. A
 * monitor would record the exit, restart the container, or outlive it: it is killed, and
 * its lock taken once it is dead (true). A removal under way in another process (a sweep, a
 * destroy: marked 'container-removing') is waited for, not raced ('removed' once it has
 * ended the cgroup). A live maker (a Node process whose container it is) keeps its lock: the
 * cgroup is ended beside it ('held').
 */
async function lockByForce(fd: number, owner: string): Promise<true | 'removed' | 'held'> {
  const monitors = monitorsHolding(owner);
  for (const pid of monitors) process.kill(pid, 9);
  for (let waited = 0; waited < REMOVAL_WAIT_MS; waited += REMOVING_POLL_MS) {
    if (native().tryLock(fd)) return true;
    if (!sameDirectory(fd, owner)) return 'removed';
    if (cgroupMark(fd) !== 'container-removing' && !monitors.some(alive)) return 'held';
    await sleep(REMOVING_POLL_MS);
  }
  return sameDirectory(fd, owner) ? 'held' : 'removed';
}

/**
 * Waits while another process removes the container cgroup `owner` (marked
 * 'container-removing', its lock held: a destroy, a sweep or a remove --force): its
 * processes are killed and it goes in a moment. A remover that died meanwhile leaves it to
 * the caller, as any dead run's. True when such a removal was under way and `owner` is gone.
 */
async function untilRemovedByItsOwner(owner: string): Promise<boolean> {
  let removing = false;
  for (let waited = 0; waited < REMOVAL_WAIT_MS && cgroupMark(owner) === 'container-removing'; waited += REMOVING_POLL_MS) {
    removing = true;
    let fd = -1;
    try {
      fd = fs.openSync(owner, 'r');
      if (native().tryLock(fd)) return false;
    } catch {
      break;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
    await sleep(REMOVING_POLL_MS);
  }
  return removing && !fs.existsSync(owner);
}

function killAll(dirs: string[], hierarchies: Hierarchies): void {
  const unifiedDir = dirs.find((d) => hierarchies.unified && d.startsWith(hierarchies.unified.mount + '/'));
  if (unifiedDir && cgroupFileExists(unifiedDir, 'cgroup.kill')) {
    try {
      writeCgroupFile(unifiedDir, 'cgroup.kill', '1');
    } catch {
      // removed meanwhile
    }
  }
  for (const dir of dirs) {
    for (const pid of readProcs(dir)) {
      try {
        process.kill(pid, 9);
      } catch {
        // gone
      }
    }
  }
}

const { ENOENT } = os.constants.errno;

/**
 * Removes the directories, the primary one (first in `dirs`) last, stopping at the first that
 * will not go: the primary stays while any other does (removeMadeParents relies on it). True
 * when none is left.
 */
function removeAll(dirs: string[]): boolean {
  return rmdirsUntilFailure([...dirs].reverse()).every((outcome) => outcome === 0 || outcome === ENOENT);
}

const swept = new Map<string, Promise<string[]>>();

/**
 * Removes the container cgroups below the parent that runs which died left behind. Runs once
 * per process and parent: later calls get the first one's promise.
 */
export function removeStaleCgroups(cgroupParent: string | undefined, hierarchies: Hierarchies = hostHierarchies()): Promise<string[]> {
  const key = cgroupParent ?? '';
  let sweep = swept.get(key);
  if (!sweep) {
    sweep = sweepParent(cgroupParent, hierarchies).catch(() => []);
    swept.set(key, sweep);
  }
  return sweep;
}

async function sweepParent(cgroupParent: string | undefined, hierarchies: Hierarchies): Promise<string[]> {
  // Names from every hierarchy: a run that died while removing may have left some only.
  const names = new Set<string>();
  for (const h of allHierarchies(hierarchies)) {
    try {
      for (const d of await fs.promises.readdir(parentPath(h, cgroupParent), { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
    } catch {
      // no parent in this hierarchy yet
    }
  }
  // Sets of cgroups made ahead for a spawn are no container's: a dead maker's go by themselves.
  if (cgroupParent === undefined) for (const name of names) if (sweepCgroupsAhead(name, hierarchies)) names.delete(name);
  // A few at a time: each dead one holds an fd while its processes leave.
  const removed: string[] = [];
  const queue = [...names];
  for (let i = 0; i < queue.length; i += SWEEP_BATCH) {
    const batch = queue.slice(i, i + SWEEP_BATCH);
    const ended = await Promise.all(batch.map((name) => endCgroupsNamed(name, cgroupParent, {}, hierarchies)));
    batch.forEach((name, j) => ended[j] && removed.push(name));
  }
  // A parent the library made, emptied by the sweep (its own containers may be gone by now), goes too.
  const primary = allHierarchies(hierarchies)[0];
  if (primary && removed.length > 0 && cgroupParent !== undefined) {
    removeMadeParents(hierarchies, path.join(parentPath(primary, cgroupParent), removed[0]));
  }
  return removed;
}

/** For tests: forget which parents were swept. */
export function resetCgroupSweepsForTest(): void {
  swept.clear();
}
