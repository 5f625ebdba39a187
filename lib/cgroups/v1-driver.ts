/**
 * cgroup v1: a directory per hierarchy, limits spread across controllers,
 * and the v2 notions mapped to v1 files (weight to shares, swap to memsw).
 */
import type { NormalizedResources } from './resources';
import { CPU_PERIOD_US } from './resources';
import { cgroupFileExists, readCgroupFile, writeCgroupFile } from './cgroup-fs';
import { CgroupStats, type CgroupFileReader, type CgroupUsage, emptyStats, parseFlatKeyed, parseLimit } from './stats';

/** v2 cpu.weight (1-10000) as v1 cpu.shares (2-262144), the inverse of runc's mapping. */
export function weightToShares(weight: number): number {
  return Math.round(2 + ((weight - 1) * 262142) / 9999);
}

/** v2 io.weight (1-10000) as v1 blkio.weight (10-1000). */
export function ioWeightToBlkio(weight: number): number {
  return Math.round(10 + ((weight - 1) * 990) / 9999);
}

/** [controller, file, value] triples. */
export function v1LimitWrites(r: NormalizedResources): [string, string, string][] {
  const writes: [string, string, string][] = [];
  if (r.cpuset !== undefined) writes.push(['cpuset', 'cpuset.cpus', r.cpuset]);
  if (r.cpusetMems !== undefined) writes.push(['cpuset', 'cpuset.mems', r.cpusetMems]);
  if (r.memoryBytes !== undefined) writes.push(['memory', 'memory.limit_in_bytes', String(r.memoryBytes)]);
  if (r.memorySwapBytes !== undefined) writes.push(['memory', 'memory.memsw.limit_in_bytes', String(r.memorySwapBytes)]);
  if (r.cpuQuotaUs !== undefined) {
    writes.push(['cpu', 'cpu.cfs_period_us', String(CPU_PERIOD_US)], ['cpu', 'cpu.cfs_quota_us', String(r.cpuQuotaUs)]);
  }
  if (r.cpuWeight !== undefined) writes.push(['cpu', 'cpu.shares', String(weightToShares(r.cpuWeight))]);
  if (r.pids !== undefined) writes.push(['pids', 'pids.max', String(r.pids)]);
  if (r.ioWeight !== undefined) writes.push(['blkio', 'blkio.weight', String(ioWeightToBlkio(r.ioWeight))]);
  const blkioFiles = {
    rbps: 'blkio.throttle.read_bps_device',
    wbps: 'blkio.throttle.write_bps_device',
    riops: 'blkio.throttle.read_iops_device',
    wiops: 'blkio.throttle.write_iops_device',
  };
  for (const t of r.ioThrottles) writes.push(['blkio', blkioFiles[t.kind], `${t.major}:${t.minor} ${t.value}`]);
  return writes;
}

export function applyV1Limits(dirs: Map<string, string>, r: NormalizedResources): void {
  for (const [controller, file, value] of v1LimitWrites(r)) {
    const dir = dirs.get(controller);
    if (!dir) throw new Error(`cgroup: the ${controller} controller is not mounted, so ${file} cannot be set`);
    if (file === 'memory.memsw.limit_in_bytes') continue; // written with memory.limit_in_bytes (or absent: no swap accounting)
    if (file === 'memory.limit_in_bytes' && cgroupFileExists(dir, 'memory.memsw.limit_in_bytes')) {
      setMemoryWithSwap(dir, Number(value), r.memorySwapBytes);
      continue;
    }
    writeCgroupFile(dir, file, value);
  }
}

/**
 * v1 keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every step, so the order
 * of the two writes depends on the direction. Without a new memory+swap figure, the swap
 * allowance the container had (memsw - limit) is kept.
 */
