/** The shape of `stats()`, the same on both cgroup versions. */
export interface CgroupStats {
  memory: { current: number; peak: number; limit: number | null; swapCurrent: number | null; oomKills: number };
  cpu: { usageNs: number; userNs: number; systemNs: number; throttledNs: number; throttledPeriods: number };
  pids: { current: number; limit: number | null };
  io: { readBytes: number; writeBytes: number; readOps: number; writeOps: number };
}

/**
 * What a main process's usage report needs of its cgroup as it exits: fewer files than
 * stats(), read on the path to its 'exit' event.
 */
/** Reads a cgroup file (readCgroupFile), or answers from texts read elsewhere (an exit watcher's). */
export type CgroupFileReader = (dir: string, file: string) => string | null;

export interface CgroupUsage {
  userNs: number;
  systemNs: number;
  peakBytes: number;
  oomKills: number;
}

export function emptyStats(): CgroupStats {
  return {
    memory: { current: 0, peak: 0, limit: null, swapCurrent: null, oomKills: 0 },
    cpu: { usageNs: 0, userNs: 0, systemNs: 0, throttledNs: 0, throttledPeriods: 0 },
    pids: { current: 0, limit: null },
    io: { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 },
  };
}

/** "key value" lines (cpu.stat, memory.events, memory.stat) as numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}

/** A limit file's value: a number, or null for "max" / the v1 "unlimited" sentinel. */
export function parseLimit(text: string): number | null {
  const value = text.trim();
  if (value === 'max' || value === '' || value === '-1') return null;
  const n = Number(value);
  // v1 spells "no limit" as a huge page-aligned number.
  return Number.isFinite(n) && n < 2 ** 62 ? n : null;
}
