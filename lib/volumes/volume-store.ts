/**
 * Named volumes on disk, under the data root:
 *   volumes/NAME                  the volume: a directory, bind-mounted into its containers
 *   volume-uses/NAME/KEY.json     one record per container that mounts it: { id, stateRoot },
 *                                 written by the container's create (mount-hook.ts)
 *   volume-uses/.lock             taken by whoever makes, removes or records a use of a volume,
 *                                 so a remove never races a container mounting the volume
 * A use is live while the container's state directory exists (running or stopped, until it
 * is deleted), as docker counts a stopped container's volumes as used; a record whose
 * container is gone is stale and dropped when read.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveDataRoot, verifyDataRoot } from '../images/data-root';
import { withFileLock } from '../images/file-lock';
import { isVolumeName, volumePath, volumesDir } from './volume-names';

export { isVolumeName, volumePath, volumesDir };

function usesDir(dataRoot: string, name: string): string {
  return path.join(dataRoot, 'volume-uses', name);
}

/** The data root of a Volume call, checked, and its directories made. */
export function volumeDataRoot(dataRoot?: unknown): string {
  const root = resolveDataRoot(dataRoot);
  verifyDataRoot(root, true);
  fs.mkdirSync(volumesDir(root), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(root, 'volume-uses'), { recursive: true, mode: 0o700 });
  return root;
}

export function withVolumesLock<T>(dataRoot: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(dataRoot, 'volume-uses', '.lock'), fn);
}

/** Makes the volume's directory when missing; true when this call made it. */
export function ensureVolume(dataRoot: string, name: string): boolean {
  try {
    fs.mkdirSync(volumePath(dataRoot, name), { mode: 0o755 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!fs.lstatSync(volumePath(dataRoot, name)).isDirectory()) throw Object.assign(new Error(`volume ${name}: ${volumePath(dataRoot, name)} is not a directory`), { code: 'ENOTDIR', path: volumePath(dataRoot, name) });
    return false;
  }
}

export function volumeExists(dataRoot: string, name: string): boolean {
  try {
    return fs.lstatSync(volumePath(dataRoot, name)).isDirectory();
  } catch {
    return false;
  }
}

export function listVolumeNames(dataRoot: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(volumesDir(dataRoot));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((n) => isVolumeName(n) && volumeExists(dataRoot, n)).sort();
}

/** A container's record file name: the id is unique only within its state root. */
function useKey(id: string, stateRoot: string): string {
  return `${id}-${createHash('sha256').update(stateRoot).digest('hex').slice(0, 12)}.json`;
}

/** Marks an anonymous volume: it goes once no container uses it (sweepAnonymous). */
const ANONYMOUS_MARK = '.anonymous';

/** Records that a container mounts the volume; returns the record's path (its undo removes it). */
export function recordUse(dataRoot: string, name: string, id: string, stateRoot: string, anonymous = false): string {
  const dir = usesDir(dataRoot, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (anonymous) fs.writeFileSync(path.join(dir, ANONYMOUS_MARK), '');
  const file = path.join(dir, useKey(id, stateRoot));
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ id, stateRoot }), { mode: 0o600 });
  fs.renameSync(temporary, file);
  return file;
}

/**
 * Removes the anonymous volumes no container uses any more (their containers were deleted):
 * docker removes them with their container. Call it holding the volumes lock.
 */
export function sweepAnonymous(dataRoot: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dataRoot, 'volume-uses'));
  } catch {
    return;
  }
  for (const name of names) {
    if (!isVolumeName(name) || !fs.existsSync(path.join(usesDir(dataRoot, name), ANONYMOUS_MARK))) continue;
    if (liveUses(dataRoot, name).length === 0) removeVolumeFiles(dataRoot, name);
  }
}

/** Removes a use record (a failed create's undo), and the volume's records directory once empty. */
export function removeUse(record: string): void {
  fs.rmSync(record, { force: true });
  fs.rmSync(path.join(path.dirname(record), ANONYMOUS_MARK), { force: true });
  try {
    fs.rmdirSync(path.dirname(record));
  } catch {
    // other uses remain
  }
}

/**
 * The ids of the containers that mount the volume now (their state directory exists). Stale
 * records are removed; call it holding the volumes lock.
 */
export function liveUses(dataRoot: string, name: string): string[] {
  const dir = usesDir(dataRoot, name);
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const file of files) {
    if (!file.endsWith('.json')) continue;
    const full = path.join(dir, file);
    let record: { id?: unknown; stateRoot?: unknown };
    try {
      record = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch {
      continue;
    }
    if (typeof record.id === 'string' && typeof record.stateRoot === 'string' && fs.existsSync(path.join(record.stateRoot, record.id))) {
      live.push(record.id);
    } else {
      fs.rmSync(full, { force: true });
    }
  }
  return live.sort();
}

/** Removes the volume's directory (its data) and its records. */
export function removeVolumeFiles(dataRoot: string, name: string): void {
  fs.rmSync(volumePath(dataRoot, name), { recursive: true, force: true });
  fs.rmSync(usesDir(dataRoot, name), { recursive: true, force: true });
}
