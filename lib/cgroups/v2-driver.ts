/**
 * cgroup v2: the files a container's limits are written to, and its stats
 * read from. One directory holds every controller.
 */
import type { NormalizedResources } from './resources';
import { CPU_PERIOD_US } from './resources';
import { cgroupFileExists, readCgroupFile, writeCgroupFile } from './cgroup-fs';
import { CgroupStats, type CgroupFileReader, type CgroupUsage, emptyStats, parseFlatKeyed, parseLimit } from './stats';

export const V2_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids', 'io'] as const;

/** Which controllers the limits need. */
export function v2ControllersFor(r: NormalizedResources): string[] {
  const needed = new Set<string>();
  if (r.memoryBytes !== undefined || r.memorySwapBytes !== undefined) needed.add('memory');
  if (r.cpuQuotaUs !== undefined || r.cpuWeight !== undefined) needed.add('cpu');
  if (r.cpuset !== undefined || r.cpusetMems !== undefined) needed.add('cpuset');
  if (r.pids !== undefined) needed.add('pids');
  if (r.ioWeight !== undefined || r.ioThrottles.length > 0) needed.add('io');
  return [...needed];
}

/** [file, value] pairs, in an order the kernel accepts. */
export function v2LimitWrites(r: NormalizedResources): [string, string][] {
  const writes: [string, string][] = [];
  if (r.cpuset !== undefined) writes.push(['cpuset.cpus', r.cpuset]);
  if (r.cpusetMems !== undefined) writes.push(['cpuset.mems', r.cpusetMems]);
  if (r.memoryBytes !== undefined) writes.push(['memory.max', String(r.memoryBytes)]);
  if (r.memorySwapBytes !== undefined) {
    // v2 limits swap alone; Docker's figure counts memory plus swap.
    const swap = r.memorySwapBytes === -1 ? 'max' : String(r.memorySwapBytes - (r.memoryBytes ?? 0));
    writes.push(['memory.swap.max', swap]);
  }
  if (r.cpuQuotaUs !== undefined) writes.push(['cpu.max', `${r.cpuQuotaUs} ${CPU_PERIOD_US}`]);
  if (r.cpuWeight !== undefined) writes.push(['cpu.weight', String(r.cpuWeight)]);
  if (r.pids !== undefined) writes.push(['pids.max', String(r.pids)]);
  if (r.ioWeight !== undefined) writes.push(['io.weight', `default ${r.ioWeight}`]);
  for (const t of r.ioThrottles) writes.push(['io.max', `${t.major}:${t.minor} ${t.kind}=${t.value}`]);
  return writes;
}

export function applyV2Limits(dir: string, r: NormalizedResources): void {
  for (const [file, value] of v2LimitWrites(r)) {
    // memory.swap.max is absent without swap accounting: no swap to limit.
    if (file === 'memory.swap.max' && !cgroupFileExists(dir, file)) continue;
    writeCgroupFile(dir, file, value);
  }
}

export function readV2Stats(dir: string): CgroupStats {
  const stats = emptyStats();
  const number = (file: string): number | null => {
    const text = readCgroupFile(dir, file);
    return text === null ? null : Number(text.trim()) || 0;
  };
  stats.memory.current = number('memory.current') ?? 0;
  stats.memory.peak = number('memory.peak') ?? stats.memory.current;
  stats.memory.limit = parseLimit(readCgroupFile(dir, 'memory.max') ?? 'max');
  stats.memory.swapCurrent = number('memory.swap.current');
  stats.memory.oomKills = readV2OomKills(dir);
  const cpu = parseFlatKeyed(readCgroupFile(dir, 'cpu.stat') ?? '');
  stats.cpu.usageNs = (cpu.get('usage_usec') ?? 0) * 1000;
  ({ userNs: stats.cpu.userNs, systemNs: stats.cpu.systemNs } = v2CpuTimes(cpu));
  stats.cpu.throttledNs = (cpu.get('throttled_usec') ?? 0) * 1000;
  stats.cpu.throttledPeriods = cpu.get('nr_throttled') ?? 0;
  stats.pids.current = number('pids.current') ?? 0;
  stats.pids.limit = parseLimit(readCgroupFile(dir, 'pids.max') ?? 'max');
  for (const line of (readCgroupFile(dir, 'io.stat') ?? '').split('\n')) {
    const fields = parseFlatKeyed(line.split(' ').slice(1).join('\n').replace(/=/g, ' '));
    stats.io.readBytes += fields.get('rbytes') ?? 0;
    stats.io.writeBytes += fields.get('wbytes') ?? 0;
    stats.io.readOps += fields.get('rios') ?? 0;
    stats.io.writeOps += fields.get('wios') ?? 0;
  }
  return stats;
}

function v2CpuTimes(cpuStat: Map<string, number>): { userNs: number; systemNs: number } {
  return { userNs: (cpuStat.get('user_usec') ?? 0) * 1000, systemNs: (cpuStat.get('system_usec') ?? 0) * 1000 };
}

/** CPU time, peak memory (the current use where the kernel keeps no peak) and OOM kills. */
export function readV2Usage(dir: string, reader: CgroupFileReader = readCgroupFile): CgroupUsage {
  const peak = reader(dir, 'memory.peak') ?? reader(dir, 'memory.current');
  return {
    ...v2CpuTimes(parseFlatKeyed(reader(dir, 'cpu.stat') ?? '')),
    peakBytes: Number((peak ?? '').trim()) || 0,
    oomKills: readV2OomKills(dir, reader),
  };
}

/** OOM kills in the cgroup (memory.events), on its own: read at every exec's start and exit. */
export function readV2OomKills(dir: string, reader: CgroupFileReader = readCgroupFile): number {
  return parseFlatKeyed(reader(dir, 'memory.events') ?? '').get('oom_kill') ?? 0;
}
