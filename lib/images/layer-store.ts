/**
 * Unpacked layers under <dataRoot>/images/layers/<chain id hex>/: `diff/` (the layer's own
 * files, whiteouts as overlay whiteouts, ready to be an overlay lower layer) and
 * `layer.json` (what it is). A layer is unpacked once, into a temporary directory that only
 * a rename makes visible: a crashed or failed unpack leaves nothing under a chain id, and the
 * temporary directory of a process that died is removed by the next store that looks (its
 * lock file is no longer held). One process at a time unpacks a chain id, under the flock
 * of layers/.lock-<hex>: a second one waits, then finds the layer there (or, when the first
 * died, unpacks it itself).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { native } from '../native/binding';
import { lockNamedFile } from './file-lock';
import { unpackLayer, type UnpackLayerOptions } from './layer-unpack';

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const TEMP_PREFIX = '.tmp-';
const REMOVING_PREFIX = '.removing-';
const LOCK_PREFIX = '.lock-';

export interface LayerRecord {
  /** "sha256:<hex>": the layer's identity in a stack (OCI chain id). */
  chainId: string;
  /** "sha256:<hex>" of the layer's uncompressed tar. */
  diffId: string;
  /** The chain id of the layer below, null for a base layer. */
  parent: string | null;
  /** Bytes of uncompressed tar. */
  unpackedBytes: number;
  /** The blob it was unpacked from, when known. */
  digest?: string;
  mediaType?: string;
  /** ISO time of the unpack. */
  created: string;
}

export interface EnsureLayerOptions {
  /** The blob's media type; absent: the compression is read from its first bytes. */
  mediaType?: string;
  /** The diff id the image config gives: the unpack fails unless the tar matches. */
  diffId: string;
  /** The blob's digest and size from the manifest, checked as it is read. */
  digest?: string;
  size?: number;
  /** The blob was checked against `digest` as it was stored (UnpackLayerOptions.blobVerified). */
  blobVerified?: boolean;
  /**
   * Awaited between the unpack and the rename that makes the layer visible: a pull that
   * unpacks while it downloads gives the promise that the blob is stored (so verified). A
   * rejection fails the unpack, and nothing of it stays.
   */
  commitAfter?: Promise<unknown>;
  /**
   * The promise that the layer below (`parentChainId`) is unpacked (a pull's ensure of it): the
   * unpack starts at once, and waits for it only to give the directories the archive leaves out
   * their attributes from below. Absent: the layer below must be there before the unpack starts.
   */
  parentReady?: Promise<unknown>;
  maxLayerBytes?: number;
  signal?: AbortSignal;
  onBytes?: UnpackLayerOptions['onBytes'];
}

/** Opens the blob a layer is unpacked from. */
export type OpenLayerBlob = () => Readable | Promise<Readable>;

/** OCI chain ids of a stack of diff ids (bottom first): the first is its diff id, each next one sha256("<below> <diff id>"). */
export function chainIds(diffIds: readonly string[]): string[] {
  const ids: string[] = [];
  for (const diffId of diffIds) {
    const below = ids[ids.length - 1];
    ids.push(below === undefined ? diffId : `sha256:${createHash('sha256').update(`${below} ${diffId}`).digest('hex')}`);
  }
  return ids;
}

