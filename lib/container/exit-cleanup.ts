/**
 * What must not outlive this Node process: the cgroups of containers it runs and the state
 * directories of containers that end with it (not detached). Node's 'exit' event is the last
 * moment to end them; what a crash leaves, the next run's sweeps remove.
 */
import { removeUsedDefaultParents, type ContainerCgroup } from '../cgroups/container-cgroup';
import type { ContainerDirectory } from '../state/container-directory';

/** Containers whose cgroups must go if Node exits before they are destroyed. */
export const liveCgroups = new Set<ContainerCgroup>();
/** State directories of containers that end with this Node process (not detached). */
export const ownedDirectories = new Set<ContainerDirectory>();

process.once('exit', () => {
  for (const cgroup of liveCgroups) {
    cgroup.signalAll(9);
    cgroup.removeNow();
  }
  for (const directory of ownedDirectories) {
    try {
      directory.remove();
    } catch {
      // the next run's sweep removes it
    }
  }
  removeUsedDefaultParents();
});
