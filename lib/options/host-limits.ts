/**
 * What this machine and its kernel accept, so that a value they would refuse at spawn (EINVAL,
 * ERANGE from a cgroup or /proc file) is a TypeError naming the option in the constructor.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** The kernel's longest hostname (__NEW_UTS_LEN). */
export const HOSTNAME_MAX = 64;

/** Docker's least memory limit: below it a program is killed before it runs. */
export const MEMORY_MIN_BYTES = 6 * 1024 * 1024;

/**
 * A time namespace's clock may not be moved below 0 or past KTIME_SEC_MAX / 2 seconds
 * (kernel/time/namespace.c): KTIME_SEC_MAX is INT64_MAX nanoseconds in whole seconds.
 */
export const TIMENS_CLOCK_MAX_S = Math.floor(Number(2n ** 63n / 1_000_000_000n) / 2);

/** CPUs this process may run on: docker's bound for `cpus` (runtime.NumCPU). */
export function usableCpuCount(): number {
  return os.availableParallelism();
}

/** The numbers of a kernel list ("0-3,5"), or undefined when malformed (a range backwards). */
export function parseIdList(list: string): number[] | undefined {
  const ids: number[] = [];
  for (const part of list.split(',')) {
    const [first, last = first] = part.split('-').map(Number);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first || last - first > 65536) return undefined;
    for (let id = first; id <= last; id++) ids.push(id);
  }
  return ids;
}

function onlineIds(file: string, fallback: string): Set<number> {
  let text = fallback;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    // no such file on this kernel (no NUMA): only the fallback exists
  }
  return new Set(parseIdList(text) ?? []);
}

/** CPUs that are present and online. */
export function onlineCpus(): Set<number> {
  return onlineIds('/sys/devices/system/cpu/online', '0');
}

/** Memory nodes that are online. */
export function onlineMemoryNodes(): Set<number> {
  return onlineIds('/sys/devices/system/node/online', '0');
}

/** Seconds now on CLOCK_MONOTONIC and CLOCK_BOOTTIME, the clocks a time namespace offsets. */
export function clockSeconds(): { monotonic: number; boottime: number } {
  // Node's hrtime is CLOCK_MONOTONIC; /proc/uptime's first figure is CLOCK_BOOTTIME.
  const monotonic = Number(process.hrtime.bigint() / 1_000_000_000n);
  let boottime = monotonic;
  try {
    boottime = Math.floor(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]));
  } catch {
    // no /proc: the monotonic clock is the lower bound
  }
  return { monotonic, boottime };
}
