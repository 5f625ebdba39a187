/**
 * A container's cgroups found by its name alone, for `remove --force` when its state directory
 * is gone (deleted by hand under a running container): they are where a container made with
 * the default parent has them, <hierarchy>/<own>/ts-container/<id>.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerCgroup, DEFAULT_PARENT_NAME, type CgroupRecord } from './container-cgroup';
import { hostHierarchies, type Hierarchy } from './hierarchy';

function defaultDir(hierarchy: Hierarchy, id: string): string {
  return path.join(hierarchy.mount, hierarchy.own, DEFAULT_PARENT_NAME, id);
}

/** Kills everything in the cgroups named `id` and removes them; false when there are none. */
export async function removeCgroupsNamed(id: string): Promise<boolean> {
  if (id === '' || id.startsWith('.') || id.includes('/')) return false;
  const hierarchies = hostHierarchies();
  const unified = hierarchies.unified ? defaultDir(hierarchies.unified, id) : null;
  const record: CgroupRecord = {
    unified: unified && fs.existsSync(unified) ? unified : null,
    v1: hierarchies.v1.map((h) => defaultDir(h, id)).filter((dir) => fs.existsSync(dir)),
  };
  if (!record.unified && record.v1.length === 0) return false;
  const cgroup = ContainerCgroup.attach(record, hierarchies);
  cgroup.signalAll(9);
  await cgroup.remove();
  return true;
}
