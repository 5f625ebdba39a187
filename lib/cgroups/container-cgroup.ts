/**
 * A container's own cgroup, in every hierarchy of the host: made before the
 * container's first process (which starts inside it), limited, measured,
 * frozen, killed, and removed with the container. An exclusive flock on its
 * directory marks it as owned by a live process, so that the next run can
 * tell a crashed run's leftovers from another program's containers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import { Hierarchies, Hierarchy, hostHierarchies } from './hierarchy';
import type { NormalizedResources } from './resources';
import { applyV2Limits, readV2OomKills, readV2Stats, v2ControllersFor } from './v2-driver';
import { applyV1Limits, readV1OomKills, readV1Stats } from './v1-driver';
import { CgroupStats } from './stats';
import { cgroupFileExists, readCgroupFile, readProcs, writeCgroupFile } from './cgroup-fs';

export const DEFAULT_PARENT_NAME = 'ts-container';

/** Controllers worth enabling for stats even when no limit needs them. */
const V2_ALWAYS = ['memory', 'pids', 'cpu', 'io'];

/** A leftover younger than this may be a container still being created. */
const STALE_AFTER_MS = 10_000;

export interface CgroupPlan {
  cgroup2Path?: string;
  v1Procs: string[];
  /** The cgroup with the pids limit (v1, or v2 with the pids controller), checked after a move. */
  pidsDir?: string;
  mounts: string[];
}

export class CgroupError extends Error {
  readonly code: string;
  constructor(message: string, code = 'ECGROUP') {
    super(message);
    this.name = 'CgroupError';
    this.code = code;
  }
}

function parentPath(hierarchy: Hierarchy, cgroupParent: string | undefined): string {
  const relative = cgroupParent ?? path.posix.join(hierarchy.own, DEFAULT_PARENT_NAME);
  return path.join(hierarchy.mount, path.posix.normalize(`/${relative}`));
}

