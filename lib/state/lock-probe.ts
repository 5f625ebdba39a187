/**
 * Whether a lock file's holder is gone: its flock can be taken (and is let go at once). The
 * owners of state files (a maker, a monitor, Node) hold such a lock for as long as they own
 * them, and the kernel drops it when they die, whichever pid namespace they are in.
 */
import * as fs from 'node:fs';
import { native } from '../native/binding';

/** True when nobody holds `file`'s lock; the open's error (ENOENT...) is thrown. Never follows a link. */
export function isLockFree(file: string): boolean {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return native().tryLock(fd);
  } finally {
    fs.closeSync(fd);
  }
}
