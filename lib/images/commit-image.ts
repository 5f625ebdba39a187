/**
 * Commit's image side: a directory tree (a container's overlay upper layer, or a plain rootfs
 * directory) becomes a gzip layer blob; with its base image's layers (or, for a directory
 * rootfs, that directory as a first layer) it makes a new config and OCI manifest, stored
 * and listed as an image like any other. The tar is written by native code that resolves
 * every path inside the directory (layerDiff); its diff id and the blob's digest are
 * computed as the bytes pass. A failure leaves no blob, layer or index entry behind.
 */
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ImageArchiveError, ImageNotFoundError } from '../errors/errors';
import { native } from '../native/binding';
import { applyChanges, type CommitChanges } from './commit-changes';
import { DigestStream } from './digest';
import type { Image, ImageStore } from './image-store';
import { Lease } from './lease';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, layerCompression, ociLayerType } from './media-types';
import { serializeManifest, type ImageManifest, type ImageRuntimeConfig } from './manifest';
import type { IdMapping } from '../options/types';

export interface CommitSource {
  /** The container's writable layer (overlay upper directory). */
  upper: string;
  /** The overlay's lower layers, top first: an image's layer directories, or one rootfs directory. */
  lowerDirs: string[];
  /** The container's user namespace maps, when it has one: the upper layer's owners are host ids. */
  idMaps?: { uidMap: IdMapping[]; gidMap: IdMapping[] };
  /** Runs the reading of the upper layer (the container is frozen around it). */
  quiesce: <T>(read: () => Promise<T>) => Promise<T>;
}

export interface CommitImageOptions {
  /** The full, normalized reference of the new image. */
  reference: string;
  message?: string;
  author?: string;
  changes: CommitChanges;
  signal?: AbortSignal;
}

interface BaseLayer {
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
}