function hexOf(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new TypeError(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return m[1];
}

export class LayerStore {
  /** <dataRoot>/images/layers */
  readonly root: string;
  private swept = false;

  constructor(dataRoot: string) {
    this.root = path.join(dataRoot, 'images', 'layers');
  }

  /** The layer's files: an overlay lower directory. */
  dir(chainId: string): string {
    return path.join(this.root, hexOf(chainId), 'diff');
  }

  async has(chainId: string): Promise<boolean> {
    return (await this.record(chainId)) !== null;
  }

  /** The layer's record, or null when it is not (completely) unpacked. */
  async record(chainId: string): Promise<LayerRecord | null> {
    try {
      return JSON.parse(await fsp.readFile(path.join(this.root, hexOf(chainId), 'layer.json'), 'utf8')) as LayerRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * Unpacks the layer unless it is there already. `openBlob` is called only when the unpack is
   * needed. Rejects with ImageArchiveError for a hostile or mismatching layer; nothing of a
   * failed unpack stays.
   */
  async ensure(chainId: string, parentChainId: string | null, openBlob: OpenLayerBlob, options: EnsureLayerOptions): Promise<LayerRecord> {
    const hex = hexOf(chainId);
    const expected = parentChainId === null ? options.diffId : chainIds([parentChainId, options.diffId])[1];
    if (parentChainId !== null) hexOf(parentChainId);
    if (expected !== chainId) {
      throw new TypeError(`layer ${chainId}: not the chain id of diff id ${options.diffId} on ${parentChainId ?? 'nothing'}`);
    }
    // Its failure is this unpack's, seen when awaited; never an unhandled rejection meanwhile.
    options.parentReady?.catch(() => {});
    const existing = await this.record(chainId);
    if (existing) return existing;
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    // Waits while another process unpacks this layer.
    const lockFile = path.join(this.root, `${LOCK_PREFIX}${hex}`);
    const unpacking = await lockNamedFile(lockFile, 0o600, options.signal);
    try {
      return (await this.record(chainId)) ?? (await this.#unpack(chainId, parentChainId, openBlob, options));
    } finally {
      // Removed while held: a waiter that then gets the lock of the removed file tries the name again.
      await fsp.rm(lockFile, { force: true });
      await unpacking.close();
    }
  }

  /** The unpack itself, under the chain id's lock. */
  async #unpack(chainId: string, parentChainId: string | null, openBlob: OpenLayerBlob, options: EnsureLayerOptions): Promise<LayerRecord> {
    const hex = hexOf(chainId);
    const { parentReady } = options;
    const lowerDirs = parentReady
      ? async () => {
          await parentReady;
          return this.stackBelow(parentChainId);
        }
      : await this.stackBelow(parentChainId);
    await this.sweep();
    // The maker's pid in the name: a temporary directory killed before its lock file was made
    // (or after it was removed, on the way to its rename) is found abandoned by it.
    const temp = path.join(this.root, `${TEMP_PREFIX}${hex}-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(temp, { mode: 0o700 });
    // Held while this process works in `temp`: a store that can take it knows the owner is gone.
    const lockFd = fs.openSync(path.join(temp, 'lock'), 'w', 0o600);
    native().tryLock(lockFd);
    try {
      const diff = path.join(temp, 'diff');
      await fsp.mkdir(diff);
      // Whatever the umask: a layer that does not name its root ("./") shows 0755 (or the root below).
      await fsp.chmod(diff, 0o755);
      const unpacked = await unpackLayer(await openBlob(), {
        into: diff,
        mediaType: options.mediaType,
        diffId: options.diffId,
        digest: options.digest,
        size: options.size,
        blobVerified: options.blobVerified,
        maxLayerBytes: options.maxLayerBytes,
        signal: options.signal,
        onBytes: options.onBytes,
        lowerDirs,
      });
      await options.commitAfter;
      const record: LayerRecord = {
        chainId,
        diffId: unpacked.diffId,
        parent: parentChainId,
        unpackedBytes: unpacked.unpackedBytes,
        ...(options.digest ? { digest: options.digest } : {}),
        ...(options.mediaType ? { mediaType: options.mediaType } : {}),
        created: new Date().toISOString(),
      };
      await writeDurably(path.join(temp, 'layer.json'), `${JSON.stringify(record, null, 2)}\n`);
      await fsp.unlink(path.join(temp, 'lock'));
      try {
        await fsp.rename(temp, path.join(this.root, hex));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        // Another process unpacked it first: theirs stands.
        await fsp.rm(temp, { recursive: true, force: true });
        const theirs = await this.record(chainId);
        if (theirs) return theirs;
        throw error;
      }
      await syncDirectory(this.root);
      return record;
    } catch (error) {
      await fsp.rm(temp, { recursive: true, force: true });
      throw error;
    } finally {
      fs.closeSync(lockFd);
    }
  }

  /** The directories of `chainId` and the layers below it, top first (for an overlay's lowerdir, too). */
  async stackBelow(chainId: string | null): Promise<string[]> {
    const dirs: string[] = [];
    for (let id = chainId; id !== null; ) {
      const record = await this.record(id);
      if (!record) throw new Error(`layer ${id} is not unpacked: unpack the layers below first`);
      dirs.push(this.dir(id));
      id = record.parent;
    }
    return dirs;
  }

  /** Removes an unpacked layer; a rename first, so no half-removed layer is ever visible. */
  async remove(chainId: string): Promise<void> {
    const hex = hexOf(chainId);
    const away = path.join(this.root, `${REMOVING_PREFIX}${hex}-${randomBytes(6).toString('hex')}`);
    try {
      await fsp.rename(path.join(this.root, hex), away);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await fsp.rm(away, { recursive: true, force: true });
  }

  /** The complete layers. */
  async list(): Promise<LayerRecord[]> {
    await this.sweep();
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: LayerRecord[] = [];
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const record = await this.record(`sha256:${name}`);
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * Removes what dead processes left: temporary unpack directories whose lock nobody holds,
   * and removals that were cut short. Once per store object.
   */
  async sweep(): Promise<void> {
    if (this.swept) return;
    this.swept = true;
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      const full = path.join(this.root, name);
      if (name.startsWith(REMOVING_PREFIX)) {
        await fsp.rm(full, { recursive: true, force: true });
      } else if (name.startsWith(TEMP_PREFIX) && isAbandoned(full)) {
        await fsp.rm(full, { recursive: true, force: true });
      } else if (name.startsWith(LOCK_PREFIX)) {
        await removeIfUnlocked(full);
      }
    }
  }
}

/**
 * Whether the process that made the temporary directory `name` (.tmp-<chain id>-<pid>-<random>)
 * has exited; false when the name gives no pid (made before names had one) or it still runs.
 */
function makerGone(name: string): boolean {
  const fields = name.slice(TEMP_PREFIX.length).split('-');
  if (fields.length !== 3 || !/^[1-9][0-9]*$/.test(fields[1])) return false;
  const pid = Number(fields[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** How long a temporary directory without a lock file may be on its way (made, or finished and renamed). */
const UNLOCKED_GRACE_MS = 60_000;

/**
 * A temporary directory whose owner is gone: its lock file can be locked; or it has none and
 * the process its name gives is gone, or it has had none for long.
 */
function isAbandoned(temp: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path.join(temp, 'lock'), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (makerGone(path.basename(temp))) return true;
    try {
      return Date.now() - fs.statSync(temp).mtimeMs > UNLOCKED_GRACE_MS;
    } catch {
      return false; // renamed or removed meanwhile
    }
  }
  try {
    return native().tryLock(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes a lock file nobody holds (its holder died); a waiter on it then tries the name again. */
async function removeIfUnlocked(file: string): Promise<void> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return;
  }
  try {
    if (!native().tryLock(handle.fd)) return;
    const [held, named] = await Promise.all([handle.stat(), fsp.lstat(file).catch(() => undefined)]);
    if (named && named.ino === held.ino && named.dev === held.dev) await fsp.rm(file, { force: true });
  } finally {
    await handle.close();
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await fsp.open(file, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
