/**
 * Cgroups ts-container did not make, for tests that check it never touches them: a cgroup
 * made by "another program" in every hierarchy, holding one of its processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hierarchies } from './support';

/** Makes `rel` (and missing parents) in every hierarchy, v1 cpuset filled from its parent. */
export function makeCgroupEverywhere(rel: string): string[] {
  const dirs: string[] = [];
  for (const { label, hierarchy } of hierarchies()) {
    const dir = path.join(hierarchy.mount, rel);
    const missing: string[] = [];
    for (let d = dir; d !== hierarchy.mount && !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      fs.mkdirSync(d);
      // Only a v1 cpuset starts empty; a v2 child's cpuset files (when enabled) are its own.
      if (label === 'unified') continue;
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (fs.existsSync(path.join(d, file))) fs.writeFileSync(path.join(d, file), fs.readFileSync(path.join(path.dirname(d), file), 'utf8').trim());
      }
    }
    dirs.push(dir);
  }
  return dirs;
}

/** Moves a process into `rel` in every hierarchy. */
export function moveInto(rel: string, pid: number): void {
  for (const { hierarchy } of hierarchies()) fs.writeFileSync(path.join(hierarchy.mount, rel, 'cgroup.procs'), String(pid));
}

/** A foreign program's cgroup `rel` in every hierarchy, with a sleeping process of its own in it. */
export function foreignCgroup(rel: string): { dirs: string[]; process: ChildProcess; pid: number } {
  const dirs = makeCgroupEverywhere(rel);
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  moveInto(rel, child.pid as number);
  return { dirs, process: child, pid: child.pid as number };
}

/** Removes `rel` and its parents up to the mount in every hierarchy, as far as they are empty. */
export function removeCgroupEverywhere(rel: string): void {
  for (const { hierarchy } of hierarchies()) {
    for (let d = path.join(hierarchy.mount, rel); d !== hierarchy.mount; d = path.dirname(d)) {
      try {
        fs.rmdirSync(d);
      } catch {
        break;
      }
    }
  }
}
