/**
 * A container's own cgroup, in every hierarchy of the host: made before the
 * container's first process (which starts inside it), limited, measured,
 * frozen, killed, and removed with the container. An exclusive flock on its
 * directory marks it as owned by a live process, so that the next run can
 * tell a crashed run's leftovers from another program's containers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { native } from '../native/binding';
import type { NativeRemovalCanceller } from '../../types/native';
import { Hierarchies, Hierarchy, hostHierarchies } from './hierarchy';
import type { NormalizedResources } from './resources';
import { applyV2Limits, readV2OomKills, readV2Stats, readV2Usage, v2ControllersFor } from './v2-driver';
import { applyV1Limits, readV1OomKills, readV1Stats, readV1Usage } from './v1-driver';
import { cgroupMakeSpec } from './make-spec';
import { makeCgroupsAhead, takeCgroupsAhead } from './cgroups-ahead';
import type { CgroupFileReader, CgroupStats, CgroupUsage } from './stats';
import { cgroupFileExists, readCgroupFile, readProcs, writeCgroupFile } from './cgroup-fs';
import { cgroupMark, isContainerMark, markCgroup, type CgroupMarkKind } from './cgroup-mark';
import { allHierarchies, inDefaultParent, makeParentDirs, parentPath, removeMadeParents, withParentLocked } from './cgroup-parent';

export { DEFAULT_PARENT_NAME } from './cgroup-parent';

/** Default parents (with the controllers enabled below them) this process made or found. */
const readyDefaultParents = new Set<string>();
/** How often a make starts again in a default parent that another process removed meanwhile. */
const DEFAULT_PARENT_RETRIES = 8;

/**
 * Removes the default parents this process used that are empty now (Node's exit): kept while
 * this process runs, so that a spawn does not look for them each time. A busy one stays.
 */
export function removeUsedDefaultParents(): void {
  for (const key of readyDefaultParents) {
    try {
      fs.rmdirSync(key.slice(0, key.indexOf('\0')));
    } catch {
      // a container (or another process's) is in it, or it is gone already
    }
  }
  readyDefaultParents.clear();
}

/** Controllers worth enabling for stats even when no limit needs them. */
const V2_ALWAYS = ['memory', 'pids', 'cpu', 'io'];

export interface CgroupPlan {
  cgroup2Path?: string;
  v1Procs: string[];
  /** The cgroup with the pids limit (v1, or v2 with the pids controller), checked after a move. */
  pidsDir?: string;
  mounts: string[];
  /** Symlinks below /sys/fs/cgroup, "<name> <target>" (cgroupLinks). */
  links: string[];
}

export class CgroupError extends Error {
  readonly code: string;
  /** What was being done, and on which cgroup directory, when the errno came. */
  readonly step?: string;
  readonly path?: string;
  constructor(message: string, code = 'ECGROUP', step?: string, where?: string) {
    super(message);
    this.name = 'CgroupError';
    this.code = code;
    if (step) this.step = step;
    if (where) this.path = where;
  }
}

/**
 * A refusal of the kernel's to let this process make cgroups (not root, no delegation) as a
 * CgroupError that says what is needed; any other error as it is.
 */
function explainCgroupFailure(error: unknown): unknown {
  const e = error as NodeJS.ErrnoException & { step?: string };
  if (error instanceof CgroupError || typeof e?.code !== 'string') return error;
  const where = e.path ?? /to (\S+):/.exec(e.message)?.[1] ?? '';
  if (!['EACCES', 'EPERM', 'EROFS'].includes(e.code)) {
    // Out of fds or memory, say: the same error, named by its step and path.
    if (e.step !== undefined) return error;
    return new CgroupError(`cgroup: ${e.message}`, e.code, 'make the cgroup', where);
  }
  return new CgroupError(
    `cgroup: ${e.code} making ${where || "the container's cgroup"}: making cgroups needs root, or a cgroup delegated to this user ` +
      '(e.g. systemd-run --user --scope -p Delegate=yes) named as cgroupParent',
    e.code,
    'make the cgroup',
    where,
  );
}

/**
 * Refuses a cgroupParent that ts-container may not manage: a hierarchy's root (every service
 * of the host is its child) or anything inside a container's own cgroup.
 */
function checkCustomParent(hierarchy: Hierarchy, cgroupParent: string): void {
  const dir = parentPath(hierarchy, cgroupParent);
  if (dir === hierarchy.mount) {
    throw new CgroupError(`cgroupParent: ${cgroupParent} is the root of the cgroup hierarchy at ${hierarchy.mount}; name a cgroup below it, e.g. "/ci-jobs"`, 'EINVAL');
  }
  for (let d = dir; d.startsWith(hierarchy.mount + '/'); d = path.dirname(d)) {
    if (isContainerMark(cgroupMark(d))) {
      throw new CgroupError(`cgroupParent: ${cgroupParent} lies in the cgroup of a container (${d}), which ts-container does not manage as a parent`, 'EINVAL');
    }
  }
}

