/**
 * Homes: a few directories under a data root, each in a block group of its own, where a new
 * directory is made and filled before it is renamed into place: a container's writable layer
 * (into containers/, writable-layer.ts), and its state directory when the state root is on the
 * same filesystem (container-directory.ts).
 *
 * Why: ext4 puts a new directory in its parent's block group and a new file in its directory's.
 * So every writable layer, and all that overlayfs makes in a layer's work directory at each
 * mount (seven inodes), came from one group: that of containers/. Without a journal, ext4 does
 * not hand out an inode freed in the last minutes while the group has another one free
 * (recently_deleted in fs/ext4/ialloc.c), and it finds that other one by looking at each freed
 * inode of the group in turn. On a host that makes containers all the time, one group's freed
 * inodes pile up, and a new inode there costs 15-140 µs instead of a few: eleven per container
 * come from the data root, most of them on the way to the container's start. Made in turns in
 * sixteen homes that ext4 placed in groups of their own (FS_TOPDIR_FL on their parent), each
 * group sees a sixteenth of that. Measured on a 2-core host, ext4 without a journal: a C loop
 * making and removing 20000 directories of four files, a new inode 2.8 µs spread against 14.7
 * µs in one directory; `npm run bench`'s Container.spawn, four alternating runs each, median
 * 3.74-4.05 ms with homes against 3.80-4.83 ms without, where the runs without grew slower as
 * the group's freed inodes piled up.
 *
 * Only where the flag can be set (ext2/3/4, whose allocator reads it): elsewhere there are no
 * homes, and the caller makes its directory in place, as before. The homes are made once per
 * parent and kept, empty but for makes in progress. A make killed -9 before its rename leaves
 * its directory in a home, named with its maker's PID namespace, pid and start time: sweepHomes
 * removes it once that process is gone, or, for a maker in another PID namespace (whose pid
 * means nothing here), once it is older than a make ever lasts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import { processStartTime } from './process-identity';
import { DirectoryHandle, removeTree, uniqueSuffix } from './state-io';

/** The homes' own directory, in the data root (a dot-name, as the data root's other private ones). */
export const HOMES_DIR = '.homes';
/** Enough that one group's share of a busy host's churn stays small; each costs one Orlov placement, once. */
const HOME_COUNT = 16;
const MAKING_PREFIX = '.making-';
/** A make lasts milliseconds: one of another PID namespace's maker this old was abandoned. */
const ABANDONED_AFTER_MS = 10 * 60_000;

/** Per parent: its homes, or null where its filesystem cannot spread them. */
const known = new Map<string, SpreadHomes | null>();
/** This process's PID namespace, pid and start time, in the names of its makes. */
let ownTag = '';
let ownPidNamespace: string | undefined;

export class SpreadHomes {
  readonly #dir: string;
  /** Where the next make goes: each process starts at its own home, so that processes spread too. */
  #next = Math.floor(Math.random() * HOME_COUNT);

  /** Made by SpreadHomes.of (makeHomes), once the homes in `dir` exist. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The homes under `parent`, made now if they are not yet; null where they cannot be. */
  static of(parent: string): SpreadHomes | null {
    let homes = known.get(parent);
    if (homes === undefined) {
      homes = makeHomes(parent);
      known.set(parent, homes);
    }
    return homes;
  }

  /** The homes of `parent` if this process made or found them already; else null (none made now). */
  static known(parent: string): SpreadHomes | null {
    return known.get(parent) ?? null;
  }

