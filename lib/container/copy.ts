/**
 * copyIn and copyOut (and `ts-container cp`): files into and out of a container, as docker cp
 * copies them. The container's side is its first process's root, /proc/PID/root, while it is
 * created, running or paused; a stopped container whose rootfs is a plain directory (no
 * overlay, which is gone with its mount) is copied through that directory. Every path in the
 * container is resolved in native code inside that root (copy-archive.ts), and nothing of the
 * container is run or loaded by the copy.
 *
 * Path rules (docker cp's):
 * - copyIn(Buffer | string, path): the bytes become the file `path` (its directory must exist).
 * - copyIn(Readable, dir): a tar stream extracted under the existing directory `dir`.
 * - copyIn({ hostPath }, path): the host file or directory (recursively; a symlink as itself)
 *   goes into `path` when that is a directory, else becomes `path`; "SRC/." copies SRC's
 *   contents. Its files are owned by the container's root, as docker cp makes them.
 * - copyOut(path): a tar stream of `path` under its own name ("PATH/.": its contents).
 * - copyOut(path, hostPath): extracted into `hostPath` when that is a directory, else as it.
 */
import * as fs from 'node:fs';
import * as posix from 'node:path/posix';
import { Readable } from 'node:stream';
import { ContainerCopyError, ContainerStateError, ContainerStoppedError } from '../errors/errors';
import { entryFor, LayerEntryKind } from '../images/layer-ops';
import type { TarHeader } from '../images/tar/tar-reader';
import type { IdMapping } from '../options/types';
import type { NativeLayerEntry } from '../../types/native';
import { archiveOf, extractArchive, openApplier, writeEntries, type CopyRoot } from './copy-archive';
import type { ContainerContext } from './context';
import { state } from './inspect';
import { overlayLayout } from './rootfs-overlay';

/** What copyIn takes: a file's contents, a tar stream, or a file or directory of the host. */
export type CopyInSource = Buffer | Uint8Array | string | Readable | { hostPath: string };

/** A user namespace's map as /proc/PID/uid_map lists it; undefined for the identity (no namespace of its own). */
function readIdMap(file: string): IdMapping[] | undefined {
  const map: IdMapping[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/).map(Number);
    if (fields.length !== 3 || fields.some((n) => !Number.isFinite(n))) continue;
    map.push({ containerId: fields[0] as number, hostId: fields[1] as number, size: fields[2] as number });
  }
  const identity = map.length === 1 && map[0]?.containerId === 0 && map[0].hostId === 0 && map[0].size === 4294967295;
  return identity ? undefined : map;
}

/**
 * The root a copy goes through, with the container's id maps. `writing`: a read-only stopped
 * rootfs is not written behind the container's back.
 */