/** Whether a directory read from a state record is a container cgroup ts-container made in `hierarchy`. */
function isContainerCgroup(dir: unknown, hierarchy: Hierarchy): dir is string {
  return typeof dir === 'string' && dir === path.normalize(dir) && dir.startsWith(hierarchy.mount + '/') && isContainerMark(cgroupMark(dir));
}

/**
 * v1 cpuset: a new cgroup starts with no CPUs and no memory nodes; give it its parent's.
 * The parent may itself be new (another run may be making it this instant): fill it first.
 */
function inheritCpuset(dir: string, depth = 0): void {
  const parent = path.dirname(dir);
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if ((readCgroupFile(dir, file) ?? '').trim() !== '') continue;
    let value = (readCgroupFile(parent, file) ?? '').trim();
    if (value === '' && depth < 32 && cgroupFileExists(path.dirname(parent), file)) {
      inheritCpuset(parent, depth + 1);
      value = (readCgroupFile(parent, file) ?? '').trim();
    }
    writeCgroupFile(dir, file, value);
  }
}

/**
 * A parent the library makes in a v1 cpuset hierarchy: its CPUs and memory nodes, and
 * clone_children so that each container cgroup made in it starts with them (the container's
 * own inheritCpuset then finds them set and writes nothing).
 */
function inheritCpusetForChildren(dir: string): void {
  inheritCpuset(dir);
  writeCgroupFile(dir, 'cgroup.clone_children', '1');
}

/** Turns on `controllers` for the children of every cgroup from the mount's root down to `dir`. */
function enableV2Controllers(mount: string, dir: string, controllers: string[]): void {
  const chain: string[] = [];
  for (let d = dir; d.startsWith(mount); d = path.dirname(d)) {
    chain.unshift(d);
    if (d === mount) break;
  }
  for (const d of chain) {
    const enabled = (readCgroupFile(d, 'cgroup.subtree_control') ?? '').split(/\s+/);
    const missing = controllers.filter((c) => !enabled.includes(c));
    if (missing.length === 0) continue;
    try {
      writeCgroupFile(d, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EBUSY') {
        throw new CgroupError(
          `cgroup v2: cannot enable ${missing.join(', ')} below ${d}: it holds processes of its own. ` +
            'Run ts-container from a cgroup with delegation (e.g. systemd-run --scope -p Delegate=yes) or set cgroupParent to an empty delegated cgroup',
          'EBUSY',
        );
      }
      throw error;
    }
  }
}

function v1ControllerFor(hierarchies: Hierarchies, controller: string): Hierarchy | undefined {
  return hierarchies.v1.find((h) => h.controllers.includes(controller));
}

/** A clear error for a limit whose controller this host does not offer. */
function checkControllersAvailable(hierarchies: Hierarchies, resources: NormalizedResources): void {
  const v1Name: Record<string, string> = { io: 'blkio' };
  for (const controller of v2ControllersFor(resources)) {
    if (v1ControllerFor(hierarchies, v1Name[controller] ?? controller)) continue;
    if (hierarchies.unified?.controllers.includes(controller)) continue;
    throw new CgroupError(
      `resources: the ${controller} controller is not available on this host (neither mounted as cgroup v1 nor enabled in cgroup v2 at ${hierarchies.unified ? path.join(hierarchies.unified.mount, hierarchies.unified.own) : 'no cgroup2 mount'})`,
      'ENOCONTROLLER',
    );
  }
}

/** A container's cgroup plan from its directories: the unified one and one per v1 hierarchy. */
function cgroupPlan(hierarchies: Hierarchies, unifiedDir: string | null, v1HierarchyDirs: { hierarchy: Hierarchy; dir: string }[]): CgroupPlan {
  // What the container sees at /sys/fs/cgroup: its own cgroup in each hierarchy.
  const mounts: string[] = [];
  if (v1HierarchyDirs.length === 0) {
    if (unifiedDir) mounts.push(`- ${unifiedDir}`);
  } else {
    for (const { hierarchy, dir } of v1HierarchyDirs) mounts.push(`${path.basename(hierarchy.mount)} ${dir}`);
    if (unifiedDir) mounts.push(`unified ${unifiedDir}`);
  }
  const links = cgroupLinks(v1HierarchyDirs.map(({ hierarchy }) => path.basename(hierarchy.mount)));
  const pidsV1 = v1HierarchyDirs.find(({ hierarchy }) => hierarchy.controllers.includes('pids'))?.dir;
  return {
    cgroup2Path: unifiedDir ?? undefined,
    v1Procs: v1HierarchyDirs.map(({ dir }) => path.join(dir, 'cgroup.procs')),
    pidsDir: pidsV1 ?? (unifiedDir && hierarchies.unified?.controllers.includes('pids') ? unifiedDir : undefined),
    mounts,
    links,
  };
}

/**
 * A v1 hierarchy mounted with several controllers is a directory named by all of them
 * ("cpu,cpuacct", "net_cls,net_prio"); hosts and other runtimes make each controller's own name
 * a symlink to it, and programs read /sys/fs/cgroup/cpu/cpu.shares. "<name> <target>" for each
 * name that no hierarchy's directory takes already.
 */
