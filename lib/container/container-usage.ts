/** The usage report of a main process: the whole container's, read from its cgroup as it exits. */
import type { Usage } from '../options/types';
import type { ProcessResources } from '../../types/native';
import type { ContainerCgroup } from '../cgroups/container-cgroup';
import { processUsage } from '../process/usage';

export function containerUsage(cgroup: ContainerCgroup | undefined, own: ProcessResources, wallMs: number): Omit<Usage, 'setupMs'> {
  const fromProcess = processUsage(own, wallMs, false);
  if (!cgroup) return fromProcess;
  try {
    const usage = cgroup.usage();
    return {
      wallMs,
      cpuUserMs: Math.max(usage.userNs / 1e6, fromProcess.cpuUserMs),
      cpuSystemMs: Math.max(usage.systemNs / 1e6, fromProcess.cpuSystemMs),
      maxRssBytes: Math.max(usage.peakBytes, fromProcess.maxRssBytes),
      oomKilled: usage.oomKills > 0,
    };
  } catch {
    return fromProcess;
  }
}