  /** The path of the home the next directory is to be made in. */
  nextHome(): string {
    const home = path.join(this.#dir, String(this.#next));
    this.#next = (this.#next + 1) % HOME_COUNT;
    return home;
  }

  /** A new name in a home for a directory that will be `name`: it says who makes it, for sweepHomes. */
  makingName(name: string): string {
    return `${MAKING_PREFIX}${name}.${ownTag}.${uniqueSuffix()}`;
  }

  /**
   * Makes a directory for `name` (mode) in the next home and returns its path, to be moved into
   * place with moveIntoPlace once filled; null when the homes are gone and cannot be made again
   * (the caller then makes it in place).
   */
  makeDirectory(name: string, mode: number): string | null {
    const made = path.join(this.nextHome(), this.makingName(name));
    try {
      fs.mkdirSync(made, { mode });
      return made;
    } catch (error) {
      // Removed from under this process (a data root cleared by hand): made again, once.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = path.dirname(this.#dir);
      known.delete(parent);
      const again = SpreadHomes.of(parent);
      if (!again) return null;
      fs.mkdirSync(made, { mode });
      return made;
    }
  }
}

/** Per directory and homes' parent: whether they are on one filesystem (a rename between them works). */
const sameFilesystem = new Map<string, boolean>();

/**
 * The homes this process has under `parent`, for a directory to be made in and then renamed to a
 * name in `dir`: only when `dir` is on the same filesystem. A container's state directory is made
 * in its data root's homes this way when the state root is on that filesystem (on most hosts
 * it is not: /run is a tmpfs, and needs none). Null when there are none yet.
 */
export function homesSharedWith(dir: string, parent: string): SpreadHomes | null {
  const homes = SpreadHomes.known(parent);
  if (!homes) return null;
  const key = `${dir}\0${parent}`;
  let same = sameFilesystem.get(key);
  if (same === undefined) {
    try {
      same = fs.statSync(dir).dev === fs.statSync(parent).dev;
    } catch {
      return null;
    }
    sameFilesystem.set(key, same);
  }
  return same ? homes : null;
}

/** Puts `made` (from makeDirectory) in place as `name` of the directory open as `dir`; EEXIST when taken. */
export function moveIntoPlace(made: string, dir: DirectoryHandle, name: string): void {
  native().moveIntoPlace(made, dir.fd, name);
}

/**
 * Makes `parent`'s homes: their own parent first, flagged so that ext4 spreads its
 * subdirectories, then the homes in it. Null, with nothing left behind, where the flag cannot
 * be set, and where the homes' parent is not this user's directory.
 */
function makeHomes(parent: string): SpreadHomes | null {
  // A make is named with who makes it, for the sweep: without that, no homes.
  const startTime = processStartTime(process.pid);
  const pidNamespace = pidNamespaceOf('self');
  if (startTime === undefined || pidNamespace === undefined) return null;
  ownTag = `${pidNamespace}.${process.pid}.${startTime}`;
  const dir = path.join(parent, HOMES_DIR);
  let madeHere = false;
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    madeHere = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  let handle: DirectoryHandle;
  try {
    // Not a link: DirectoryHandle.open refuses one at the last component.
    handle = DirectoryHandle.open(dir);
  } catch {
    return null;
  }
  try {
    if (handle.stat().uid !== process.geteuid?.()) return null;
    if (!native().setTopDirectoryFlag(handle.fd)) {
      if (madeHere) fs.rmSync(dir, { recursive: true, force: true });
      return null;
    }
    for (let i = 0; i < HOME_COUNT; i++) {
      try {
        fs.mkdirSync(handle.at(String(i)), { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    return new SpreadHomes(dir);
  } catch {
    return null;
  } finally {
    handle.close();
  }
}

/** Removes from `parent`'s homes each make whose maker no longer runs (a pid reused since has another start time). */
export async function sweepHomes(parent: string): Promise<void> {
  const dir = path.join(parent, HOMES_DIR);
  let homes: string[];
  try {
    homes = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  for (const home of homes) {
    let names: string[];
    try {
      names = await fs.promises.readdir(path.join(dir, home));
    } catch {
      continue;
    }
    for (const name of names) {
      if (!isAbandonedMake(path.join(dir, home), name)) continue;
      try {
        removeTree(path.join(dir, home, name));
      } catch {
        // raced with another sweep: left for the next
      }
    }
  }
}

/**
 * `.making-<name>.<pid namespace>.<pid>.<start time>.<suffix>` (the name may hold dots) in
 * `dir`, whose maker is gone: one of this PID namespace whose pid no longer names it (a pid
 * reused since has another start time), one of another once it is ABANDONED_AFTER_MS old.
 */
function isAbandonedMake(dir: string, name: string): boolean {
  if (!name.startsWith(MAKING_PREFIX)) return false;
  const parts = name.split('.');
  if (parts.length < 6) return false;
  const [pidNamespace, pidText, startTime] = parts.slice(-4, -1);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  ownPidNamespace ??= pidNamespaceOf('self');
  if (pidNamespace === ownPidNamespace) return processStartTime(pid) !== startTime;
  try {
    return Date.now() - fs.lstatSync(path.join(dir, name)).mtimeMs > ABANDONED_AFTER_MS;
  } catch {
    return false;
  }
}

/** The inode number of a process's PID namespace ("4026531836"), or undefined. */
function pidNamespaceOf(pid: 'self' | number): string | undefined {
  try {
    return /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/pid`))?.[1];
  } catch {
    return undefined;
  }
}

/** For tests: forget which parents have homes. */
export function forgetHomesForTest(): void {
  known.clear();
  sameFilesystem.clear();
}