export function cgroupLinks(directoryNames: string[]): string[] {
  const taken = new Set(directoryNames);
  const links: string[] = [];
  for (const directory of directoryNames) {
    if (!directory.includes(',')) continue;
    for (const name of directory.split(',')) {
      if (name === '' || taken.has(name)) continue;
      taken.add(name);
      links.push(`${name} ${directory}`);
    }
  }
  return links;
}

/** A make that met a directory of the container's name. */
function existsError(dir: string, name: string): CgroupError {
  return new CgroupError(`cgroup ${dir} already exists: another container named ${name} is running`, 'EEXIST', 'make the cgroup', dir);
}

/** A make whose primary directory another process holds the lock of. */
function heldError(dir: string, name: string): CgroupError {
  return new CgroupError(`cgroup ${dir} is held by another process: another container named ${name} is being made or removed`, 'EEXIST', 'make the cgroup', dir);
}

/** The controllers a container's cgroup in `hierarchy` needs enabled in its parent (cgroup v2 only). */
function controllersToEnable(hierarchies: Hierarchies, hierarchy: Hierarchy, resources: NormalizedResources | null): string[] {
  if (hierarchy !== hierarchies.unified) return [];
  const wanted = [...new Set([...V2_ALWAYS, ...(resources ? v2ControllersFor(resources) : [])])];
  return wanted.filter((c) => hierarchy.controllers.includes(c));
}

/** Makes the parent (and above) a container's cgroup goes in, with the controllers it needs enabled. */
function ensureParent(hierarchy: Hierarchy, parent: string, kind: CgroupMarkKind, available: string[], isCpuset: boolean): void {
  makeParentDirs(hierarchy.mount, parent, kind, (made) => isCpuset && inheritCpusetForChildren(made));
  if (available.length > 0) enableV2Controllers(hierarchy.mount, parent, available);
}

/** The key under which a default parent made ready for these controllers is remembered. */
function readyKeyOf(parent: string, available: string[]): string {
  return `${parent}\0${available.join(',')}`;
}

/** Where create() makes a container's cgroup in each hierarchy. */
function plannedDirectories(name: string, cgroupParent: string | undefined, hierarchies: Hierarchies): { unified: string | null; v1: { hierarchy: Hierarchy; dir: string }[] } {
  const unified = hierarchies.unified ? path.join(parentPath(hierarchies.unified, cgroupParent), name) : null;
  const v1 = hierarchies.v1.map((hierarchy) => ({ hierarchy, dir: path.join(parentPath(hierarchy, cgroupParent), name) }));
  return { unified, v1 };
}

/** Where a container's cgroups are, as its state directory records them. */
export interface CgroupRecord {
  unified: string | null;
  v1: string[];
}

export class ContainerCgroup {
  /** The container's cgroup in the unified hierarchy, if the host has one. */
  readonly unifiedDir: string | null;
  /** Controller → the container's cgroup in that v1 hierarchy. */
  readonly v1Dirs = new Map<string, string>();
  readonly #hierarchies: Hierarchies;
  readonly #v1HierarchyDirs: { hierarchy: Hierarchy; dir: string }[] = [];
  #lockFd = -1;
  #removed = false;

  private constructor(hierarchies: Hierarchies, unifiedDir: string | null) {
    this.#hierarchies = hierarchies;
    this.unifiedDir = unifiedDir;
  }

  /**
   * The cgroups of a container made by another process (or an earlier run), from its
   * record: for stats, freezing, signals and removal. Directories that are gone are skipped.
   */
  static attach(record: CgroupRecord, hierarchies: Hierarchies = hostHierarchies()): ContainerCgroup {
    // Only what ts-container marked as a container's cgroup: a record may have been planted.
    const unified = hierarchies.unified && isContainerCgroup(record.unified, hierarchies.unified) ? record.unified : null;
    const cgroup = new ContainerCgroup(hierarchies, unified);
    const primary = allHierarchies(hierarchies)[0];
    const recorded = [record.unified, ...(Array.isArray(record.v1) ? record.v1 : [])];
    const primaryDir = recorded.find((d) => typeof d === 'string' && d === path.normalize(d) && primary && d.startsWith(primary.mount + '/'));
    cgroup.#primaryDir = primaryDir ?? null;
    if (unified) cgroup.#made.push(unified);
    for (const hierarchy of hierarchies.v1) {
      const dir = recorded.find((d) => typeof d === 'string' && d.startsWith(hierarchy.mount + '/'));
      if (!isContainerCgroup(dir, hierarchy)) continue;
      cgroup.#made.push(dir);
      cgroup.#v1HierarchyDirs.push({ hierarchy, dir });
      for (const controller of hierarchy.controllers) cgroup.v1Dirs.set(controller, dir);
    }
    return cgroup;
  }

  /** What a state directory records of these cgroups. */
  record(): CgroupRecord {
    return { unified: this.unifiedDir, v1: this.#v1HierarchyDirs.map(({ dir }) => dir) };
  }

