/**
 * The `resources` option: validated and turned into the numbers both cgroup
 * versions are written from.
 */
import * as fs from 'node:fs';
import type { ResourceOptions } from '../options/types';
import { fail } from '../options/option-error';
import { parseByteSize } from '../options/sizes';
import { MEMORY_MIN_BYTES, onlineCpus, onlineMemoryNodes, parseIdList, usableCpuCount } from '../options/host-limits';

export const CPU_PERIOD_US = 100_000;

export interface DeviceThrottle {
  major: number;
  minor: number;
  kind: 'rbps' | 'wbps' | 'riops' | 'wiops';
  value: number;
}

export interface NormalizedResources {
  memoryBytes?: number;
  /** memory + swap, as Docker's --memory-swap; -1: unlimited swap. */
  memorySwapBytes?: number;
  cpuQuotaUs?: number;
  /** cgroup v2 weight, 1-10000. */
  cpuWeight?: number;
  cpuset?: string;
  cpusetMems?: string;
  /** 'max': no limit (asked for with -1 or "unlimited"). */
  pids?: number | 'max';
  ioWeight?: number;
  ioThrottles: DeviceThrottle[];
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function bytes(value: unknown, where: string): number {
  const parsed = parseByteSize(value);
  if (parsed === undefined || parsed === 0) fail(where, `expected bytes or a size like "512m", got ${describe(value)}`);
  return parsed;
}

function integerIn(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** major:minor of a block device path. */
function deviceNumbers(device: unknown, where: string): { major: number; minor: number } {
  if (typeof device !== 'string') fail(where, `expected a block device path like "/dev/vda", got ${describe(device)}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(device);
  } catch {
    fail(where, `no such device ${JSON.stringify(device)}`);
  }
  if (!stat.isBlockDevice()) fail(where, `${JSON.stringify(device)} is not a block device`);
  const rdev = BigInt(stat.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/** Every id of the list must exist and be online: the kernel refuses the list otherwise (ERANGE). */
function checkOnline(list: string, online: Set<number>, where: string, what: string): void {
  const ids = parseIdList(list);
  if (!ids) fail(where, `expected ranges that go upwards like "0-1,3", got ${describe(list)}`);
  const missing = ids.filter((id) => !online.has(id));
  if (missing.length > 0) {
    fail(where, `${what} ${missing.slice(0, 8).join(', ')} not present or not online (online: ${[...online].join(',') || 'none'})`);
  }
}

export function normalizeResources(value: unknown): NormalizedResources | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('resources', 'expected an object');
  const r = value as ResourceOptions & Record<string, unknown>;
  const known = ['memory', 'memorySwap', 'cpus', 'cpuWeight', 'cpuset', 'cpusetMems', 'pids', 'io'];
  for (const key of Object.keys(r)) {
    if (!known.includes(key)) fail(`resources.${key}`, `unknown option (expected one of ${known.join(', ')})`);
  }
  const out: NormalizedResources = { ioThrottles: [] };
  if (r.memory !== undefined) {
    out.memoryBytes = bytes(r.memory, 'resources.memory');
    if (out.memoryBytes < MEMORY_MIN_BYTES) fail('resources.memory', `must be at least 6m (${MEMORY_MIN_BYTES} bytes), as docker's, got ${describe(r.memory)}`);
  }
  if (r.memorySwap !== undefined) {
    if (r.memorySwap === -1 || r.memorySwap === 'unlimited') out.memorySwapBytes = -1;
    else {
      out.memorySwapBytes = bytes(r.memorySwap, 'resources.memorySwap');
      if (out.memoryBytes === undefined) fail('resources.memorySwap', 'needs resources.memory');
      if (out.memorySwapBytes < out.memoryBytes) fail('resources.memorySwap', 'must be at least resources.memory (it counts memory plus swap)');
    }
  }
  if (r.cpus !== undefined) {
    if (typeof r.cpus !== 'number' || !(r.cpus >= 0.01) || !Number.isFinite(r.cpus)) {
      fail('resources.cpus', `expected a number of CPUs like 1.5 (at least 0.01), got ${describe(r.cpus)}`);
    }
    // As docker: no more CPUs than this process may use (which also keeps the quota in the kernel's range).
    const cpus = usableCpuCount();
    if (r.cpus > cpus) fail('resources.cpus', `expected 0.01 to ${cpus}, as there are only ${cpus} CPUs available, got ${describe(r.cpus)}`);
    out.cpuQuotaUs = Math.round(r.cpus * CPU_PERIOD_US);
  }
  if (r.cpuWeight !== undefined) out.cpuWeight = integerIn(r.cpuWeight, 'resources.cpuWeight', 1, 10000);
  if (r.cpuset !== undefined) {
    if (typeof r.cpuset !== 'string' || !CPU_LIST.test(r.cpuset)) fail('resources.cpuset', `expected a CPU list like "0-1,3", got ${describe(r.cpuset)}`);
    checkOnline(r.cpuset, onlineCpus(), 'resources.cpuset', 'CPU');
    out.cpuset = r.cpuset;
  }
  if (r.cpusetMems !== undefined) {
    if (typeof r.cpusetMems !== 'string' || !CPU_LIST.test(r.cpusetMems)) fail('resources.cpusetMems', `expected a node list like "0", got ${describe(r.cpusetMems)}`);
    checkOnline(r.cpusetMems, onlineMemoryNodes(), 'resources.cpusetMems', 'memory node');
    out.cpusetMems = r.cpusetMems;
  }
  if (r.pids === -1 || r.pids === 'unlimited') out.pids = 'max';
  else if (r.pids !== undefined) out.pids = integerIn(r.pids, 'resources.pids', 1, 4194304);
  if (r.io !== undefined) {
    if (typeof r.io !== 'object' || r.io === null) fail('resources.io', 'expected { weight?, readBps?, writeBps?, readIops?, writeIops? }');
    const io = r.io as Record<string, unknown>;
    for (const key of Object.keys(io)) {
      if (!['weight', 'readBps', 'writeBps', 'readIops', 'writeIops'].includes(key)) fail(`resources.io.${key}`, 'unknown option');
    }
    if (io.weight !== undefined) out.ioWeight = integerIn(io.weight, 'resources.io.weight', 1, 10000);
    const kinds = { readBps: 'rbps', writeBps: 'wbps', readIops: 'riops', writeIops: 'wiops' } as const;
    for (const [key, kind] of Object.entries(kinds)) {
      const list = io[key];
      if (list === undefined) continue;
      if (!Array.isArray(list)) fail(`resources.io.${key}`, 'expected an array of { device, rate }');
      list.forEach((entry: unknown, i: number) => {
        const where = `resources.io.${key}[${i}]`;
        if (typeof entry !== 'object' || entry === null) fail(where, 'expected { device, rate }');
        const e = entry as { device?: unknown; rate?: unknown };
        const { major, minor } = deviceNumbers(e.device, `${where}.device`);
        const value = kind.endsWith('bps') ? bytes(e.rate, `${where}.rate`) : integerIn(e.rate, `${where}.rate`, 1, 2 ** 40);
        out.ioThrottles.push({ major, minor, kind, value });
      });
    }
  }
  return out;
}

/** The fields of `update()`: the same as `resources`, each optional. */
export function mergeResources(base: NormalizedResources | null, update: NormalizedResources): NormalizedResources {
  return { ...(base ?? { ioThrottles: [] }), ...stripUndefined(update), ioThrottles: update.ioThrottles.length ? update.ioThrottles : base?.ioThrottles ?? [] };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
