/**
 * Blocks of 65536 host ids, one per user namespace, taken from ts-container's range in
 * /etc/subuid and /etc/subgid (subordinate-ids.ts). A block is owned by whoever holds the
 * flock on its file in a machine-wide directory (a fixed path, not under any state root:
 * every state root shares the one range): the Node process that made the container, or the
 * monitor of a detached one, which gets a copy of the fd. The container's first process dies
 * with that owner, so a block whose lock nobody holds has no process left, and a crashed
 * owner's block is free again the moment the kernel drops its lock. The directory may be a
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
/** Held while the range is read (and maybe appended) and a block is picked. */
const MACHINE_LOCK = 'lock';

export interface IdBlock {
  uidStart: number;
  gidStart: number;
  size: number;
  /** The flocked block file; the owner holds it while the container lives. */
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

/** The block's lock fd if this process could take it, else -1. */
function tryTake(dir: string, uidStart: number, owner: string): number {
  const fd = fs.openSync(path.join(dir, `block-${uidStart}`), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    if (!native().tryLock(fd)) {
      fs.closeSync(fd);
      return -1;
    }
    // For whoever looks: which container holds it (the lock is what counts).
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${owner}\n`, 0);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/**
 * Takes a free block for a container. `owner` (e.g. the state directory) is written in the
 * block file for people; the flock on `lockFd` is what marks the block as taken.
 */
export function allocateIdBlock(owner: string, dir = ID_BLOCK_DIR, files: SubordinateFiles = SYSTEM_FILES): IdBlock {
  return whileHoldingMachineLock(dir, () => {
    const { uid, gid } = reservedRanges(files);
    const count = Math.floor(Math.min(uid.count, gid.count) / ID_BLOCK_SIZE);
    // A random first try: with many containers running, few blocks are tried before a free one.
    const first = count > 0 ? randomInt(count) : 0;
    for (let k = 0; k < count; k++) {
      const index = (first + k) % count;
      const uidStart = uid.start + index * ID_BLOCK_SIZE;
      const lockFd = tryTake(dir, uidStart, owner);
      if (lockFd < 0) continue;
      const gidStart = gid.start + index * ID_BLOCK_SIZE;
      return {
        uidStart,
        gidStart,
        size: ID_BLOCK_SIZE,
        lockFd,
        uidMap: [{ containerId: 0, hostId: uidStart, size: ID_BLOCK_SIZE }],
        gidMap: [{ containerId: 0, hostId: gidStart, size: ID_BLOCK_SIZE }],
      };
    }
    throw new IdBlocksExhaustedError(count);
  });
}

/** Gives the block back (this process's hold on it; a monitor may hold its own copy). */
export function releaseIdBlock(block: IdBlock): void {
  if (block.lockFd < 0) return;
  fs.closeSync(block.lockFd);
  block.lockFd = -1;
}
