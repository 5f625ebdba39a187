/**
 * Blocks of 65536 host ids, one per user namespace, taken from ts-container's range in
 * /etc/subuid and /etc/subgid (subordinate-ids.ts). Block n is owned by whoever holds the
 * lock on byte n of one machine-wide file (a fixed path, not under any state root: every
 * state root shares the one range), an OFD lock on the owner's own open of the file: the
 * Node process that made the container, or the monitor of a detached one, which gets that fd.
 * The container's first process dies with its owner, so a block whose byte nobody holds has
 * no process left, and a crashed owner's block is free again the moment the kernel drops the
 * lock. Nothing per container is written, so nothing is left behind. The directory may be a
 * tmpfs: after a reboot no container runs, and every block is free.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomInt } from 'node:crypto';
import { native } from '../native/binding';
import type { IdMapping } from '../options/types';
import { reservedRanges, SYSTEM_FILES, type SubordinateFiles } from './subordinate-ids';

export const ID_BLOCK_SIZE = 65536;
export const ID_BLOCK_DIR = '/run/ts-container-userns';
/** Flocked while the range is read (and maybe appended) and a block is picked. */
const MACHINE_LOCK = 'lock';
/** Byte n locked: block n is taken. */
export const BLOCKS_FILE = 'blocks';

export interface IdBlock {
  index: number;
  uidStart: number;
  gidStart: number;
  size: number;
  /** This owner's open of the blocks file, holding the lock on byte `index`. */
  lockFd: number;
  uidMap: IdMapping[];
  gidMap: IdMapping[];
}

export class IdBlocksExhaustedError extends Error {
  readonly code = 'ENOIDBLOCK';
  constructor(count: number) {
    super(`ts-container: all ${count} blocks of ${ID_BLOCK_SIZE} ids of its /etc/subuid range are in use by running containers`);
    this.name = 'IdBlocksExhaustedError';
  }
}

function whileHoldingMachineLock<T>(dir: string, body: () => T): T {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = fs.openSync(path.join(dir, MACHINE_LOCK), 'a', 0o600);
  try {
    native().lock(fd);
    return body();
  } finally {
    fs.closeSync(fd);
  }
}

/** Takes a free block for a container; its `lockFd` is what marks it taken. */
export function allocateIdBlock(dir = ID_BLOCK_DIR, files: SubordinateFiles = SYSTEM_FILES): IdBlock {
  try {
    return takeFreeBlock(dir, files);
  } catch (error) {
    // Out of fds, a read-only /run: Node's error (it names the file), with the step named too.
    const e = error as NodeJS.ErrnoException & { step?: string };
    if (typeof e?.code === 'string' && typeof e.errno === 'number' && e.step === undefined) e.step = 'take a block of user namespace ids';
    throw error;
  }
}

function takeFreeBlock(dir: string, files: SubordinateFiles): IdBlock {
  return whileHoldingMachineLock(dir, () => {
    const { uid, gid } = reservedRanges(files);
    const count = Math.floor(Math.min(uid.count, gid.count) / ID_BLOCK_SIZE);
    // A description of its own: its locks are this container's, apart from every other open.
    const lockFd = fs.openSync(path.join(dir, BLOCKS_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    try {
      // A random first try: with many containers running, few blocks are tried before a free one.
      const first = count > 0 ? randomInt(count) : 0;
      for (let k = 0; k < count; k++) {
        const index = (first + k) % count;
        if (!native().tryLockByte(lockFd, index)) continue;
        const uidStart = uid.start + index * ID_BLOCK_SIZE;
        const gidStart = gid.start + index * ID_BLOCK_SIZE;
        return {
          index,
          uidStart,
          gidStart,
          size: ID_BLOCK_SIZE,
          lockFd,
          uidMap: [{ containerId: 0, hostId: uidStart, size: ID_BLOCK_SIZE }],
          gidMap: [{ containerId: 0, hostId: gidStart, size: ID_BLOCK_SIZE }],
        };
      }
    } catch (error) {
      fs.closeSync(lockFd);
      throw error;
    }
    fs.closeSync(lockFd);
    throw new IdBlocksExhaustedError(count);
  });
}

/** Whether some owner holds block `index` (for tests and diagnostics). */
export function isIdBlockTaken(index: number, dir = ID_BLOCK_DIR): boolean {
  const fd = fs.openSync(path.join(dir, BLOCKS_FILE), 'r+');
  try {
    return !native().tryLockByte(fd, index);
  } finally {
    fs.closeSync(fd);
  }
}

/** Gives the block back (this process's hold on it; a monitor may hold its own copy). */
export function releaseIdBlock(block: IdBlock): void {
  if (block.lockFd < 0) return;
  fs.closeSync(block.lockFd);
  block.lockFd = -1;
}
