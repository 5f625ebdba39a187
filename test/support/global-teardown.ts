/**
 * After the tiers that make containers: the default parent cgroup (`ts-container` below this
 * process's own cgroup in each hierarchy) goes when it is empty. A process removes the default
 * parents it used at its exit; the tests also kill processes with SIGKILL (crash safety, a maker
 * killed mid-way), and the last one to use a parent may have been one of those.
 */
import * as fs from 'node:fs';
import { allHierarchies, parentPath } from '../../lib/cgroups/cgroup-parent';
import { hostHierarchies } from '../../lib/cgroups/hierarchy';

export default async function globalTeardown(): Promise<void> {
  for (const hierarchy of allHierarchies(hostHierarchies())) {
    try {
      fs.rmdirSync(parentPath(hierarchy, undefined));
    } catch {
      // a container of another process is in it, or it is gone already
    }
  }
}
