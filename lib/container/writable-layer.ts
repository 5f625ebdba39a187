/**
 * A container's private writable layer, under the data root:
 *   containers/<id>/upper   the overlay's upper layer: every file the container writes
 *   containers/<id>/work    overlayfs's work directory (same filesystem as upper)
 *   containers/<id>.json    what the container uses: its state root, its lower layers
 * The record is written before the layer is made and removed only after it was moved away,
 * so a crash at any step leaves something a sweep finds: the state directory names the data
 * root (StateRecord.dataRoot), and the record names the state directory. It goes with the
 * state directory (destroy, delete, exit cleanup, the state root's sweep: ContainerDirectory.remove)
 * and, when that is gone without it (a state root on tmpfs after a reboot, a crash mid-removal),
 * with the data root's own sweep.
 *
 * Removal costs one rename on the caller's path: the layer directory moves into
 * containers/.removing/ (0700, so nothing else reaches its files) and its record is unlinked;
 * the files go in the background (each rmdir of a directory costs a few ms on a journalled
 * filesystem with discard). A process that exits first finishes its removals in its 'exit'
 * handler; one killed -9 leaves them in .removing/, which any process's sweep empties.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerExistsError, ContainerStateIOError } from '../errors/errors';
import { verifyDataRoot } from '../images/data-root';
import { native } from '../native/binding';
import { DirectoryHandle, identityOf, removeTree, stateStep, uniqueSuffix } from '../state/state-io';
import { quietMoment } from '../state/quiet-moment';
import { OncePerRoot } from '../state/once-per-root';
import { moveIntoPlace, SpreadHomes, sweepHomes } from '../state/spread-homes';
import { pauseForTest } from '../state/test-hook';

/** containers/.removing/: layers moved away from their name, being removed (the sweep finishes them). */
const REMOVING_DIR = '.removing';
const RECORD_SUFFIX = '.json';

/** <dataRoot>/containers/<id>.json */
export interface WritableLayerRecord {
  version: 1;
  id: string;
  /** The state root whose directory <id> the layer belongs to, and that directory's creation time. */
  stateRoot: string;
  created: string;
  /** The overlay's lower layers, top first (a rootfs directory, or an image's layer directories). */
  lowerDirs: string[];
  /** The image the container was made from (ImageStore.remove refuses while it is here). */
  image?: { id: string; digest: string; reference: string | null };
}

export interface WritableLayerPaths {
  /** <dataRoot>/containers */
  containers: string;
  dir: string;
  upper: string;
  work: string;
  record: string;
}

export function writableLayerPaths(dataRoot: string, id: string): WritableLayerPaths {
  const containers = path.join(dataRoot, 'containers');
  const dir = path.join(containers, id);
  return { containers, dir, upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), record: dir + RECORD_SUFFIX };
}

export interface MakeWritableLayer {
  dataRoot: string;
  record: WritableLayerRecord;
  /**
   * Who owns the upper layer's root (the container's /) and the work directory: container root
   * as the host sees it, so that in a user namespace it may write there.
   */
  owner: { uid: number; gid: number };
  /** Who owns the container's / (the upper layer's root), when not `owner`: the top layer's root's owner, as the host sees it. */
  rootOwner?: { uid: number; gid: number };
  /** The mode of the container's / (the top lower layer's root). */
  rootMode: number;
}

/**
 * Makes the layer and its record. An existing one of the same id is cleared when nothing uses
 * it (its state directory is gone or another); else ContainerExistsError.
 */
export function makeWritableLayer(layer: MakeWritableLayer): WritableLayerPaths {
  const { dataRoot, record } = layer;
  // Owned by this user and closed to others on the way (UntrustedDataRootError); made 0711.
  verifyDataRoot(dataRoot, true);
  void sweepDataRoot(dataRoot);
  const paths = writableLayerPaths(dataRoot, record.id);
  // 0711: the container's root (another uid in a user namespace) passes through to its layer.
  stateStep('make the data root', paths.containers, () => fs.mkdirSync(paths.containers, { mode: 0o711, recursive: true }));
  stateStep('make the writable layer', paths.containers, () => fs.chmodSync(paths.containers, 0o711));
  const containers = stateStep('open the data root', paths.containers, () => DirectoryHandle.open(paths.containers));
  try {
    claimName(containers, dataRoot, record);
    containers.writeAtomic(record.id + RECORD_SUFFIX, JSON.stringify(record, null, 2) + '\n');
    // Made in a home and moved into place once whole, where the filesystem has homes (spread-homes.ts).
    const homed = stateStep('make the writable layer', paths.dir, () => SpreadHomes.of(dataRoot)?.makeDirectory(record.id, 0o711) ?? null);
    if (!homed) stateStep('make the writable layer', paths.dir, () => fs.mkdirSync(containers.at(record.id), { mode: 0o711 }));
    const dir = stateStep('make the writable layer', paths.dir, () => DirectoryHandle.open(homed ?? containers.at(record.id)));
    try {
      layersMadeHere.set(paths.dir, identityOf(dir.stat()));
      stateStep('make the upper layer', paths.upper, () => {
        fs.mkdirSync(dir.at('upper'), { mode: 0o700 });
        const rootOwner = layer.rootOwner ?? layer.owner;
        fs.chownSync(dir.at('upper'), rootOwner.uid, rootOwner.gid);
        fs.chmodSync(dir.at('upper'), layer.rootMode & 0o7777);
      });
      stateStep('make the work directory', paths.work, () => {
        fs.mkdirSync(dir.at('work'), { mode: 0o700 });
        fs.chownSync(dir.at('work'), layer.owner.uid, layer.owner.gid);
      });
      if (homed) {
        pauseForTest('layer-homed');
        moveLayerIntoPlace(homed, containers, record.id, dataRoot);
      }
    } catch (error) {
      // Not in place: what was made in the home goes (in place, the caller's undo removes it by name).
      if (homed) removeMake(homed);
      throw error;
    } finally {
      dir.close();
    }
  } finally {
    containers.close();
  }
  return paths;
}