interface Base {
  layers: BaseLayer[];
  /** The base config's JSON, every field kept. */
  config: Record<string, unknown>;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The image whose top layer is the overlay's top lower layer. */
async function baseImage(store: ImageStore, topDir: string): Promise<Image> {
  for (const image of await store.list()) {
    const top = image.layers[image.layers.length - 1];
    if (top !== undefined && store.layers.dir(top.chainId) === topDir) return image;
  }
  throw new ImageNotFoundError(topDir, 'the image the container was made from is no longer in the store');
}

/** A layer blob (gzip) of the tree under `dir`, stored; its descriptor and diff id. */
interface LayerSource {
  dir: string;
  /** An overlay upper layer (whiteouts and opaque directories to translate), not a plain tree. */
  whiteouts: boolean;
  idMaps?: CommitSource['idMaps'];
  /** The root below the tree (the top lower layer's): the tree's own root is written only where it differs. */
  baseRoot?: string;
  quiesce: CommitSource['quiesce'];
}

async function writeLayer(store: ImageStore, source: LayerSource, lease: Lease, made: Set<string>, signal?: AbortSignal): Promise<BaseLayer> {
  const scratch = await store.content.scratchFile();
  try {
    await source.quiesce(() => native().layerDiff(source.dir, scratch.handle.fd, { whiteouts: source.whiteouts, ...source.idMaps, ...(source.baseRoot !== undefined ? { baseRoot: source.baseRoot } : {}) }));
    signal?.throwIfAborted();
    const tar = new DigestStream();
    const gzip = createGzip();
    const reading = pipeline(fs.createReadStream(scratch.path), tar, gzip, { signal });
    const [blob] = await Promise.all([store.content.ingest(gzip, { lease }, signal), reading]);
    made.add(blob.digest);
    return { digest: blob.digest, size: blob.size, mediaType: OCI_LAYER_GZIP, diffId: tar.digest };
  } finally {
    await scratch.release();
  }
}

async function readBase(store: ImageStore, source: CommitSource, lease: Lease, made: Set<string>, signal?: AbortSignal): Promise<Base> {
  const [top] = source.lowerDirs;
  if (top === undefined) return { layers: [], config: {} };
  if (source.lowerDirs.length === 1 && !top.startsWith(store.layers.root + '/')) {
    // A directory rootfs: the directory itself is the first layer (it is not an image).
    const layer = await writeLayer(store, { dir: top, whiteouts: false, quiesce: (read) => read() }, lease, made, signal);
    return { layers: [layer], config: { history: [{ created: new Date().toISOString(), created_by: `ts-container commit: rootfs ${top}` }] } };
  }
  const image = await baseImage(store, top);
  const config = (await store.content.readJson(image.id)) as Record<string, unknown>;
  return { layers: image.layers, config };
}

/** Makes the image; on any failure, what it stored and no image uses goes again. */
export async function commitImage(store: ImageStore, source: CommitSource, options: CommitImageOptions): Promise<Image> {
  await store.content.prepare();
  const lease = await Lease.take(store.content.root);
  const made = new Set<string>();
  try {
    const base = await readBase(store, source, lease, made, options.signal);
    const [baseRoot] = source.lowerDirs;
    const layer = await writeLayer(store, {
      dir: source.upper,
      whiteouts: true,
      quiesce: source.quiesce,
      ...(source.idMaps ? { idMaps: source.idMaps } : {}),
      ...(baseRoot !== undefined ? { baseRoot } : {}),
    }, lease, made, options.signal);
    const created = new Date().toISOString();
    const layers = [...base.layers, layer];
    const history = Array.isArray(base.config.history) ? [...(base.config.history as object[])] : [];
    history.push({
      created,
      created_by: 'ts-container commit',
      ...(options.author !== undefined ? { author: options.author } : {}),
      ...(options.message !== undefined ? { comment: options.message } : {}),
    });
    const { rootfs: _rootfs, history: _history, container: _container, container_config: _containerConfig, ...kept } = base.config;
    const config = {
      ...kept,
      created,
      ...(options.author !== undefined ? { author: options.author } : {}),
      architecture: typeof kept.architecture === 'string' ? kept.architecture : (GO_ARCH[process.arch] ?? process.arch),
      os: typeof kept.os === 'string' ? kept.os : 'linux',
      config: applyChanges((kept.config ?? {}) as ImageRuntimeConfig, options.changes),
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configBlob = await store.content.ingestBytes(configBytes, { lease }, options.signal);
    made.add(configBlob.digest);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configBlob.digest, size: configBlob.size },
      layers: layers.map((l) => {
        // The same bytes under the OCI name of their type: an OCI manifest names no Docker types.
        const compression = layerCompression(l.mediaType);
        return { mediaType: compression === undefined ? l.mediaType : ociLayerType(compression), digest: l.digest, size: l.size };
      }),
    };
    const manifestBytes = serializeManifest(manifest);
    const manifestBlob = await store.content.ingestBytes(manifestBytes, { lease }, options.signal);
    made.add(manifestBlob.digest);
    const [image] = await store.addImages([{ digest: manifestBlob.digest, mediaType: OCI_MANIFEST, size: manifestBlob.size, references: [options.reference] }], options.signal, lease);
    if (image === undefined) throw new ImageArchiveError(manifestBlob.digest, 'the committed image was not listed');
    return image;
  } catch (error) {
    await removeUnused(store, made).catch(() => undefined);
    throw error;
  } finally {
    await lease.release();
  }
}

/** Removes the blobs (and the layer unpacked from them) a failed commit stored, unless an image names them. */
async function removeUnused(store: ImageStore, made: Set<string>): Promise<void> {
  const images = await store.list();
  const needed = new Set(images.flatMap((i) => [i.id, i.digest, ...i.layers.map((l) => l.digest)]));
  const neededLayers = new Set(images.flatMap((i) => i.layers.map((l) => l.chainId)));
  for (const layer of await store.layers.list()) {
    if (layer.digest !== undefined && made.has(layer.digest) && !neededLayers.has(layer.chainId)) await store.layers.remove(layer.chainId);
  }
  for (const digest of made) if (!needed.has(digest)) await store.content.remove(digest);
}