/** Makes `dir` and its missing parents below `mount`, calling `made` for each new one. */
function makeDirs(mount: string, dir: string, made: (dir: string) => void): void {
  const missing: string[] = [];
  for (let d = dir; d.startsWith(mount) && d !== mount && !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    made(d);
  }
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

/** Where a container's cgroups are, as its state directory records them. */
export interface CgroupRecord {
  unified: string | null;
  v1: string[];
  /** The default parent ("ts-container") in each hierarchy, removed with the last container in it. */
  defaultParents?: string[];
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
    const unified = record.unified && fs.existsSync(record.unified) ? record.unified : null;
    const cgroup = new ContainerCgroup(hierarchies, unified);
    if (unified) cgroup.#made.push(unified);
    for (const hierarchy of hierarchies.v1) {
      const dir = record.v1.find((d) => d.startsWith(hierarchy.mount + '/'));
      if (!dir || !fs.existsSync(dir)) continue;
      cgroup.#made.push(dir);
      cgroup.#v1HierarchyDirs.push({ hierarchy, dir });
      for (const controller of hierarchy.controllers) cgroup.v1Dirs.set(controller, dir);
    }
    // Whoever removes them (a sweep, a destroy from another process) takes the default parent along.
    if (record.defaultParents) cgroup.#removableParents = [...record.defaultParents];
    return cgroup;
  }

  /** What a state directory records of these cgroups. */
  record(): CgroupRecord {
    const record: CgroupRecord = { unified: this.unifiedDir, v1: this.#v1HierarchyDirs.map(({ dir }) => dir) };
    if (this.#removableParents) record.defaultParents = [...this.#removableParents];
    return record;
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

  /** Makes the container's cgroups and applies its limits; removes what it made on failure. */
  static create(
    name: string,
    cgroupParent: string | undefined,
    resources: NormalizedResources | null,
    hierarchies: Hierarchies = hostHierarchies(),
  ): ContainerCgroup {
    if (resources) checkControllersAvailable(hierarchies, resources);
    const unified = hierarchies.unified;
    const cgroup = new ContainerCgroup(hierarchies, unified ? path.join(parentPath(unified, cgroupParent), name) : null);
    try {
      if (unified && cgroup.unifiedDir) {
        const parent = path.dirname(cgroup.unifiedDir);
        const wanted = [...new Set([...V2_ALWAYS, ...(resources ? v2ControllersFor(resources) : [])])];
        const available = wanted.filter((c) => unified.controllers.includes(c));
        cgroup.#makeOwn(cgroup.unifiedDir, name, () => {
          makeDirs(unified.mount, parent, () => undefined);
          if (available.length > 0) enableV2Controllers(unified.mount, parent, available);
        });
      }
      for (const hierarchy of hierarchies.v1) {
        const dir = path.join(parentPath(hierarchy, cgroupParent), name);
        const isCpuset = hierarchy.controllers.includes('cpuset');
        cgroup.#makeOwn(dir, name, () => makeDirs(hierarchy.mount, path.dirname(dir), (made) => isCpuset && inheritCpuset(made)));
        cgroup.#v1HierarchyDirs.push({ hierarchy, dir });
        for (const controller of hierarchy.controllers) cgroup.v1Dirs.set(controller, dir);
        if (isCpuset) inheritCpuset(dir);
      }
      if (cgroupParent === undefined) cgroup.#removableParents = cgroup.#made.map((d) => path.dirname(d));
      cgroup.#takeOwnership();
      if (resources) cgroup.update(resources);
    } catch (error) {
      cgroup.removeNow();
      throw error;
    }
    return cgroup;
  }

  /**
   * Makes the container's own directory after `prepareParent` has made its parent. Another
   * run may remove the default parent when its last container goes (ENOENT here): then the
   * parent is made again.
   */
  #makeOwn(dir: string, name: string, prepareParent: () => void): void {
    for (let attempt = 0; ; attempt++) {
      prepareParent();
      try {
        fs.mkdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
          throw new CgroupError(`cgroup ${dir} already exists: another container named ${name} is running`, 'EEXIST');
        }
        if (code !== 'ENOENT' || attempt >= 5) throw error;
      }
    }
    this.#made.push(dir);
  }

  readonly #made: string[] = [];
  /** The default parent ("ts-container") in each hierarchy; never a parent the user named. */
  #removableParents: string[] | null = null;

  #takeOwnership(): void {
    const primary = this.#made[0];
    if (!primary) return;
    this.#lockFd = fs.openSync(primary, 'r');
    native().tryLock(this.#lockFd);
  }

  /** What the helper needs: where to clone into, which cgroup.procs to join, what to mount. */
  plan(): CgroupPlan {
    // What the container sees at /sys/fs/cgroup: its own cgroup in each hierarchy.
    const mounts: string[] = [];
    if (this.#v1HierarchyDirs.length === 0) {
      if (this.unifiedDir) mounts.push(`- ${this.unifiedDir}`);
    } else {
      for (const { hierarchy, dir } of this.#v1HierarchyDirs) mounts.push(`${path.basename(hierarchy.mount)} ${dir}`);
      if (this.unifiedDir) mounts.push(`unified ${this.unifiedDir}`);
    }
    return {
      cgroup2Path: this.unifiedDir ?? undefined,
      v1Procs: this.#v1HierarchyDirs.map(({ dir }) => path.join(dir, 'cgroup.procs')),
      pidsDir: this.v1Dirs.get('pids') ?? (this.unifiedDir && this.#hierarchies.unified?.controllers.includes('pids') ? this.unifiedDir : undefined),
      mounts,
    };
  }

  update(resources: NormalizedResources): void {
    checkControllersAvailable(this.#hierarchies, resources);
    const v1Controllers = new Set(this.v1Dirs.keys());
    const onV1 = v2ControllersFor(resources).every((c) => v1Controllers.has(c === 'io' ? 'blkio' : c));
    if (this.v1Dirs.size > 0 && onV1) applyV1Limits(this.v1Dirs, resources);
    else if (this.unifiedDir) applyV2Limits(this.unifiedDir, resources);
  }

  /**
   * A pids limit the caller did not ask for: set where the host has the pids controller,
   * skipped where it has none (a limit the caller asked for is an error there instead).
   */
  setDefaultPidsLimit(limit: number): void {
    const dir = this.plan().pidsDir;
    if (dir) writeCgroupFile(dir, 'pids.max', String(limit));
  }

  stats(): CgroupStats {
    if (this.v1Dirs.size > 0) return readV1Stats(this.v1Dirs);
    if (this.unifiedDir) return readV2Stats(this.unifiedDir);
    throw new CgroupError('cgroup: this host has no cgroup hierarchy');
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
      writeCgroupFile(this.unifiedDir, 'cgroup.kill', '1');
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

  /** Removes the cgroup in every hierarchy; retries while exiting processes still count. */
  async remove(): Promise<void> {
    // A cgroup whose last process has just been reaped may stay busy for a moment
    // (the kernel releases it asynchronously). What is still there after 5 s is
    // left to the next run's sweep.
    for (let attempt = 0; ; attempt++) {
      if (this.#tryRemove() || attempt >= 250) return;
      if (attempt === 10) this.signalAll(9);
      await new Promise((resolve) => setTimeout(resolve, attempt < 20 ? 5 : 20));
    }
  }

  /** One synchronous attempt, for failure paths and process exit. */
  removeNow(): boolean {
    return this.#tryRemove();
  }

  #tryRemove(): boolean {
    if (this.#removed) return true;
    let all = true;
    for (const dir of [...this.#made].reverse()) {
      try {
        fs.rmdirSync(dir);
        this.#made.splice(this.#made.indexOf(dir), 1);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') this.#made.splice(this.#made.indexOf(dir), 1);
        else all = false;
      }
    }
    if (all) {
      this.#removed = true;
      // The default parent goes with the last container in it; a busy one stays.
      if (this.#removableParents) {
        for (const dir of this.#removableParents) {
          try {
            fs.rmdirSync(dir);
          } catch {
            // other containers are still in it
          }
        }
      }
      if (this.#lockFd >= 0) fs.closeSync(this.#lockFd);
      this.#lockFd = -1;
    }
    return all;
  }
}

let staleSweepDone = false;

/**
 * Removes container cgroups left below the parent by runs that died: those
 * no live process holds a lock on, older than a few seconds. Their
 * processes, if any survived, are killed first. Runs once per process.
 */
export function removeStaleCgroups(cgroupParent: string | undefined, hierarchies: Hierarchies = hostHierarchies()): string[] {
  if (staleSweepDone) return [];
  staleSweepDone = true;
  const all = [...(hierarchies.unified ? [hierarchies.unified] : []), ...hierarchies.v1];
  const primary = all[0];
  if (!primary) return [];
  // Names from every hierarchy: a run that died while removing may have left some only.
  const names = new Set<string>();
  for (const h of all) {
    try {
      for (const d of fs.readdirSync(parentPath(h, cgroupParent), { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
    } catch {
      // no parent in this hierarchy yet
    }
  }
  const removed: string[] = [];
  for (const name of names) {
    const dirs = all.map((h) => path.join(parentPath(h, cgroupParent), name)).filter((d) => fs.existsSync(d));
    const owner = path.join(parentPath(primary, cgroupParent), name);
    let fd = -1;
    try {
      if (dirs.some((d) => Date.now() - fs.statSync(d).ctimeMs < STALE_AFTER_MS)) continue;
      // The owner holds a lock on its directory in the first hierarchy; without that
      // directory, nobody owns the rest.
      if (fs.existsSync(owner)) {
        fd = fs.openSync(owner, 'r');
        if (!native().tryLock(fd)) continue;
      }
      const unifiedDir = hierarchies.unified ? path.join(parentPath(hierarchies.unified, cgroupParent), name) : undefined;
      if (unifiedDir && cgroupFileExists(unifiedDir, 'cgroup.kill')) writeCgroupFile(unifiedDir, 'cgroup.kill', '1');
      for (const d of dirs) {
        for (const pid of readProcs(d)) {
          try {
            process.kill(pid, 9);
          } catch {
            // gone
          }
        }
      }
      let ok = true;
      for (const d of dirs) {
        try {
          fs.rmdirSync(d);
        } catch {
          ok = false;
        }
      }
      if (ok) removed.push(name);
    } catch {
      // raced with its owner or another sweep: leave it
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  return removed;
}