async function containerRoot(context: ContainerContext, operation: string, writing: boolean): Promise<CopyRoot> {
  if (context.destroyed) throw new ContainerStateError(`container ${context.id} has been destroyed`);
  await context.main?.started.catch(() => undefined);
  const now = await state(context);
  if (now.pid > 0 && now.status !== 'stopped') {
    const root = `/proc/${now.pid}/root`;
    try {
      const uidMap = readIdMap(`/proc/${now.pid}/uid_map`);
      const gidMap = readIdMap(`/proc/${now.pid}/gid_map`);
      return { root, ...(uidMap && gidMap ? { idMaps: { uidMap, gidMap } } : {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // It exited meanwhile: as stopped.
    }
  }
  const config = context.config;
  const plainDirectory = overlayLayout(config) === null && config.rootfs !== null && config.imageLayers.length === 0;
  if (plainDirectory && config.userns !== 'block' && !(writing && config.readonly)) {
    return { root: config.rootfs as string, ...(config.userns ? { idMaps: config.userns } : {}) };
  }
  const why = config.readonly && plainDirectory ? 'its rootfs is read-only' : 'its root filesystem is mounted only while it runs';
  throw new ContainerStoppedError(context.id, `${operation} (${why})`);
}

function checkContainerPath(value: unknown, operation: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${operation}: expected a path in the container, got ${JSON.stringify(value)}`);
  if (value.includes('\0')) throw new TypeError(`${operation}: the path has a NUL byte`);
  return value;
}

/** A path's last component, and whether the path asks for a directory's contents ("DIR/."). */
function lastName(p: string): { name: string; contents: boolean } {
  const trimmed = p.replace(/\/+$/, '');
  return { name: posix.basename(trimmed), contents: /(^|\/)\.$/.test(trimmed) };
}

/** The tar's top-level name `from` as `to` (a copy that becomes a new name), and every path under it. */
function renamed(p: string, from: string, to: string): string {
  if (p === from) return to;
  if (p.startsWith(`${from}/`)) return to + p.slice(from.length);
  return p;
}

/**
 * Header → applier entry for a copy: a plain archive (".wh." names are names), whose paths may
 * be renamed at the top, owners kept (a tar stream) or made root's (a host path, as docker cp).
 */
function copyEntry(rename: { from: string; to: string } | undefined, rootOwned: boolean, onTop?: (entry: NativeLayerEntry) => void) {
  return (header: TarHeader): NativeLayerEntry | null => {
    const entry = entryFor(header, false);
    if (!entry) return null;
    if (onTop && !entry.path.includes('/')) onTop(entry);
    if (rename) {
      entry.path = renamed(entry.path, rename.from, rename.to);
      if (entry.kind === LayerEntryKind.Hardlink && entry.link) entry.link = renamed(entry.link, rename.from, rename.to);
    }
    if (rootOwned && entry.kind !== LayerEntryKind.Hardlink) {
      entry.uid = 0;
      entry.gid = 0;
    }
    return entry;
  };
}

/** What is at `dir` in the container: 'directory', 'other' (a file, or a link to one), or 'missing'. */
function kindInContainer(root: CopyRoot, p: string): 'directory' | 'other' | 'missing' {
  try {
    // Opening an applier there resolves the path as a directory, inside the root.
    openApplier({ root: root.root }, p).close();
    return 'directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR') return 'other';
    throw error;
  }
}

export async function copyIn(context: ContainerContext, source: CopyInSource, containerPath: string): Promise<void> {
  const target = checkContainerPath(containerPath, 'copyIn');
  const side = `copy into ${context.id}:`;
  if (typeof source === 'string' || source instanceof Uint8Array) return copyContents(context, Buffer.from(source), target, side);
  if (source instanceof Readable) {
    const root = await containerRoot(context, 'copy into it', true);
    return extractArchive(source, root, target, { toEntry: copyEntry(undefined, false), path: target, side });
  }
  if (typeof source === 'object' && source !== null && typeof (source as { hostPath?: unknown }).hostPath === 'string') {
    return copyHostPath(context, (source as { hostPath: string }).hostPath, target, side);
  }
  throw new TypeError('copyIn: expected a Buffer or string (a file\'s contents), a Readable (a tar stream) or { hostPath }');
}

/** The bytes as the file `target`: one File entry written in its directory. */
async function copyContents(context: ContainerContext, data: Buffer, target: string, side: string): Promise<void> {
  const { name } = lastName(target);
  if (target.endsWith('/') || name === '' || name === '.' || name === '..') {
    throw new ContainerCopyError(`${side}${target}: names a directory; give the file's path`, target, { code: 'EISDIR' });
  }
  const root = await containerRoot(context, 'copy into it', true);
  const entry: NativeLayerEntry = {
    kind: LayerEntryKind.File,
    path: name,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: Math.floor(Date.now() / 1000),
    size: data.length,
    data: [data],
  };
  await writeEntries(root, posix.dirname(target), [entry], target, side);
}

/** A host file or directory into the container, as docker cp copies it. */
async function copyHostPath(context: ContainerContext, hostPath: string, target: string, side: string): Promise<void> {
  if (hostPath === '' || hostPath.includes('\0')) throw new TypeError('copyIn: hostPath: expected a path');
  const source = lastName(hostPath);
  const root = await containerRoot(context, 'copy into it', true);
  const archive = await archiveOf({ root: '/' }, hostPath, `copy from ${hostPath}:`);
  const into = kindInContainer(root, target);
  const onTop = (entry: NativeLayerEntry) => {
    if (into === 'other' && entry.kind === LayerEntryKind.Directory) {
      throw new ContainerCopyError(`${side}${target}: cannot copy a directory onto a file`, target);
    }
  };
  if (into === 'directory' || source.contents) {
    if (into !== 'directory') {
      archive.destroy();
      throw new ContainerCopyError(`${side}${target}: no such directory to copy ${hostPath} into`, target, { code: 'ENOENT' });
    }
    return extractArchive(archive, root, target, { toEntry: copyEntry(undefined, true, onTop), path: target, side });
  }
  const dest = lastName(target);
  if (target.endsWith('/')) {
    archive.destroy();
    throw new ContainerCopyError(`${side}${target}: no such directory`, target, { code: 'ENOENT' });
  }
  const rename = { from: source.name, to: dest.name };
  const parent = posix.dirname(target.replace(/\/+$/, ''));
  await extractArchive(archive, root, parent, { toEntry: copyEntry(rename, true, onTop), path: target, side });
}

/** copyOut(path): a tar stream of it. */
export async function copyOut(context: ContainerContext, containerPath: string): Promise<Readable> {
  const from = checkContainerPath(containerPath, 'copyOut');
  const root = await containerRoot(context, 'copy out of it', false);
  return archiveOf(root, from, `copy out of ${context.id}:`);
}

/** copyOut(path, hostPath): extracted on the host, as docker cp writes it. */
export async function copyOutTo(context: ContainerContext, containerPath: string, hostPath: string): Promise<void> {
  if (typeof hostPath !== 'string' || hostPath === '' || hostPath.includes('\0')) throw new TypeError('copyOut: hostPath: expected a path');
  const from = checkContainerPath(containerPath, 'copyOut');
  const side = `copy out of ${context.id}:`;
  let into: 'directory' | 'other' | 'missing';
  try {
    into = fs.statSync(hostPath).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    into = 'missing';
  }
  const source = lastName(from);
  if (hostPath.endsWith('/') && into !== 'directory') {
    throw new ContainerCopyError(`${side}${from}: no such directory on the host to copy into: ${hostPath}`, hostPath, { code: 'ENOENT' });
  }
  // The root, or a directory's contents ("DIR/."), come without a top-level name: into a directory.
  if (source.contents || source.name === '') {
    if (into === 'other') throw new ContainerCopyError(`${side}${from}: cannot copy a directory onto the file ${hostPath}`, hostPath);
    if (into === 'missing') fs.mkdirSync(hostPath);
    into = 'directory';
  }
  const archive = await copyOut(context, from);
  const onTop = (entry: NativeLayerEntry) => {
    if (into === 'other' && entry.kind === LayerEntryKind.Directory) {
      throw new ContainerCopyError(`${side}${from}: cannot copy a directory onto the file ${hostPath}`, hostPath);
    }
  };
  if (into === 'directory') {
    return extractArchive(archive, {}, hostPath, { toEntry: copyEntry(undefined, false, onTop), path: hostPath, side });
  }
  const rename = { from: source.name, to: posix.basename(hostPath) };
  return extractArchive(archive, {}, posix.dirname(hostPath), {
    toEntry: copyEntry(rename, false, onTop),
    path: hostPath,
    side,
  });
}
