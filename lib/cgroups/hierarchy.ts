/**
 * Where the cgroup hierarchies are, read from the kernel at run time: the
 * unified (v2) mount, each v1 hierarchy and its controllers, and this
 * process's own cgroup in each. Covers v2-only, v1-only and hybrid hosts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Hierarchy {
  /** Where it is mounted on the host, e.g. /sys/fs/cgroup/memory. */
  mount: string;
  /** This process's cgroup, relative to the mount, e.g. "/user.slice". */
  own: string;
  /** v1: the controllers bound to it; v2: those available in `own`. */
  controllers: string[];
}

export interface Hierarchies {
  unified: Hierarchy | null;
  v1: Hierarchy[];
}

/** The controllers ts-container uses; v1 names (blkio, cpuacct, freezer, devices) included. */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer', 'devices'] as const;

interface MountEntry {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions] = right.split(' ');
    entries.push({
      root: unescapeOctal(fields[3]),
      mountPoint: unescapeOctal(fields[4]),
      fsType,
      superOptions: (superOptions ?? '').split(','),
    });
  }
  return entries;
}

function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** id:controllers:path lines → controllers (or "" for v2) → path. */
function parseProcCgroup(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (match) own.set(match[2], match[3]);
  }
  return own;
}

/** Our cgroup as a path below the mount (the mount may show a subtree only). */
function ownBelowMount(ownPath: string, mountRoot: string): string {
  if (mountRoot === '/' || mountRoot === '') return ownPath;
  const relative = path.posix.relative(mountRoot, ownPath);
  return relative.startsWith('..') ? '/' : `/${relative}`.replace(/\/$/, '') || '/';
}

export function detectHierarchies(
  mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8'),
  procCgroup = fs.readFileSync('/proc/self/cgroup', 'utf8'),
): Hierarchies {
  const own = parseProcCgroup(procCgroup);
  const result: Hierarchies = { unified: null, v1: [] };
  const seen = new Set<string>();
  for (const entry of parseMountinfo(mountinfo)) {
    if (entry.fsType === 'cgroup2' && !result.unified && own.has('')) {
      const ownPath = ownBelowMount(own.get('') as string, entry.root);
      result.unified = { mount: entry.mountPoint, own: ownPath, controllers: readControllers(entry.mountPoint, ownPath) };
    } else if (entry.fsType === 'cgroup') {
      const controllers = entry.superOptions.filter((o) => (V1_CONTROLLERS as readonly string[]).includes(o));
      if (controllers.length === 0) continue;
      const key = [...controllers].sort().join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      // /proc/self/cgroup names a hierarchy by its controllers, as mounted ("cpu,cpuacct").
      const ownEntry = [...own.entries()].find(([names]) => names.split(',').some((n) => controllers.includes(n)));
      if (!ownEntry) continue;
      result.v1.push({ mount: entry.mountPoint, own: ownBelowMount(ownEntry[1], entry.root), controllers });
    }
  }
  return result;
}

function readControllers(mount: string, own: string): string[] {
  try {
    return fs.readFileSync(path.join(mount, own, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

let cached: Hierarchies | undefined;

export function hostHierarchies(): Hierarchies {
  cached ??= detectHierarchies();
  return cached;
}
