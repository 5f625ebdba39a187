/**
 * From tar headers to the entries the native applier writes: the place where a layer's
 * paths, links, types and attributes are judged. Whatever could reach outside the layer
 * directory, or cannot be represented in it, is refused with an ImageArchiveError naming the
 * entry: a layer is rejected, never sanitized and unpacked anyway.
 */
import { ImageArchiveError } from '../errors/errors';
import type { NativeLayerEntry } from '../../types/native';
import type { TarHeader } from './tar/tar-reader';

/** Numbered as native/addon/layer_applier.h numbers them. */
export enum LayerEntryKind {
  Directory = 0,
  File = 1,
  Data = 2,
  Symlink = 3,
  Hardlink = 4,
  CharDevice = 5,
  BlockDevice = 6,
  Fifo = 7,
  Whiteout = 8,
  Opaque = 9,
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * An archive path as a path inside the layer: "./a//b/" is "a/b", "." and "./" are "" (the
 * layer's root). An absolute path or a ".." component is refused.
 */
export function layerPath(raw: string, entry: string = raw, what = 'path'): string {
  // "/" (and "/." ...) as an entry of its own is the root directory, as GNU tar and Go's archive/tar write it.
  if (what === 'path' && raw.startsWith('/') && raw.split('/').every((part) => part === '' || part === '.')) return '';
  if (raw.startsWith('/')) throw new ImageArchiveError(entry, `an absolute ${what} ${raw} (entries must stay inside the layer)`);
  if (raw.includes('\0')) throw new ImageArchiveError(entry, `a NUL byte in the ${what}`);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new ImageArchiveError(entry, `a ".." component in the ${what} ${raw} (would leave the layer)`);
    parts.push(part);
  }
  return parts.join('/');
}

function checkXattrs(header: TarHeader, path: string): void {
  for (const [name] of header.xattrs) {
    // The overlay's own attributes (opaque, redirect, metacopy, origin) would steer the
    // mount: only the applier writes them, from whiteouts and opaque markers.
    if (/^(trusted|user)\.overlay\./.test(name)) {
      throw new ImageArchiveError(path, `extended attribute ${name} is overlayfs's own and cannot come from a layer`);
    }
  }
}

/**
 * The applier entry for a tar header, or null for one that has nothing to write (AUFS
 * metadata a few old layers carry). `data` is filled in later for regular files. With
 * `layer` false (a plain archive, not an image layer), whiteout names are ordinary names.
 */
export function entryFor(header: TarHeader, layer = true): NativeLayerEntry | null {
  const shown = header.path;
  const path = layerPath(header.path, shown);
  for (const key of header.unknownPaxKeys) {
    if (key.startsWith('GNU.sparse.')) throw new ImageArchiveError(shown, 'a sparse file (GNU sparse entries cannot be represented)');
  }
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const parent = slash < 0 ? '' : path.slice(0, slash);
  // Outside a layer (a copy into a container) a ".wh." name is a file like any other.
  if (layer && base.startsWith(WHITEOUT_PREFIX)) {
    if (base === OPAQUE_MARKER) return { kind: LayerEntryKind.Opaque, path: parent };
    // Other ".wh..wh." names are AUFS bookkeeping (hard link dirs), not files of the image.
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return null;
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw new ImageArchiveError(shown, 'a whiteout of no name');
    return { kind: LayerEntryKind.Whiteout, path: parent ? `${parent}/${hidden}` : hidden, uid: header.uid, gid: header.gid };
  }
  checkXattrs(header, shown);
  const common = {
    path,
    mode: header.mode & 0o7777,
    uid: header.uid,
    gid: header.gid,
    mtime: header.mtime,
    mtimeNsec: header.mtimeNsec,
    ...(header.xattrs.length > 0 ? { xattrs: header.xattrs } : {}),
  };
  let kind: LayerEntryKind;
  switch (header.type) {
    case '0':
    case '7':
      // Pre-POSIX archives mark a directory by its trailing slash alone.
      kind = header.path.endsWith('/') ? LayerEntryKind.Directory : LayerEntryKind.File;
      break;
    case '5':
      kind = LayerEntryKind.Directory;
      break;
    case '1':
      kind = LayerEntryKind.Hardlink;
      break;
    case '2':
      kind = LayerEntryKind.Symlink;
      break;
    case '3':
      kind = LayerEntryKind.CharDevice;
      break;
    case '4':
      kind = LayerEntryKind.BlockDevice;
      break;
    case '6':
      kind = LayerEntryKind.Fifo;
      break;
    default:
      throw new ImageArchiveError(shown, `entry type ${JSON.stringify(header.type)} cannot be represented in a layer`);
  }
  if (path === '' && kind !== LayerEntryKind.Directory) {
    throw new ImageArchiveError(shown, "the layer's root must be a directory");
  }
  switch (kind) {
    case LayerEntryKind.File:
      return { ...common, kind, size: header.size, data: [] };
    case LayerEntryKind.Hardlink: {
      if (header.linkPath === '') throw new ImageArchiveError(shown, 'a hard link without a target');
      const link = layerPath(header.linkPath, shown, 'hard link target');
      if (link === '') throw new ImageArchiveError(shown, "a hard link to the layer's root");
      return { kind, path, link };
    }
    case LayerEntryKind.Symlink:
      if (header.linkPath === '') throw new ImageArchiveError(shown, 'a symbolic link without a target');
      return { ...common, kind, link: header.linkPath };
    case LayerEntryKind.CharDevice:
    case LayerEntryKind.BlockDevice:
      return { ...common, kind, devMajor: header.devMajor, devMinor: header.devMinor };
    default:
      return { ...common, kind };
  }
}
