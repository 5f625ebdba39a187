/**
 * Container.commit: the container's writable layer as a new image on top of what it was made
 * from (its image, or its rootfs directory packed as a first layer). The container is frozen
 * while its upper layer is read, so the layer is one moment of it, unless `pause: false`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerStateError } from '../errors/errors';
import { validateChanges, type CommitChanges } from '../images/commit-changes';
import { commitImage } from '../images/commit-image';
import { ImageStore, type Image } from '../images/image-store';
import { normalizeReference } from '../images/reference';
import type { IdMapping } from '../options/types';
import type { ContainerConfig } from '../options/validate';
import { ID_BLOCK_SIZE } from '../userns/id-blocks';
import type { ContainerContext } from './context';
import { state } from './inspect';
import { pause, resume } from './resources';
import { writableLayerRoot } from './rootfs-overlay';
import { writableLayerPaths } from './writable-layer';

export interface CommitOptions {
  /** The history entry's comment. */
  message?: string;
  author?: string;
  /** What the new image's config sets over the base's. */
  changes?: CommitChanges;
  /** Freeze the container while its layer is read (default true). */
  pause?: boolean;
  signal?: AbortSignal;
}

function checkOptions(options: unknown): CommitOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError('commit: options: expected an object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['message', 'author', 'changes', 'pause', 'signal'].includes(key)) throw new TypeError(`commit: options.${key}: unknown option`);
  }
  for (const key of ['message', 'author'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') throw new TypeError(`commit: ${key}: expected a string`);
  }
  if (o.pause !== undefined && typeof o.pause !== 'boolean') throw new TypeError('commit: pause: expected a boolean');
  return o as CommitOptions;
}

/**
 * The maps that turn the upper layer's host owners back into the container's ids. A block of
 * ts-container's ids starts at the host id of container root, which owns the work directory
 * (the upper layer's root has the owner of the image's /).
 */
function userNamespaceMaps(userns: ContainerConfig['userns'], work: string): { uidMap: IdMapping[]; gidMap: IdMapping[] } | undefined {
  if (userns === null) return undefined;
  if (userns !== 'block') return userns;
  const root = fs.statSync(work);
  return { uidMap: [{ containerId: 0, hostId: root.uid, size: ID_BLOCK_SIZE }], gidMap: [{ containerId: 0, hostId: root.gid, size: ID_BLOCK_SIZE }] };
}

/**
 * The data root of the store an image's layers come from (<root>/images/layers/<hex>/diff): the
 * container's image store may be another than its data root (option imageStore). A directory
 * rootfs commits into the container's data root.
 */
function storeRootOf(topLower: string, dataRoot: string): string {
  const diff = path.resolve(topLower);
  const layers = path.dirname(path.dirname(diff));
  if (path.basename(diff) === 'diff' && path.basename(layers) === 'layers' && path.basename(path.dirname(layers)) === 'images') {
    return path.dirname(path.dirname(layers));
  }
  return dataRoot;
}

export async function commit(context: ContainerContext, reference: string, options?: CommitOptions): Promise<Image> {
  const given = checkOptions(options);
  if (typeof reference !== 'string' || reference === '') throw new TypeError('commit: expected the reference of the new image (NAME[:TAG])');
  const target = normalizeReference(reference, 'commit');
  const changes = validateChanges(given.changes);
  const config = context.config;
  if (writableLayerRoot(config) === undefined) {
    throw new ContainerStateError(`container ${config.id}: nothing to commit: it has no writable layer (the host's /, rootfsOverlay: false or readonly)`);
  }
  const { upper, work } = writableLayerPaths(config.dataRoot, config.id);
  if (!fs.existsSync(upper)) throw new ContainerStateError(`container ${config.id}: nothing to commit: its writable layer is gone (destroyed?)`);
  const lowerDirs = config.imageLayers.length > 0 ? config.imageLayers : [config.rootfs as string];
  const quiesce = async <T>(read: () => Promise<T>): Promise<T> => {
    if (given.pause === false || (await state(context)).status !== 'running') return read();
    await pause(context);
    try {
      return await read();
    } finally {
      await resume(context);
    }
  };
  const idMaps = userNamespaceMaps(config.userns, work);
  return commitImage(new ImageStore({ root: storeRootOf(lowerDirs[0] as string, config.dataRoot) }), { upper, lowerDirs, quiesce, ...(idMaps ? { idMaps } : {}) }, {
    reference: target,
    changes,
    ...(given.message !== undefined ? { message: given.message } : {}),
    ...(given.author !== undefined ? { author: given.author } : {}),
    ...(given.signal !== undefined ? { signal: given.signal } : {}),
  });
}