/** A layer made in a home takes its name in containers/, which another process may have taken meanwhile. */
function moveLayerIntoPlace(homed: string, containers: DirectoryHandle, id: string, dataRoot: string): void {
  try {
    moveIntoPlace(homed, containers, id);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ContainerExistsError(id, path.join(dataRoot, 'containers'));
    throw new ContainerStateIOError('make the writable layer', containers.display(id), error as NodeJS.ErrnoException);
  }
}

function removeMake(homed: string): void {
  try {
    removeTree(homed);
  } catch {
    // left for the sweep, which removes a make whose maker is gone
  }
}

/** Frees the id's name in containers/: an abandoned layer there goes; one in use is an error. */
function claimName(containers: DirectoryHandle, dataRoot: string, record: WritableLayerRecord): void {
  const existing = readRecord(containers, record.id);
  if (existing === undefined && !fs.existsSync(containers.at(record.id))) return;
  if (existing && !isAbandoned(existing)) throw new ContainerExistsError(record.id, path.join(dataRoot, 'containers'));
  removeByName(containers, record.id);
}

/** The record of `id`, undefined when there is none or it cannot be read (then nothing names it). */
function readRecord(containers: DirectoryHandle, id: string): WritableLayerRecord | undefined {
  let text: string | undefined;
  try {
    text = containers.readText(id + RECORD_SUFFIX);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as WritableLayerRecord;
    return record?.version === 1 && record.id === id && typeof record.stateRoot === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the state directory the layer belongs to is gone (or is another container's now). */
function isAbandoned(record: WritableLayerRecord): boolean {
  let state: { id?: unknown; created?: unknown };
  try {
    state = JSON.parse(fs.readFileSync(path.join(record.stateRoot, record.id, 'state.json'), 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Unreadable for another reason (a record being rewritten, EACCES): not known to be abandoned.
    return code === 'ENOENT' || code === 'ENOTDIR' || error instanceof SyntaxError;
  }
  return state.id !== record.id || state.created !== record.created;
}

/**
 * Moves the layer away, removes its record, then its files in the background: the name is
 * free at once, and a removal that dies half way leaves an entry in .removing/ that the
 * sweep finishes.
 */
function removeByName(containers: DirectoryHandle, id: string): void {
  const away = `${id}.${uniqueSuffix()}`;
  const moveAway = (): boolean => {
    try {
      fs.renameSync(containers.at(id), `${containers.at(REMOVING_DIR)}/${away}`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return false;
    }
  };
  // ENOENT: the layer is gone, or .removing is not there yet (made once, then kept).
  let moved = removingDirs.has(containers.path) && moveAway();
  if (!moved) {
    makeRemovingDir(containers.path, containers.at(REMOVING_DIR));
    moved = moveAway();
  }
  containers.unlink(id + RECORD_SUFFIX);
  layersMadeHere.delete(path.join(containers.path, id));
  if (moved) removeInBackground(path.join(containers.path, REMOVING_DIR, away));
}

/**
 * The layer directories this process made, by path: their identity (device and inode) as made.
 * A removal by this process checks what it moved away against it, rather than read the record.
 */
const layersMadeHere = new Map<string, string>();

/**
 * Removes the layer of `id` that this process made, as removeByName does, with its record
 * read by nobody: what the rename moves away is checked to be the very directory made here
 * (else it goes back). For a container whose state directory this process still holds at its
 * name: no other maker can have claimed the layer's name meanwhile (claimName waits for that
 * directory to be gone), so the record beside it is this layer's. False when this process
 * made no layer of that name, or another stands there now: removeWritableLayer's checks apply.
 */
export function removeLayerMadeHere(dataRoot: string, id: string): boolean {
  const paths = writableLayerPaths(dataRoot, id);
  const identity = layersMadeHere.get(paths.dir);
  if (identity === undefined) return false;
  const away = path.join(paths.containers, REMOVING_DIR, `${id}.${uniqueSuffix()}`);
  try {
    // By path: the data root passed its checks when this process made the layer.
    if (!removingDirs.has(paths.containers)) makeRemovingDir(paths.containers, path.join(paths.containers, REMOVING_DIR));
    fs.renameSync(paths.dir, away);
  } catch {
    return false;
  }
  if (!sameDirectory(away, identity)) {
    fs.renameSync(away, paths.dir);
    return false;
  }
  layersMadeHere.delete(paths.dir);
  removeInBackground(away);
  try {
    fs.unlinkSync(paths.record);
  } catch {
    // A record left behind names a state directory that is going: the data root's sweep removes it.
  }
  return true;
}

function sameDirectory(dir: string, identity: string): boolean {
  try {
    return identityOf(fs.lstatSync(dir)) === identity;
  } catch {
    return false;
  }
}

/** The containers/ directories whose .removing this process has made or found. */
const removingDirs = new Set<string>();

/** containers/.removing (made 0700 on first use, never removed), at `removing`: a path that reaches it. */
function makeRemovingDir(containers: string, removing: string): void {
  try {
    fs.mkdirSync(removing, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  removingDirs.add(containers);
}

/** Removals this process started and has not finished: path -> its promise. */
const pendingRemovals = new Map<string, Promise<void>>();

/** Set once the process is exiting: removals are then done at once (no later turn comes). */
let exiting = false;

/** Removes a moved-away layer off the caller's path; failures are left to the sweep. */
function removeInBackground(dir: string): void {
  if (exiting) return removeNow(dir);
  if (pendingRemovals.has(dir)) return;
  // One piece of work off the event loop, each link removed itself (never what it points to);
  // what it could not remove is left to the sweep. Queued on the next turn, as the state
  // directory's is (deferred-removal.ts): the pool thread it wakes often takes Node's CPU, and
  // destroy() then waited for the removal it had just handed off (0.03-0.06 ms at the median);
  // and not while a spawn makes a container (quiet-moment.ts).
  const removal = quietMoment()
    .then(() => native().removeTree(dir))
    .catch(() => undefined)
    .finally(() => pendingRemovals.delete(dir));
  pendingRemovals.set(dir, removal);
}

/** Resolves when every removal this process started has finished (tests, benches). */
export async function settleWritableLayerRemovals(): Promise<void> {
  while (pendingRemovals.size > 0) await Promise.all([...pendingRemovals.values()]);
}

function removeNow(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // left to the sweep
  }
}

// A process that exits with removals under way finishes them (an 'exit' handler cannot wait),
// and so do removals that other 'exit' handlers start after this one (exit-cleanup.ts).
process.once('exit', () => {
  exiting = true;
  for (const dir of pendingRemovals.keys()) removeNow(dir);
});

/**
 * Removes the container's writable layer and record, if any; idempotent. Only a layer whose
 * record names this container (its state root and creation time) goes: one that another
 * container of the same id holds stays. The data root must pass the data root's trust
 * checks (the state root's rules): a state record naming a directory of another user's is never acted on.
 * `madeHere`: the data root is the one this process checked when it made the layer (not read
 * from a record), so the check is not made again.
 */
export function removeWritableLayer(dataRoot: string, id: string, owner: { stateRoot: string; created: string }, madeHere = false): void {
  if (!madeHere && !verifyDataRoot(dataRoot, false)) return;
  const paths = writableLayerPaths(dataRoot, id);
  let containers: DirectoryHandle;
  try {
    containers = DirectoryHandle.open(paths.containers);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const record = readRecord(containers, id);
    if (record?.stateRoot !== owner.stateRoot || record.created !== owner.created) return;
    stateStep('remove the writable layer', paths.dir, () => removeByName(containers, id));
  } finally {
    containers.close();
  }
}

const sweeps = new OncePerRoot((dataRoot) => sweepOnce(dataRoot));

/**
 * Once per process and data root, in the background: removes the layers whose state
 * directory is gone, and removals that died half way.
 */
export function sweepDataRoot(dataRoot: string): Promise<void> {
  return sweeps.run(dataRoot);
}

async function sweepOnce(dataRoot: string): Promise<void> {
  // Layers and state directories whose makers died before they were moved into place.
  await sweepHomes(dataRoot);
  const containers = path.join(dataRoot, 'containers');
  let names: string[];
  try {
    names = await fs.promises.readdir(containers);
  } catch {
    return;
  }
  for (const [index, name] of names.entries()) {
    if (index > 0 && index % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    try {
      if (name === REMOVING_DIR) {
        await finishRemovals(path.join(containers, name));
      } else if (name.endsWith(RECORD_SUFFIX)) {
        const id = name.slice(0, -RECORD_SUFFIX.length);
        const handle = DirectoryHandle.open(containers);
        try {
          const record = readRecord(handle, id);
          if (record && isAbandoned(record)) removeByName(handle, id);
        } finally {
          handle.close();
        }
      }
    } catch {
      // raced with its owner or another sweep: leave it
    }
  }
}

/** Removes what .removing/ holds that no removal of this process is working on (a dead process's). */
async function finishRemovals(dir: string): Promise<void> {
  for (const name of await fs.promises.readdir(dir)) {
    const entry = path.join(dir, name);
    if (!pendingRemovals.has(entry)) removeTree(entry);
  }
}

/** For tests: forget which data roots were swept. */
export function resetDataRootSweepsForTest(): void {
  sweeps.reset();
}
