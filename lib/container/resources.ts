/** What the container's cgroup tells and controls while it runs: processes, stats, freezing, limits. */
import * as fs from 'node:fs';
import type { ResourceOptions } from '../options/types';
import { normalizeResources } from '../cgroups/resources';
import type { CgroupStats } from '../cgroups/stats';
import type { ContainerContext } from './context';
import { runningCgroup } from './status';

/** The processes in the container's cgroup: host pids and command lines. */
export async function processes(context: ContainerContext): Promise<{ pid: number; command: string }[]> {
  const cgroup = await runningCgroup(context, 'list the processes of');
  return cgroup.pids().flatMap((pid) => {
    try {
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return [{ pid, command }];
    } catch {
      return [];
    }
  });
}

export async function stats(context: ContainerContext): Promise<CgroupStats> {
  return (await runningCgroup(context, 'read stats of')).stats();
}

export async function pause(context: ContainerContext): Promise<void> {
  await (await runningCgroup(context, 'pause')).freeze();
}

export async function resume(context: ContainerContext): Promise<void> {
  await (await runningCgroup(context, 'resume')).thaw();
}

/** Changes limits of the running container; the fields are those of `resources`. */
export async function update(context: ContainerContext, resources: ResourceOptions): Promise<void> {
  const normalized = normalizeResources(resources);
  if (!normalized) return;
  (await runningCgroup(context, 'update')).update(normalized);
}