  /** Every directory of the container's own cgroups, deepest last. */
  directories(): string[] {
    return [...this.#made];
  }

  /** The fd whose flock marks this process as the cgroups' owner (-1 when not the owner). */
  get ownerLockFd(): number {
    return this.#lockFd;
  }

  /**
   * Gives the cgroups to a detached container's monitor, which holds a copy of the lock fd
   * and removes them when the container stops for good: this process forgets them.
   */
  handOver(): void {
    if (this.#lockFd >= 0) fs.closeSync(this.#lockFd);
    this.#lockFd = -1;
    this.#removed = true;
  }

  /** Whether the kernel reports the container's processes frozen. */
  isFrozen(): boolean {
    if (this.unifiedDir && cgroupFileExists(this.unifiedDir, 'cgroup.freeze')) {
      return /(^|\n)frozen 1/.test(readCgroupFile(this.unifiedDir, 'cgroup.events') ?? '');
    }
    const freezer = this.v1Dirs.get('freezer');
    return freezer ? (readCgroupFile(freezer, 'freezer.state') ?? '').trim() === 'FROZEN' : false;
  }

  /**
   * Makes the container's cgroups and applies its limits; removes what it made on failure.
   * Each directory is marked as a container's; the one in the primary hierarchy is flocked
   * before it is marked, so that a marked cgroup nobody holds a lock on is a dead container's.
   */
  static create(
    name: string,
    cgroupParent: string | undefined,
    resources: NormalizedResources | null,
    hierarchies: Hierarchies = hostHierarchies(),
    /** false (privileged): the v1 devices list stays the parent's, as docker's --privileged. */
    deviceRules = true,
    /** A pids limit set with the cgroups when resources set none (the default limit); skipped on a host without the pids controller. */
    pidsLimit?: number,
  ): ContainerCgroup {
    const cgroup = ContainerCgroup.#begin(name, cgroupParent, resources, hierarchies, deviceRules, pidsLimit, false);
    cgroup.finishCreate();
    return cgroup;
  }

  /**
   * Whether a container's cgroups can be made in two parts (createPrimary, then
   * finishCreate): the cgroup2 directory first, for the helper to clone the container's first
   * process into, then the v1 ones beside the helper, which the process joins by itself
   * (native/helper/cgroup_join.h). So on a hybrid host.
   */
  static makesCgroup2First(hierarchies: Hierarchies = hostHierarchies()): boolean {
    return hierarchies.unified !== null && hierarchies.v1.length > 0;
  }

  /**
   * create()'s first part where makesCgroup2First(): every parent, and the primary (cgroup2)
   * directory alone, flocked and marked. finishCreate() makes the others and applies the
   * limits. Once the primary directory is in its parent, no process removes the parents in
   * between: a removal decides from the primary hierarchy whether a parent is empty.
   */
  static createPrimary(
    name: string,
    cgroupParent: string | undefined,
    resources: NormalizedResources | null,
    hierarchies: Hierarchies = hostHierarchies(),
    deviceRules = true,
    pidsLimit?: number,
  ): ContainerCgroup {
    if (!ContainerCgroup.makesCgroup2First(hierarchies)) throw new Error('createPrimary: the host has no cgroup2 and v1 hierarchies both');
    return ContainerCgroup.#begin(name, cgroupParent, resources, hierarchies, deviceRules, pidsLimit, true);
  }

  /** A make's first part (every hierarchy, or the primary one alone); finishCreate() does the rest. */
  static #begin(
    name: string,
    cgroupParent: string | undefined,
    resources: NormalizedResources | null,
    hierarchies: Hierarchies,
    deviceRules: boolean,
    pidsLimit: number | undefined,
    primaryFirst: boolean,
  ): ContainerCgroup {
    if (resources) checkControllersAvailable(hierarchies, resources);
    const all = allHierarchies(hierarchies);
    const primary = all[0];
    const unified = hierarchies.unified;
    const cgroup = new ContainerCgroup(hierarchies, unified ? path.join(parentPath(unified, cgroupParent), name) : null);
    if (!primary) return cgroup;
    cgroup.#primaryDir = path.join(parentPath(primary, cgroupParent), name);
    const kind: CgroupMarkKind = cgroupParent === undefined ? 'default-parent' : 'parent';
    const make = (part: Hierarchy[]): void => cgroup.#makeAll(part, cgroupParent, name, kind, resources, deviceRules, pidsLimit);
    const first = primaryFirst ? [primary] : all;
    const makeFirst = (): void => {
      // The primary directory alone: the other parents are made ready with it.
      if (primaryFirst) for (const hierarchy of all.slice(1)) cgroup.#readyParent(hierarchy, cgroupParent, kind, resources);
      make(first);
    };
    try {
      if (cgroupParent === undefined) {
        // The default parent is never removed: no lock needed to make a cgroup in it.
        makeFirst();
      } else {
        checkCustomParent(primary, cgroupParent);
        const parent = parentPath(primary, cgroupParent);
        withParentLocked(parent, () => makeParentDirs(primary.mount, parent, kind, () => undefined), makeFirst, () => cgroup.#undoMake());
      }
    } catch (error) {
      cgroup.removeNow();
      throw explainCgroupFailure(error);
    }
    const rest = all.slice(first.length);
    // A default container's v1 cgroups may have been made ahead of it (cgroups-ahead.ts).
    const madeAhead = primaryFirst && cgroupParent === undefined && deviceRules;
    cgroup.#restToMake = () => {
      const taken = madeAhead && rest.length > 0 ? takeCgroupsAhead(hierarchies, rest, pidsLimit, name) : null;
      if (taken) cgroup.#recordMade(taken.dirs, taken.v1);
      else if (rest.length > 0) make(rest);
      if (resources) cgroup.update(resources);
      // The next one's, once this spawn's helper has all it waits for.
      if (madeAhead) makeCgroupsAhead(hierarchies, pidsLimit);
    };
    return cgroup;
  }

  /** The rest of createPrimary()'s make; on a failure, removes all of it (the primary too). */
  finishCreate(): void {
    const rest = this.#restToMake;
    this.#restToMake = null;
    if (!rest) return;
    try {
      rest();
    } catch (error) {
      this.removeNow();
      throw explainCgroupFailure(error);
    }
  }

  /** What finishCreate() has left to make. */
  #restToMake: (() => void) | null = null;

  /**
   * Makes the container's directory in every hierarchy of `all`, in one native call (its
   * parents first, when this process has not found them ready): marked, the primary one (the
   * first of all hierarchies) flocked first, the v1 cpuset given its parent's CPUs and memory
   * nodes, the v1 devices list filled, the pids limit set.
   */
  #makeAll(
    all: Hierarchy[],
    cgroupParent: string | undefined,
    name: string,
    kind: CgroupMarkKind,
    resources: NormalizedResources | null,
    deviceRules: boolean,
    pidsLimit: number | undefined,
  ): void {
    const dirs = all.map((hierarchy) => path.join(parentPath(hierarchy, cgroupParent), name));
    const { spec, v1, withPrimary } = cgroupMakeSpec(this.#hierarchies, all, dirs, deviceRules, pidsLimit);
    for (let attempt = 0; ; attempt++) {
      // The default parent, once made, is taken as there until a make in it says otherwise:
      // another process may remove it when empty, at its exit (ENOENT: made again).
      const readyKeys = all.map((hierarchy) => this.#readyParent(hierarchy, cgroupParent, kind, resources));
      try {
        const lockFd = native().makeContainerCgroups(spec);
        if (withPrimary) this.#lockFd = lockFd;
        break;
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        if (e.code === 'ENOENT' && cgroupParent === undefined && attempt < DEFAULT_PARENT_RETRIES) {
          for (const key of readyKeys) if (key) readyDefaultParents.delete(key);
          continue;
        }
        if (e.code === 'EEXIST') throw existsError(e.path as string, name);
        if (e.code === 'EAGAIN') throw heldError(e.path as string, name);
        // Without a step of its own, as fs's errors: explainCgroupFailure names it a cgroup's.
        throw Object.assign(new Error(`${e.code}: ${e.message}`), { code: e.code, errno: e.errno, path: e.path });
      }
    }
    this.#recordMade(dirs, v1);
  }

  /** `dirs` (made, or taken from a set made ahead), among them those of `v1`, are this container's. */
  #recordMade(dirs: string[], v1: { hierarchy: Hierarchy; dir: string }[]): void {
    this.#made.push(...dirs);
    for (const { hierarchy, dir } of v1) {
      this.#v1HierarchyDirs.push({ hierarchy, dir });
      for (const controller of hierarchy.controllers) this.v1Dirs.set(controller, dir);
    }
  }

  /**
   * Makes the parent a container's cgroup goes in, in `hierarchy`, with the controllers it
   * needs: a cgroupParent each time (under its lock), the default one once per process.
   * Returns the default parent's key among the ready ones (null for a cgroupParent).
   */
  #readyParent(hierarchy: Hierarchy, cgroupParent: string | undefined, kind: CgroupMarkKind, resources: NormalizedResources | null): string | null {
    const parent = parentPath(hierarchy, cgroupParent);
    const isCpuset = hierarchy !== this.#hierarchies.unified && hierarchy.controllers.includes('cpuset');
    const available = controllersToEnable(this.#hierarchies, hierarchy, resources);
    if (cgroupParent !== undefined) {
      ensureParent(hierarchy, parent, kind, available, isCpuset);
      return null;
    }
    const readyKey = readyKeyOf(parent, available);
    if (readyDefaultParents.has(readyKey)) return readyKey;
    for (let attempt = 0; ; attempt++) {
      try {
        ensureParent(hierarchy, parent, kind, available, isCpuset);
        break;
      } catch (error) {
        // Removed between its mkdir and its cpuset or controllers by another process, which
        // removes it when empty at its exit: made again, as a make in it that meets ENOENT is.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= DEFAULT_PARENT_RETRIES) throw error;
      }
    }
    readyDefaultParents.add(readyKey);
    return readyKey;
  }

  /** Clears a make that met a parent removed under it, before it starts again. */
  #undoMake(): void {
    for (const dir of [...this.#made].reverse()) {
      try {
        fs.rmdirSync(dir);
      } catch {
        // gone with its parent
      }
    }
    this.#made.length = 0;
    this.#v1HierarchyDirs.length = 0;
    this.v1Dirs.clear();
    if (this.#lockFd >= 0) fs.closeSync(this.#lockFd);
    this.#lockFd = -1;
  }

  readonly #made: string[] = [];
  /** The container's directory in the primary hierarchy (made or recorded), whose parents a removal walks. */
  #primaryDir: string | null = null;

  /** What the helper needs: where to clone into, which cgroup.procs to join, what to mount. */
  plan(): CgroupPlan {
    return cgroupPlan(this.#hierarchies, this.unifiedDir, this.#v1HierarchyDirs);
  }

  /**
   * The plan of the cgroups create() will make with these arguments, before they exist: the
   * helper is given it while Node makes them (native/helper/cgroup_gate.h).
   */
  static planned(name: string, cgroupParent: string | undefined, hierarchies: Hierarchies = hostHierarchies()): CgroupPlan {
    const { unified, v1 } = plannedDirectories(name, cgroupParent, hierarchies);
    return cgroupPlan(hierarchies, unified, v1);
  }

  /**
   * The record of the cgroups create() will make with these arguments, before they exist: a
   * state record may name them from the start (attach() skips what is not made yet).
   */
  static plannedRecord(name: string, cgroupParent: string | undefined, hierarchies: Hierarchies = hostHierarchies()): CgroupRecord {
    const { unified, v1 } = plannedDirectories(name, cgroupParent, hierarchies);
    return { unified, v1: v1.map(({ dir }) => dir) };
  }

  update(resources: NormalizedResources): void {
    checkControllersAvailable(this.#hierarchies, resources);
    const v1Controllers = new Set(this.v1Dirs.keys());
    const onV1 = v2ControllersFor(resources).every((c) => v1Controllers.has(c === 'io' ? 'blkio' : c));
    if (this.v1Dirs.size > 0 && onV1) applyV1Limits(this.v1Dirs, resources);
    else if (this.unifiedDir) applyV2Limits(this.unifiedDir, resources);
  }

  stats(): CgroupStats {
    if (this.v1Dirs.size > 0) return readV1Stats(this.v1Dirs);
    if (this.unifiedDir) return readV2Stats(this.unifiedDir);
    throw new CgroupError('cgroup: this host has no cgroup hierarchy');
  }

  /** CPU time, peak memory and OOM kills, from the hierarchies stats() reads: for a usage report. */
  usage(reader?: CgroupFileReader): CgroupUsage {
    if (this.v1Dirs.size > 0) return readV1Usage(this.v1Dirs, reader);
    if (this.unifiedDir) return readV2Usage(this.unifiedDir, reader);
    throw new CgroupError('cgroup: this host has no cgroup hierarchy');
  }

  /** The files usage() reads, as paths: for a reader at the exit (native ExitBookkeeping). */
  usageFiles(): string[] {
    const files: string[] = [];
    this.usage((dir, file) => {
      files.push(path.join(dir, file));
      return null;
    });
    return files;
  }

  /** OOM kills so far, from the same hierarchy stats() reads: one file, not every figure. */
  oomKills(): number {
    if (this.v1Dirs.size > 0) return readV1OomKills(this.v1Dirs);
    return this.unifiedDir ? readV2OomKills(this.unifiedDir) : 0;
  }

  /** Every pid in the container's cgroup. */
  pids(): number[] {
    const dir = this.unifiedDir ?? this.#v1HierarchyDirs[0]?.dir;
    return dir ? readProcs(dir) : [];
  }

  /** Freezes every process; resolves once the kernel reports them frozen. */
  async freeze(): Promise<void> {
    await this.#setFrozen(true);
  }

  async thaw(): Promise<void> {
    await this.#setFrozen(false);
  }

  async #setFrozen(frozen: boolean): Promise<void> {
    let done: () => boolean;
    if (this.unifiedDir && cgroupFileExists(this.unifiedDir, 'cgroup.freeze')) {
      const dir = this.unifiedDir;
      writeCgroupFile(dir, 'cgroup.freeze', frozen ? '1' : '0');
      done = () => /(^|\n)frozen (\d)/.exec(readCgroupFile(dir, 'cgroup.events') ?? '')?.[2] === (frozen ? '1' : '0');
    } else if (this.v1Dirs.has('freezer')) {
      const dir = this.v1Dirs.get('freezer') as string;
      writeCgroupFile(dir, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
      done = () => (readCgroupFile(dir, 'freezer.state') ?? '').trim() === (frozen ? 'FROZEN' : 'THAWED');
    } else {
      throw new CgroupError('cgroup: no freezer on this host (neither cgroup v2 cgroup.freeze nor the v1 freezer controller)', 'ENOCONTROLLER');
    }
    for (let waited = 0; !done(); waited += 5) {
      if (waited > 5000) throw new CgroupError(`cgroup: the kernel did not report the container ${frozen ? 'frozen' : 'thawed'} within 5 s`, 'ETIMEDOUT');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Sends a signal to every process in the cgroup (cgroup.kill for SIGKILL where the kernel has it). */
  signalAll(signal: number): void {
    if (signal === 9 && this.unifiedDir && cgroupFileExists(this.unifiedDir, 'cgroup.kill')) {
      try {
        writeCgroupFile(this.unifiedDir, 'cgroup.kill', '1');
      } catch (error) {
        // Removed since (its owner saw the last process exit): nothing is left in it to kill.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      return;
    }
    for (const pid of this.pids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  /**
   * Resolves once no process is left in the cgroup (killed again now and then while some
   * stay); at once when it holds none, as after its last process was reaped.
   */
  async whenEmpty(): Promise<void> {
    for (let attempt = 0; !this.#removed && this.pids().length > 0 && attempt < 250; attempt++) {
      if (attempt % 10 === 0) this.signalAll(9);
      await new Promise((resolve) => setTimeout(resolve, attempt < 20 ? 5 : 20));
    }
  }

  /**
   * Runs `start` (which removes this cgroup) a turn of the event loop later, or at once when a
   * make of the same name asks for the removal under way meanwhile (removalInProgress): that
   * make then waits for it, as for one begun at once.
   */
  removeAfterThisTurn(start: () => Promise<void>): void {
    const key = this.#primaryDir;
    let started: Promise<void> | undefined;
    const begin = (): Promise<void> => {
      if (!started) {
        if (key !== null && deferredStarts.get(key) === begin) deferredStarts.delete(key);
        started = start();
      }
      return started;
    };
    if (key !== null) deferredStarts.set(key, begin);
    setImmediate(begin);
  }

  /**
   * Removes the cgroup in every hierarchy; retries while exiting processes still count. A
   * container made meanwhile under the same name waits for it: in this process by
   * removalInProgress, in another by the 'container-removing' mark on the primary directory,
   * set here while this process holds its lock (endCgroupsNamed).
   *
   * `offThread`: the first attempt runs on libuv's pool (for the removal at the container's
   * exit, which then does not hold up 'close'); `settleRemoval()` finishes it at once.
   */
  remove(offThread = false): Promise<void> {
    const key = this.#primaryDir;
    if (this.#lockFd >= 0 && !this.#removed) {
      try {
        markCgroup(this.#lockFd, 'container-removing');
      } catch {
        // gone already
      }
    }
    const removal = this.#removeWithRetries(offThread).finally(() => {
      if (key !== null && removals.get(key) === removal) removals.delete(key);
    });
    if (key !== null) removals.set(key, removal);
    return removal;
  }

  async #removeWithRetries(offThread: boolean): Promise<void> {
    // A cgroup whose last process has just been reaped may stay busy for a moment
    // (the kernel releases it asynchronously). What is still there after 5 s is
    // left to the next run's sweep.
    for (let attempt = 0; ; attempt++) {
      const removed = offThread && attempt === 0 ? await this.#startOffThreadAttempt() : this.#tryRemove();
      if (removed || attempt >= 250) return;
      if (attempt === 10) this.signalAll(9);
      await new Promise((resolve) => setTimeout(resolve, attempt < 20 ? 5 : 20));
    }
  }

  #startOffThreadAttempt(): Promise<boolean> {
    const attempt = { canceller: new (native().RemovalCanceller)(), dirs: [...this.#made].reverse() };
    this.#offThreadAttempt = attempt;
    return this.#tryRemoveOffThread(attempt).finally(() => {
      if (this.#offThreadAttempt === attempt) this.#offThreadAttempt = undefined;
    });
  }

  /**
   * Finishes an off-thread attempt still under way, rather than wait for libuv's pool and then
   * the event loop to get to it: on return, what could be removed is gone. The pool's attempt
   * is cancelled first and what it did is taken from it: a directory it removed is never
   * removed again by name here, for the name may be the next container's by now (made by
   * another process the moment this one's primary directory went). What it left is this
   * container's still: it removes the primary directory last and only after every other, and
   * the primary, locked by this process, keeps the name from any other maker meanwhile.
   */
  settleRemoval(): void {
    const attempt = this.#offThreadAttempt;
    if (!attempt) return;
    const outcomes = attempt.canceller.cancel();
    // All gone already, in the default parent (which stays): its promise takes note of it and
    // closes the lock a turn later, or Node's exit does (removeNow). A parent the library made
    // goes now, with its last container.
    const allGone = outcomes.length === attempt.dirs.length && outcomes.every(isGone);
    if (allGone && this.#primaryDir !== null && inDefaultParent(this.#hierarchies, this.#primaryDir)) return;
    this.#takeOutcomes(attempt, outcomes);
    this.#tryRemove();
  }

  /** The off-thread attempt under way, and the directories it was given. */
  #offThreadAttempt: { canceller: NativeRemovalCanceller; dirs: string[] } | undefined;

  /** Stops the off-thread attempt, if one runs, and takes note of what it removed. */
  #cancelOffThreadAttempt(): void {
    const attempt = this.#offThreadAttempt;
    if (attempt) this.#takeOutcomes(attempt, attempt.canceller.cancel());
  }

  #takeOutcomes(attempt: { dirs: string[] }, outcomes: number[]): void {
    if (!this.#removed && outcomes.length === attempt.dirs.length) this.#removedAll(attempt.dirs, outcomes);
  }

  /** One synchronous attempt, for failure paths and process exit. */
  removeNow(): boolean {
    this.#cancelOffThreadAttempt();
    return this.#tryRemove();
  }

  #tryRemove(): boolean {
    if (this.#removed) return true;
    const dirs = [...this.#made].reverse();
    return this.#removedAll(dirs, rmdirsUntilFailure(dirs));
  }

  /** One attempt on libuv's pool (native removeDirectories): Node's thread meanwhile goes on to 'close'. */
  async #tryRemoveOffThread({ canceller, dirs }: { canceller: NativeRemovalCanceller; dirs: string[] }): Promise<boolean> {
    if (this.#removed) return true;
    const outcomes = await native().removeDirectories(dirs, true, canceller);
    // removeNow() may have finished the removal meanwhile.
    return this.#removed || this.#removedAll(dirs, outcomes);
  }

  /** Takes note of an attempt's outcomes (0 or an errno, one per directory of `dirs`): whether all are gone. */
  #removedAll(dirs: string[], outcomes: number[]): boolean {
    let all = true;
    dirs.forEach((dir, i) => {
      const outcome = outcomes[i];
      if (isGone(outcome)) {
        const at = this.#made.indexOf(dir);
        if (at >= 0) this.#made.splice(at, 1);
      } else {
        all = false;
      }
    });
    if (all) {
      this.#removed = true;
      // A custom parent the library made goes with the last container in it; the default stays.
      if (this.#primaryDir) removeMadeParents(this.#hierarchies, this.#primaryDir);
      if (this.#lockFd >= 0) fs.closeSync(this.#lockFd);
      this.#lockFd = -1;
    }
    return all;
  }
}

const { ENOENT, ECANCELED } = os.constants.errno;

/** An rmdir outcome that leaves the directory gone: removed, or not there. */
function isGone(outcome: number | undefined): boolean {
  return outcome === 0 || outcome === ENOENT;
}

/** rmdir(2) of `dir`: 0, or its errno. */
function rmdirOutcome(dir: string): number {
  try {
    fs.rmdirSync(dir);
    return 0;
  } catch (error) {
    // Node's errno is negative (libuv's); one without any counts as a failure (-1).
    return -((error as NodeJS.ErrnoException).errno ?? 1);
  }
}

/**
 * rmdir of each directory in order until one fails (other than ENOENT); those after it are
 * not tried (ECANCELED). The primary directory, last, thus goes only once every other has: a
 * parent's primary directory is empty only when no container's cgroup is left below it in
 * any hierarchy, which removeMadeParents relies on.
 */
export function rmdirsUntilFailure(dirs: string[]): number[] {
  let failed = false;
  return dirs.map((dir) => {
    if (failed) return ECANCELED;
    const outcome = rmdirOutcome(dir);
    if (outcome !== 0 && outcome !== ENOENT) failed = true;
    return outcome;
  });
}

/** Removals under way in this process, by the container's directory in the primary hierarchy. */
const removals = new Map<string, Promise<void>>();

/** Removals to begin a turn later (removeAfterThisTurn), by the same key: begun when asked for. */
const deferredStarts = new Map<string, () => Promise<void>>();

/** The removal under way of the container cgroup `primaryDir`, if this process is removing it. */
export function removalInProgress(primaryDir: string): Promise<void> | undefined {
  return deferredStarts.get(primaryDir)?.() ?? removals.get(primaryDir);
}

/**
 * Whether the cgroups a record names are frozen, read without blocking the event loop (for
 * list()): cgroup v2's cgroup.events where the kernel has cgroup.freeze, else the v1 freezer.
 * Only read, never written: a record naming another cgroup shows a wrong status, nothing more.
 */
export async function cgroupFrozenAsync(record: CgroupRecord): Promise<boolean> {
  const read = (dir: unknown, file: string): Promise<string | null> =>
    typeof dir === 'string' ? fs.promises.readFile(path.join(dir, file), 'utf8').catch(() => null) : Promise.resolve(null);
  if ((await read(record.unified, 'cgroup.freeze')) !== null) {
    return /(^|\n)frozen 1/.test((await read(record.unified, 'cgroup.events')) ?? '');
  }
  for (const dir of Array.isArray(record.v1) ? record.v1 : []) {
    const state = await read(dir, 'freezer.state');
    if (state !== null) return state.trim() === 'FROZEN';
  }
  return false;
}
