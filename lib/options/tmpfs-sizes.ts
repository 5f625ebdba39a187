/**
 * The `tmpfsSizes` option: the size of each tmpfs the runtime mounts on its own, over the
 * defaults (DEFAULT_TMPFS_SIZES). Without a size, each would get half of RAM, so that one
 * container filling /tmp and /run could take all of the host's memory.
 */
import { DEFAULT_TMPFS_SIZES } from './defaults';
import { fail } from './option-error';
import { parseByteSize } from './sizes';

/** Path → bytes, or null for the kernel's default (half of RAM). */
export type TmpfsSizes = Record<string, number | null>;

export function checkTmpfsSizes(value: unknown, where = 'tmpfsSizes'): TmpfsSizes {
  const sizes: TmpfsSizes = { ...DEFAULT_TMPFS_SIZES };
  if (value === undefined) return sizes;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(where, 'expected an object like { "/tmp": "2g", "/dev/shm": "256m" }');
  }
  for (const [target, size] of Object.entries(value)) {
    if (!(target in DEFAULT_TMPFS_SIZES)) {
      fail(`${where}.${target}`, `not a tmpfs the runtime mounts (expected one of ${Object.keys(DEFAULT_TMPFS_SIZES).join(', ')})`);
    }
    if (size === -1) {
      sizes[target] = null;
      continue;
    }
    const bytes = parseByteSize(size);
    // size=0 would mean "no limit" to the kernel: say -1 for that.
    if (bytes === undefined || bytes === 0) {
      fail(`${where}.${target}`, `expected bytes or a size like "64m", or -1 for the kernel's default, got ${JSON.stringify(size) ?? String(size)}`);
    }
    sizes[target] = bytes;
  }
  return sizes;
}