function setMemoryWithSwap(dir: string, memory: number, memorySwap: number | undefined): void {
  const oldLimit = parseLimit(readCgroupFile(dir, 'memory.limit_in_bytes') ?? '');
  const oldMemsw = parseLimit(readCgroupFile(dir, 'memory.memsw.limit_in_bytes') ?? '');
  let memsw: number | null = memorySwap === undefined || memorySwap === -1 ? null : memorySwap;
  if (memorySwap === undefined && oldMemsw !== null) memsw = memory + Math.max(0, oldMemsw - (oldLimit ?? oldMemsw));
  const memswText = memsw === null ? '-1' : String(memsw);
  if (memorySwap === undefined && oldMemsw === null) {
    writeCgroupFile(dir, 'memory.limit_in_bytes', String(memory));
  } else if (oldLimit !== null && memory > oldLimit) {
    writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', memswText);
    writeCgroupFile(dir, 'memory.limit_in_bytes', String(memory));
  } else {
    writeCgroupFile(dir, 'memory.limit_in_bytes', String(memory));
    writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', memswText);
  }
}

/** USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s on every Linux architecture. */
const USER_HZ = 100;

export function readV1Stats(dirs: Map<string, string>): CgroupStats {
  const stats = emptyStats();
  const read = (controller: string, file: string): string | null => {
    const dir = dirs.get(controller);
    return dir ? readCgroupFile(dir, file) : null;
  };
  const num = (text: string | null): number => (text === null ? 0 : Number(text.trim()) || 0);
  const usage = readV1Usage(dirs);
  stats.memory.current = num(read('memory', 'memory.usage_in_bytes'));
  stats.memory.peak = usage.peakBytes;
  stats.memory.limit = parseLimit(read('memory', 'memory.limit_in_bytes') ?? '');
  const memsw = read('memory', 'memory.memsw.usage_in_bytes');
  stats.memory.swapCurrent = memsw === null ? null : Math.max(0, num(memsw) - stats.memory.current);
  stats.memory.oomKills = usage.oomKills;
  stats.cpu.usageNs = num(read('cpuacct', 'cpuacct.usage'));
  stats.cpu.userNs = usage.userNs;
  stats.cpu.systemNs = usage.systemNs;
  const cpu = parseFlatKeyed(read('cpu', 'cpu.stat') ?? '');
  stats.cpu.throttledNs = cpu.get('throttled_time') ?? 0;
  stats.cpu.throttledPeriods = cpu.get('nr_throttled') ?? 0;
  stats.pids.current = num(read('pids', 'pids.current'));
  stats.pids.limit = parseLimit(read('pids', 'pids.max') ?? 'max');
  for (const line of (read('blkio', 'blkio.throttle.io_service_bytes') ?? '').split('\n')) {
    const [, op, value] = line.split(' ');
    if (op === 'Read') stats.io.readBytes += Number(value) || 0;
    if (op === 'Write') stats.io.writeBytes += Number(value) || 0;
  }
  for (const line of (read('blkio', 'blkio.throttle.io_serviced') ?? '').split('\n')) {
    const [, op, value] = line.split(' ');
    if (op === 'Read') stats.io.readOps += Number(value) || 0;
    if (op === 'Write') stats.io.writeOps += Number(value) || 0;
  }
  return stats;
}

/** CPU time, peak memory and OOM kills: three files. */
export function readV1Usage(dirs: Map<string, string>, reader: CgroupFileReader = readCgroupFile): CgroupUsage {
  const read = (controller: string, file: string): string | null => {
    const dir = dirs.get(controller);
    return dir ? reader(dir, file) : null;
  };
  const ticks = parseFlatKeyed(read('cpuacct', 'cpuacct.stat') ?? '');
  return {
    userNs: ((ticks.get('user') ?? 0) * 1e9) / USER_HZ,
    systemNs: ((ticks.get('system') ?? 0) * 1e9) / USER_HZ,
    peakBytes: Number((read('memory', 'memory.max_usage_in_bytes') ?? '').trim()) || 0,
    oomKills: readV1OomKills(dirs, reader),
  };
}

/** OOM kills in the cgroup (memory.oom_control), on its own: read at every exec's start and exit. */
export function readV1OomKills(dirs: Map<string, string>, reader: CgroupFileReader = readCgroupFile): number {
  const dir = dirs.get('memory');
  return dir ? parseFlatKeyed(reader(dir, 'memory.oom_control') ?? '').get('oom_kill') ?? 0 : 0;
}
