/**
 * The parent cgroup of a container's cgroup, in one hierarchy: the default parent
 * ("ts-container" below this process's own cgroup) or a `cgroupParent` the caller names.
 *
 * The default parent is made by a process's first container and kept while that process
 * runs (container-cgroup.ts remembers it: no spawn looks for it again); at its exit the
 * process removes it if empty. A make that finds it gone meanwhile (ENOENT) makes it again
 * and goes on. A custom parent that the library made
 * (and marked) is removed with its last container, under the parent's lock: a flock on the
 * parent's directory in the primary hierarchy, which a maker holds from checking that the
 * parent is there until its own cgroup is made in it, and a remover holds while it removes it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import type { Hierarchies, Hierarchy } from './hierarchy';
import { cgroupMark, markCgroup, type CgroupMarkKind } from './cgroup-mark';

export const DEFAULT_PARENT_NAME = 'ts-container';

/** How often a make starts again when a parent went away meanwhile (a remover won the lock). */
const PARENT_RETRIES = 8;

/** Every hierarchy a container's cgroup is made in; the first is the primary (owner lock, parent lock). */
export function allHierarchies(hierarchies: Hierarchies): Hierarchy[] {
  return [...(hierarchies.unified ? [hierarchies.unified] : []), ...hierarchies.v1];
}

/** The parent's directory in `hierarchy`. */
export function parentPath(hierarchy: Hierarchy, cgroupParent: string | undefined): string {
  if (cgroupParent !== undefined) return path.join(hierarchy.mount, path.posix.normalize(`/${cgroupParent}`));
  // The default parent's, asked for many times per spawn: worked out once per hierarchy.
  let dir = defaultParents.get(hierarchy);
  if (dir === undefined) {
    dir = path.join(hierarchy.mount, path.posix.normalize(`/${path.posix.join(hierarchy.own, DEFAULT_PARENT_NAME)}`));
    defaultParents.set(hierarchy, dir);
  }
  return dir;
}

const defaultParents = new WeakMap<Hierarchy, string>();

/** Whether `dir` is the default parent of `hierarchy`. */
export function isDefaultParent(hierarchy: Hierarchy, dir: string): boolean {
  return dir === parentPath(hierarchy, undefined);
}

/**
 * Whether a container's primary directory is in the default parent: known by its path, with no
 * mark read. That parent stays while this process runs (removeMadeParents leaves it).
 */
export function inDefaultParent(hierarchies: Hierarchies, primaryContainerDir: string): boolean {
  const primary = allHierarchies(hierarchies)[0];
  return primary !== undefined && isDefaultParent(primary, path.dirname(primaryContainerDir));
}

/**
 * Makes the parent's missing directories below the mount, marking each as made by the
 * library (`kind` for the parent itself, 'parent' above it); `made` runs for each new one.
 */
export function makeParentDirs(mount: string, dir: string, kind: CgroupMarkKind, made: (dir: string) => void): void {
  const missing: string[] = [];
  for (let d = dir; d.startsWith(mount + '/') && !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (error) {
      // Another maker made it this instant: it marks it.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    markCgroup(d, d === dir ? kind : 'parent');
    made(d);
  }
}

/** Whether `dir` still names the directory open at `fd` (not removed, nor made again since). */
export function sameDirectory(fd: number, dir: string): boolean {
  try {
    const open = fs.fstatSync(fd);
    const now = fs.statSync(dir);
    return open.ino === now.ino && open.dev === now.dev;
  } catch {
    return false;
  }
}

function isGone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Runs `make` with the parent `dir` there and locked: `ensure` makes it first. A remover
 * that took the lock first may have removed it meanwhile: then it is made again. `undo`
 * clears what a `make` that met a vanished directory made before trying again.
 */
export function withParentLocked<T>(dir: string, ensure: () => void, make: () => T, undo: () => void): T {
  for (let attempt = 0; ; attempt++) {
    let fd = -1;
    try {
      ensure();
      fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      native().lock(fd);
      if (!sameDirectory(fd, dir)) throw Object.assign(new Error(`${dir} was removed`), { code: 'ENOENT' });
      return make();
    } catch (error) {
      if (!isGone(error) || attempt >= PARENT_RETRIES) throw error;
      undo();
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
}

/**
 * Removes the custom parents the library made above a removed container cgroup, deepest
 * first, while they are empty: each level under its lock, its primary directory first (a
 * busy one ends the walk), then the same level in the other hierarchies.
 */
export function removeMadeParents(hierarchies: Hierarchies, primaryContainerDir: string): void {
  const all = allHierarchies(hierarchies);
  const primary = all[0];
  if (!primary || !primaryContainerDir.startsWith(primary.mount + '/')) return;
  // The default parent stays (inDefaultParent).
  if (isDefaultParent(primary, path.dirname(primaryContainerDir))) return;
  for (let rel = path.posix.dirname(primaryContainerDir.slice(primary.mount.length)); rel !== '/' && rel !== '.'; rel = path.posix.dirname(rel)) {
    const dir = path.join(primary.mount, rel);
    // Only a parent the library made; never the default parent, never a foreign cgroup.
    if (cgroupMark(dir) !== 'parent') return;
    let fd = -1;
    try {
      fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      native().lock(fd);
      if (!sameDirectory(fd, dir)) return;
      fs.rmdirSync(dir);
      for (const hierarchy of all.slice(1)) {
        const other = path.join(hierarchy.mount, rel);
        if (cgroupMark(other) !== 'parent') continue;
        try {
          fs.rmdirSync(other);
        } catch {
          // a foreign cgroup below it in this hierarchy: it stays
        }
      }
    } catch {
      // still in use (a container or another cgroup in it), or gone already
      return;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
}
