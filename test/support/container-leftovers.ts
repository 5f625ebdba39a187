/**
 * Everything a container of a given id could leave on the host: its state directory (and
 * unfinished makes of it), its cgroup directories in every hierarchy, processes still in
 * cgroups of that name, and mounts naming it. Crash tests require all of it to be empty.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { finishDeferredRemovals } from '../../lib/state/deferred-removal';

/** Where every cgroup hierarchy is mounted. */
export function cgroupMounts(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(' ')[4]);
}

function findDirsNamed(dir: string, name: string, depth: number, found: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const full = path.join(dir, e.name);
    if (e.name === name) found.push(full);
    else if (depth > 0) findDirsNamed(full, name, depth - 1, found);
  }
}

export interface ContainerLeftovers {
  stateEntries: string[];
  cgroups: string[];
  processes: string[];
  mounts: string[];
}

/**
 * What is left of the container. destroy() leaves the removal of the state files of a container
 * it owned for a moment after it resolves (lib/state/deferred-removal.ts): that is finished
 * first, as Node's exit would, so that what counts is what would stay.
 */
export function containerLeftovers(id: string, stateRoot: string): ContainerLeftovers {
  finishDeferredRemovals();
  let stateEntries: string[] = [];
  try {
    stateEntries = fs
      .readdirSync(stateRoot)
      .filter((name) => name === id || name.startsWith(`.making-${id}.`) || name.startsWith(`.removing-${id}.`))
      .map((name) => path.join(stateRoot, name));
  } catch {
    // no root: nothing in it
  }
  const cgroups: string[] = [];
  for (const mount of cgroupMounts()) findDirsNamed(mount, id, 4, cgroups);
  const processes: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
      if (lines.some((l) => l.endsWith(`/${id}`) || l.includes(`/${id}/`))) processes.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(`/${id}`));
  return { stateEntries, cgroups, processes, mounts };
}

export function leftoverCount(l: ContainerLeftovers): number {
  return l.stateEntries.length + l.cgroups.length + l.processes.length + l.mounts.length;
}
