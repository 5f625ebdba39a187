/**
 * The rootfs as an overlay: which lower layers the helper stacks (an image's, or a rootfs
 * directory) and, unless the rootfs is read-only, the container's private writable layer on
 * top (writable-layer.ts), made in the create transaction. The helper mounts it
 * (native/helper/overlay_root.h).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerConfig } from '../options/validate';
import type { IdMapping } from '../options/types';
import type { PlanEntry } from '../protocol/generated/plan';
import { fail } from '../options/option-error';
import type { StateRecord } from '../state/container-directory';
import type { ContainerContext } from './context';
import type { UndoList } from './undo-list';
import { makeWritableLayer, removeWritableLayer, writableLayerPaths } from './writable-layer';
import { native } from '../native/binding';
import { stateStep } from '../state/state-io';

/** overlayfs stacks at most this many lower layers (native/helper/overlay_root.h). */
export const OVERLAY_MAX_LOWER_LAYERS = 500;

/** Tests: mount the overlay as on a kernel before 6.8 (one lowerdir string), to cover that path here. */
const SINGLE_STRING_ENV = 'TS_CONTAINER_TEST_OVERLAY_SINGLE_STRING';

export interface OverlayLayout {
  /** Top first. */
  lowerDirs: string[];
  /** Whether the container gets a writable layer (not for a read-only rootfs). */
  writable: boolean;
}

/** null: no overlay (the host's /, rootfsOverlay: false, or one layer read-only, bound as it is). */
export function overlayLayout(config: ContainerConfig): OverlayLayout | null {
  let lowerDirs: string[] = [];
  if (config.imageLayers.length > 0) lowerDirs = config.imageLayers;
  else if (config.rootfs !== null && config.rootfsOverlay) lowerDirs = [config.rootfs];
  const writable = !config.readonly;
  // Read-only over one layer there is nothing to merge (and overlayfs refuses it).
  if (lowerDirs.length === 0 || (!writable && lowerDirs.length === 1)) return null;
  return { lowerDirs, writable };
}

/** A stack past overlayfs's limit is refused before anything is made. */
export function checkLowerLayerCount(count: number): void {
  if (count > OVERLAY_MAX_LOWER_LAYERS) {
    fail('image', `has ${count} layers; overlayfs stacks at most ${OVERLAY_MAX_LOWER_LAYERS}`);
  }
}

/** The plan's rootfs entries: the host's /, a directory bound as it is, or an overlay. */
export function rootfsEntries(config: ContainerConfig): PlanEntry[] {
  const entries: PlanEntry[] = [];
  const overlay = overlayLayout(config);
  if (overlay) {
    checkLowerLayerCount(overlay.lowerDirs.length);
    for (const dir of overlay.lowerDirs) entries.push(['rootfs.lower', dir]);
    if (overlay.writable) {
      const layer = writableLayerPaths(config.dataRoot, config.id);
      entries.push(['rootfs.upper', layer.upper], ['rootfs.work', layer.work]);
    }
    if (process.env[SINGLE_STRING_ENV] === '1') entries.push(['test.overlay_single_string', true]);
  } else {
    const dir = config.imageLayers[0] ?? config.rootfs;
    if (dir === null) entries.push(['rootfs', '/'], ['rootfs.host', true]);
    else entries.push(['rootfs', dir]);
  }
  entries.push(['rootfs.readonly', config.readonly]);
  return entries;
}

/** The data root to record in the state directory: set when the container gets a writable layer. */
export function writableLayerRoot(config: ContainerConfig): string | undefined {
  return overlayLayout(config)?.writable ? config.dataRoot : undefined;
}

/**
 * Makes the container's writable layer, if it gets one, with its undo. `config` has its user
 * namespace ids filled in: container root owns the layer's root, as the host sees it.
 */
export function makeRootfsLayer(context: ContainerContext, config: ContainerConfig, undo: UndoList): void {
  const overlay = overlayLayout(config);
  if (!overlay?.writable) return;
  const record = context.record as StateRecord;
  let top: fs.Stats | undefined;
  try {
    top = fs.statSync(overlay.lowerDirs[0]);
  } catch {
    // The helper reports a missing or bad lower layer, naming it.
  }
  const maps = config.userns && config.userns !== 'block' ? config.userns : undefined;
  const root = maps ? hostIdsOfRoot(maps) : undefined;
  const stateRoot = config.lifecycle.stateRoot;
  // Removes only a layer that is this container's: not one of the same id that another holds.
  undo.push(() => removeWritableLayer(config.dataRoot, config.id, { stateRoot, created: record.created }));
  // As root the helper mounts the overlay itself, over idmapped layers (native/helper/idmapped_rootfs.h);
  // otherwise container root mounts it, and must reach the layer.
  if (root && process.geteuid?.() !== 0) checkReachableBy(root.uid, config.dataRoot);
  const paths = makeWritableLayer({
    dataRoot: config.dataRoot,
    record: {
      version: 1,
      id: config.id,
      stateRoot,
      created: record.created,
      lowerDirs: overlay.lowerDirs,
      ...(config.image ? { image: { id: config.image.id, digest: config.image.digest, reference: config.image.reference } } : {}),
    },
    owner: root ?? { uid: top?.uid ?? 0, gid: top?.gid ?? 0 },
    // The container's / keeps the owner its top layer gives it: in a user namespace, the host
    // id of that owner (the layers are idmapped, native/helper/idmapped_rootfs.h), or of
    // container root when the namespace does not map it.
    ...(maps ? { rootOwner: { uid: hostIdOf(maps.uidMap, top?.uid ?? 0) ?? root!.uid, gid: hostIdOf(maps.gidMap, top?.gid ?? 0) ?? root!.gid } } : {}),
    rootMode: top?.mode ?? 0o755,
  });
  // The container's / starts as the top layer's root: its xattrs and times too (overlayfs
  // shows the upper root's own), so a commit writes / only when the container changed it.
  if (top !== undefined) {
    const lower = overlay.lowerDirs[0] as string;
    stateStep('make the upper layer', paths.upper, () => native().inheritRootAttributes(lower, paths.upper));
  }
}

/**
 * In a user namespace mounted by container root (a helper that cannot idmap), the overlay is
 * mounted as another uid on the host: every directory down to the data root must let others
 * pass (the layer's own are made so).
 */
function checkReachableBy(uid: number, dataRoot: string): void {
  for (let dir = dataRoot; ; dir = path.dirname(dir)) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      // not made yet: made 0711
      if (dir === path.dirname(dir)) return;
      continue;
    }
    if ((stat.mode & 0o001) === 0 && stat.uid !== uid) {
      fail('dataRoot', `${dir} (mode ${(stat.mode & 0o777).toString(8)}) keeps the container's root (host uid ${uid}, in its user namespace) from its writable layer; let others search it (chmod o+x) or choose another data root`);
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** The host id that a user namespace's map gives container id `id`, if it maps it. */
function hostIdOf(map: IdMapping[], id: number): number | undefined {
  const range = map.find((m) => id >= m.containerId && id - m.containerId < m.size);
  return range === undefined ? undefined : range.hostId + (id - range.containerId);
}

/** Container root's host ids: the range that maps container id 0 starts at it. */
function hostIdsOfRoot(userns: { uidMap: IdMapping[]; gidMap: IdMapping[] }): { uid: number; gid: number } {
  const hostId = (map: IdMapping[]): number => map.find((m) => m.containerId === 0)?.hostId ?? 0;
  return { uid: hostId(userns.uidMap), gid: hostId(userns.gidMap) };
}
