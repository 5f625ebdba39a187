/** The usage report of a main process: the whole container's, read from its cgroup as it exits. */
import * as path from 'node:path';
import type { Usage } from '../options/types';
import type { ProcessResources } from '../../types/native';
import type { ContainerCgroup } from '../cgroups/container-cgroup';
import type { CgroupFileReader } from '../cgroups/stats';
import { processUsage } from '../process/usage';

/**
 * `readFiles`: the cgroup's usage files that the exit watcher read at the exit (their texts in
 * `own.files`, ExitBookkeeping); without them, they are read now.
 */
export function containerUsage(cgroup: ContainerCgroup | undefined, own: ProcessResources, wallMs: number, readFiles?: string[]): Omit<Usage, 'setupMs'> {
  const fromProcess = processUsage(own, wallMs, false);
  if (!cgroup) return fromProcess;
  try {
    const usage = cgroup.usage(readFiles && own.files ? readAlready(readFiles, own.files) : undefined);
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

/** A reader that answers from texts read already (null for a file not among them). */
function readAlready(files: string[], texts: (string | null)[]): CgroupFileReader {
  const byPath = new Map(files.map((file, i) => [file, texts[i] ?? null]));
  return (dir, file) => byPath.get(path.join(dir, file)) ?? null;
}
