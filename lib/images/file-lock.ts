/**
 * Exclusive flock()s for the image store, taken without blocking Node's event loop: a
 * non-blocking try, then short waits. The kernel drops a lock when its holder dies, so a
 * process killed with -9 never leaves the store locked.
 */
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../native/binding';

const FIRST_WAIT_MS = 1;
const LONGEST_WAIT_MS = 50;

/** Takes the flock on an open fd, waiting as long as another process holds it. */
export async function lockFd(fd: number, signal?: AbortSignal): Promise<void> {
  let wait = FIRST_WAIT_MS;
  while (!native().tryLock(fd)) {
    signal?.throwIfAborted();
    await sleep(wait);
    wait = Math.min(wait * 2, LONGEST_WAIT_MS);
  }
}

/** Runs `fn` holding the flock of `lockFile` (made when missing); released however `fn` ends. */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const handle = await fs.promises.open(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    await lockFd(handle.fd, signal);
    return await fn();
  } finally {
    // Closing the only fd of the open file releases its flock.
    await handle.close();
  }
}

/**
 * Takes the flock of the file named `file` (made when missing) and returns its open handle,
 * waiting while another process holds it. A holder may remove the name before it lets go (a
 * finished ingest renames its file away): a waiter that then gets the lock of a file no longer
 * under that name lets go and tries again on whatever the name is now.
 */
export async function lockNamedFile(file: string, mode: number, signal?: AbortSignal): Promise<fs.promises.FileHandle> {
  for (;;) {
    signal?.throwIfAborted();
    const handle = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, mode);
    try {
      await lockFd(handle.fd, signal);
      const [held, named] = await Promise.all([handle.stat(), fs.promises.lstat(file).catch(() => undefined)]);
      if (named !== undefined && named.ino === held.ino && named.dev === held.dev) return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
    await handle.close();
  }
}
