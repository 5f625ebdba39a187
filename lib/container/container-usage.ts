/** The usage report of a main process: the whole container's, read from its cgroup as it exits. */
import type { Usage } from '../options/types';
import type { ProcessResources } from '../../types/native';
import type { ContainerCgroup } from '../cgroups/container-cgroup';
import { processUsage } from '../process/usage';

export function containerUsage(cgroup: ContainerCgroup | undefined, own: ProcessResources, wallMs: number): Omit<Usage, 'setupMs'> {
  const fromProcess = processUsage(own, wallMs, false);
  if (!cgroup) return fromProcess;
  try {
    const stats = cgroup.stats();
    return {
      wallMs,
      cpuUserMs: Math.max(stats.cpu.userNs / 1e6, fromProcess.cpuUserMs),
      cpuSystemMs: Math.max(stats.cpu.systemNs / 1e6, fromProcess.cpuSystemMs),
      maxRssBytes: Math.max(stats.memory.peak, fromProcess.maxRssBytes),
      oomKilled: stats.memory.oomKills > 0,
    };
  } catch {
    return fromProcess;
  }
}
