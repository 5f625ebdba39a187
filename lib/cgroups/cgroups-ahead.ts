/**
 * A default container's v1 cgroups, made ahead of the spawn that takes them.
 *
 * On a hybrid host a spawn makes its cgroup in each v1 hierarchy (eight here) while its helper
 * waits at the cgroup gate (native/helper/cgroup_gate.h): a mkdir, a mark, the cpuset, the
 * device list and the pids limit, about forty system calls on Node's thread, on the way to the
 * container's start. A v1 cgroup can be renamed within its parent (cgroup v2 ones cannot), so
 * once a spawn has handed its helper all it waits for, and Node's thread would only wait for the
 * helper's report, the next spawn's set is made under a hidden name; that spawn renames each
 * directory to its own name, eight renames. A set is never used twice: it is new, made the
 * way a spawn makes its own (make-spec.ts), with nothing in it. On a 2-core hybrid host, 1200
 * containers in a row, in blocks of ten alternating with cgroups made at each spawn, three
 * runs: a spawn+wait+destroy took 0.03-0.28 ms less on average, a spawn -0.20 to +0.03 ms at
 * the median. The set is made on Node's thread while it waits for the helper, so the CPU it
 * takes is the same; what it saves is time on the way to the container's start.
 *
 * Only for what a set is made for: the default parent, the device list (not privileged), the
 * same pids limit. A set that cannot be taken whole (a name taken, a directory gone) is
 * removed, and the spawn makes its own as before.
 *
 * A set holds no fd: its name says whose it is (`.ahead-<pid>.<start time>.<n>`), and the
 * cgroup sweep (stale-cgroups.ts) removes a set whose maker no longer runs, killed -9 or not
 * (a pid reused since has another start time). At Node's exit a set not taken is removed
 * (exit-cleanup.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import type { Hierarchies, Hierarchy } from './hierarchy';
import { parentPath } from './cgroup-parent';
import { cgroupMakeSpec } from './make-spec';
import { quietMoment } from '../state/quiet-moment';
import { uniqueSuffix } from '../state/state-io';
import { processStartTime } from '../state/process-identity';

interface CgroupsAhead {
  hierarchies: Hierarchies;
  pidsLimit: number | undefined;
  /** The set's directory in each v1 hierarchy, in the order of hierarchies.v1. */
  v1: string[];
}

/** Hidden names: never a container id (ids start with a letter or a digit). */
const AHEAD_PREFIX = '.ahead-';

let ready: CgroupsAhead | null = null;
let scheduled = false;
/** Default containers whose spawn asked for a set: a process that makes one makes none ahead. */
let asked = 0;

/**
 * Makes the next default container's v1 cgroups, at the next quiet moment (quiet-moment.ts),
 * unless a set is ready or on its way. Nothing when the host is not hybrid, and nothing at a
 * process's first default container: one that makes a single container (the command line's
 * run) would only make and remove a set it never uses.
 */
export function makeCgroupsAhead(hierarchies: Hierarchies, pidsLimit: number | undefined): void {
  if (++asked < 2) return;
  if (ready || scheduled || !hierarchies.unified || hierarchies.v1.length === 0) return;
  scheduled = true;
  void quietMoment().then(() => {
    scheduled = false;
    const startTime = processStartTime(process.pid);
    if (ready || startTime === undefined) return;
    const name = `${AHEAD_PREFIX}${process.pid}.${startTime}.${uniqueSuffix()}`;
    const dirs = hierarchies.v1.map((hierarchy) => path.join(parentPath(hierarchy, undefined), name));
    try {
      native().makeContainerCgroups(cgroupMakeSpec(hierarchies, hierarchies.v1, dirs, true, pidsLimit).spec);
      ready = { hierarchies, pidsLimit, v1: dirs };
    } catch {
      // None this time (the default parent removed by another process meanwhile): spawns make their own.
    }
  });
}

/**
 * The set made ahead, renamed to `name` in each hierarchy of `part` (the v1 ones, in order),
 * when one is ready for a container of `hierarchies` with `pidsLimit`; else null. The
 * directories and the v1 hierarchies they are in, as a make records them.
 */
export function takeCgroupsAhead(
  hierarchies: Hierarchies,
  part: Hierarchy[],
  pidsLimit: number | undefined,
  name: string,
): { dirs: string[]; v1: { hierarchy: Hierarchy; dir: string }[] } | null {
  const set = ready;
  if (!set || set.hierarchies !== hierarchies || set.pidsLimit !== pidsLimit) return null;
  if (part.length !== set.v1.length || part.some((hierarchy, i) => hierarchy !== hierarchies.v1[i])) return null;
  ready = null;
  const dirs = part.map((hierarchy) => path.join(parentPath(hierarchy, undefined), name));
  let renamed = 0;
  try {
    for (; renamed < dirs.length; renamed++) fs.renameSync(set.v1[renamed], dirs[renamed]);
  } catch {
    // The name taken: what was renamed goes (empty, nothing ever ran in it), and the rest.
    removeDirs([...dirs.slice(0, renamed), ...set.v1.slice(renamed)]);
    return null;
  }
  return { dirs, v1: part.map((hierarchy, i) => ({ hierarchy, dir: dirs[i] })) };
}

/** Removes a set not taken (Node's exit). */
export function removeCgroupsAhead(): void {
  const set = ready;
  ready = null;
  if (set) removeDirs(set.v1);
}

/**
 * For the cgroup sweep: whether `name` in a default parent is a set made ahead, and, if its
 * maker no longer runs, removes it from every v1 hierarchy (nothing ever ran in it).
 */
export function sweepCgroupsAhead(name: string, hierarchies: Hierarchies): boolean {
  const match = /^\.ahead-(\d+)\.(\d+)\./.exec(name);
  if (!match) return false;
  if (processStartTime(Number(match[1])) !== match[2]) {
    removeDirs(hierarchies.v1.map((hierarchy) => path.join(parentPath(hierarchy, undefined), name)));
  }
  return true;
}

function removeDirs(dirs: string[]): void {
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // gone already; else left to the sweep
    }
  }
}
