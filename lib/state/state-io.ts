/**
 * File operations in a container's state directory that never follow a symbolic link and
 * always act on the directory they were given, even if its path is changed meanwhile: the
 * directory is opened once (O_DIRECTORY | O_NOFOLLOW) and each name is then reached through
 * that fd, as openat(2) would (Node has no openat: /proc/self/fd/<fd>/<name> resolves the
 * same way, the magic link standing for the open directory). Every failure with an errno
 * becomes a ContainerStateIOError naming the step and the path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomHex } from '../options/random-hex';
import { ContainerStateIOError } from '../errors/errors';
import { native } from '../native/binding';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

/** Runs `action`; an errno error becomes a ContainerStateIOError for `step` on `file`. */
export function stateStep<T>(step: string, file: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    const cause = error as NodeJS.ErrnoException;
    if (typeof cause?.code === 'string' && typeof cause.errno === 'number') throw new ContainerStateIOError(step, file, cause);
    throw error;
  }
}

/** A directory held open by fd: every name below it is reached through the fd. */
export class DirectoryHandle {
  readonly fd: number;
  /** The directory's path when it was opened (for messages only). */
  readonly path: string;

  private constructor(fd: number, dir: string) {
    this.fd = fd;
    this.path = dir;
  }

  /** Opens `dir` itself (not a link to it); throws the raw errno error (ENOENT, ELOOP, ENOTDIR...). */
  static open(dir: string): DirectoryHandle {
    return new DirectoryHandle(fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), dir);
  }

  /** A path for `name` in this directory that stays in it whatever happens to its path. */
  at(name: string): string {
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** `name` as a user would read it in a message. */
  display(name: string): string {
    return path.join(this.path, name);
  }

  stat(): fs.Stats {
    return fs.fstatSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Opens a file that is not a link: 'read', 'append' (made if missing) or 'create' (must not exist). */
  openFile(name: string, how: 'read' | 'append' | 'create' | 'truncate', mode = 0o600): number {
    const flags = {
      read: O_RDONLY,
      append: O_WRONLY | O_APPEND | O_CREAT,
      create: O_WRONLY | O_CREAT | O_EXCL,
      truncate: O_WRONLY | O_CREAT | O_TRUNC,
    }[how];
    return asFsError('open', () => native().openAt(this.fd, name, flags, mode));
  }

  /** The file's text, or undefined when it does not exist; a link is an error (ELOOP). */
  readText(name: string): string | undefined {
    // One native call (open, read, close); missing is a common answer here (a name not
    // claimed yet), given without an error object.
    return asFsError('open', () => native().readFileAt(this.fd, name));
  }

  /** Writes a new file that must not exist yet (one native call: open, write, close). */
  writeNew(name: string, data: string, mode = 0o600): void {
    asFsError('write', () => native().writeFileAt(this.fd, name, data, mode));
  }

  /**
   * Replaces `name` whole: a reader sees the old bytes or the new ones, never a part. The
   * names are exchanged rather than renamed over (native writeFileAt): no disk flush on ext4. A
   * crash leaves at most a dot-named temporary, which the state root's sweep removes; a
   * failure removes it at once.
   */
  writeAtomic(name: string, data: string, mode = 0o600): void {
    const temporary = `${TEMPORARY_PREFIX}${name}.${process.pid}.${temporaryCounter++}`;
    asFsError('write', () => native().writeFileAt(this.fd, name, data, mode, temporary));
  }

  /** Removes a file (a link itself, never its target); missing is fine. */
  unlink(name: string): void {
    try {
      fs.unlinkSync(this.at(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  exists(name: string): boolean {
    try {
      fs.lstatSync(this.at(name));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Runs a native file call; its errno error (positive errno) gets the shape of Node's fs errors
 * (negative errno, syscall), which ContainerStateIOError and callers read.
 */
export function asFsError<T>(syscall: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    const cause = error as NodeJS.ErrnoException;
    if (typeof cause?.errno === 'number' && cause.errno > 0) {
      cause.errno = -cause.errno;
      cause.syscall = syscall;
    }
    throw error;
  }
}

/** Device and inode: what tells a directory from another made later under the same name. */
export function identityOf(stat: { dev: number; ino: number }): string {
  return `${stat.dev}:${stat.ino}`;
}

/** Made once per process: what keeps its names apart from other processes' (uniqueSuffix). */
let processToken: string | undefined;
let suffixCounter = 0;

/**
 * A suffix for a name that no other name made here has: a random token drawn once per process
 * and a count. As unlikely to repeat across processes as a fresh random one, without the
 * random draw each time (about 15 µs on a path that runs for every container).
 */
export function uniqueSuffix(): string {
  processToken ??= randomHex(4);
  return `${processToken}${(suffixCounter++).toString(36)}`;
}

let temporaryCounter = 0;
/** Temporaries of writeAtomic start with this (the monitor's too: native/monitor/run_record.cc). */
export const TEMPORARY_PREFIX = '.';

/**
 * `name` in `dir` as DirectoryHandle.readText reads it (no link followed, neither `dir` nor
 * `name`), without blocking the event loop; undefined when either is missing.
 */
export async function readTextAsync(dir: string, name: string): Promise<string | undefined> {
  let directory: fs.promises.FileHandle;
  try {
    directory = await fs.promises.open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return await fs.promises.readFile(`/proc/self/fd/${directory.fd}/${name}`, { encoding: 'utf8', flag: O_RDONLY | O_NOFOLLOW });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  } finally {
    await directory.close();
  }
}

/**
 * Removes `dir` and everything in it without following a link anywhere: a link is removed,
 * never what it points to, and each subdirectory is entered by fd with O_NOFOLLOW. It holds one
 * fd at a time for a flat directory (the names are read before the directory is opened, and
 * the directory opened is checked to be the one read), so it still works when the process is
 * short of fds, as cleanup after EMFILE must.
 */
export function removeTree(dir: string): void {
  let before: fs.Stats;
  try {
    before = fs.lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // A link or a file where a directory was expected: remove that name only.
  if (!before.isDirectory()) return fs.unlinkSync(dir);
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const handle = DirectoryHandle.open(dir);
  try {
    const opened = handle.stat();
    if (opened.ino !== before.ino || opened.dev !== before.dev) {
      throw Object.assign(new Error(`${dir} was replaced while being removed`), { code: 'EBUSY', errno: -16, syscall: 'rmdir' });
    }
    for (const entry of entries) {
      if (entry.isDirectory()) removeTree(handle.at(entry.name));
      else handle.unlink(entry.name);
    }
  } finally {
    handle.close();
  }
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
