/**
 * What must not outlive this Node process: the cgroups of containers it runs and the state
 * directories of containers that end with it (not detached). Node's 'exit' event is the last
 * moment to end them; what a crash leaves, the next run's sweeps remove.
 */
import { removeUsedDefaultParents, type ContainerCgroup } from '../cgroups/container-cgroup';
import { removeCgroupsAhead } from '../cgroups/cgroups-ahead';
import type { ContainerDirectory } from '../state/container-directory';
import { closeShutCgroupGates } from './cgroup-gate';

/** Containers whose cgroups must go if Node exits before they are destroyed. */
export const liveCgroups = new Set<ContainerCgroup>();
/** State directories of containers that end with this Node process (not detached). */
export const ownedDirectories = new Set<ContainerDirectory>();

/** How long Node's exit waits, at most, for killed processes to leave their cgroups. */
const EXIT_CGROUP_WAIT_MS = 100;

process.once('exit', () => {
  // First: a worker waiting at its gate would keep Node's exit waiting for its report.
  closeShutCgroupGates();
  let left = [...liveCgroups];
  for (const cgroup of left) cgroup.signalAll(9);
  // Processes killed (or reaped) a moment ago may keep their cgroup busy a little longer.
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited++) {
    left = left.filter((cgroup) => !cgroup.removeNow());
    if (left.length === 0 || waited >= EXIT_CGROUP_WAIT_MS) break;
    Atomics.wait(tick, 0, 0, 1);
  }
  for (const directory of ownedDirectories) {
    try {
      directory.remove();
    } catch {
      // the next run's sweep removes it
    }
  }
  // A set of cgroups made ahead for a spawn that never came goes before the parents it is in.
  removeCgroupsAhead();
  removeUsedDefaultParents();
});
