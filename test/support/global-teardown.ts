/**
 * After the tiers that make containers: the default parent cgroup (`ts-container` below this
 * process's own cgroup in each hierarchy) goes when it is empty. A process removes the default
 * parents it used at its exit; the tests also kill processes with SIGKILL (crash safety, a maker
 * killed mid-way), and the last one to use a parent may have been one of those.
 */
import * as fs from 'node:fs';
import { allHierarchies, parentPath } from '../../lib/cgroups/cgroup-parent';
import { hostHierarchies } from '../../lib/cgroups/hierarchy';
import { removeStaleCgroups } from '../../lib/cgroups/stale-cgroups';

export default async function globalTeardown(): Promise<void> {
  // What killed processes left in it first: their containers' cgroups and the cgroups they had
  // made ahead for a next spawn (lib/cgroups/cgroups-ahead.ts); a live process's stay.
  await removeStaleCgroups(undefined);
  for (const hierarchy of allHierarchies(hostHierarchies())) {
    try {
      fs.rmdirSync(parentPath(hierarchy, undefined));
    } catch {
      // a container of another process is in it, or it is gone already
    }
  }
}
