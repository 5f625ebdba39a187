/**
 * Pull: an image from a registry into the content store (every blob verified by the store's
 * ingest before it is visible), then its layers into the layer store, one directory per chain
 * id. The manifest is ingested last, so a manifest in the store always has its blobs there.
 * Layers download three at a time; each is unpacked as it arrives (layer-tee.ts), all at once,
 * and made visible once its blob is stored and the layer below is in.
 */
import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { RegistryError } from '../errors/errors';
import { chainIds } from './layer-store';
import { LayerTee, TeeBudget } from './layer-tee';
import { RegistryClient, type RegistryClientOptions } from './registry/client';
import type { RegistryCredentials } from './registry/credentials';
import { parseImageConfig, parseManifestOrIndex, type Descriptor, type ImageConfig, type ImageManifest } from './manifest';
import { asRegistryDocument } from './registry/document-errors';
import { choosePlatformManifest, formatPlatform, hostPlatform, parsePlatform, type Platform } from './registry/platform';

/** What a pull needs of the content store (ContentStore has it). */
export interface PullContentStore {
  has(digest: string): boolean | Promise<boolean>;
  /**
   * Stores the bytes under `digest` once they hash to it and count `size`; rejects otherwise.
   * `source` opens the download at a byte offset, and is called only when this process is the
   * one to write the blob (never while another process downloads it).
   */
  ingest(source: (offset: number) => Readable, expected: { digest: string; size: number }, signal?: AbortSignal): Promise<unknown>;
  open(digest: string): Readable;
}

/** What a pull needs of the layer store (LayerStore has it). */
export interface PullLayerStore {
  /** Unpacks the layer once under `chainId` on top of `parentChainId`. */
  ensure(
    chainId: string,
    parentChainId: string | null,
    openBlob: () => Readable,
    layer: {
      mediaType: string;
      diffId: string;
      digest: string;
      size: number;
      blobVerified?: boolean;
      commitAfter?: Promise<unknown>;
      parentReady?: Promise<unknown>;
      maxLayerBytes?: number;
      signal?: AbortSignal;
    },
  ): Promise<unknown>;
}

/** A registry reference, already parsed and normalized (docker.io/library/alpine:3.20). */
export interface RegistryReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export interface PullProgress {
  /** The layer's digest. */
  layer: string;
  phase: 'download' | 'verify' | 'unpack' | 'done';
  bytes: number;
  total: number;
}

export interface PullOptions extends RegistryClientOptions {
  onProgress?: (event: PullProgress) => void;
  signal?: AbortSignal;
  /** "os/arch[/variant]"; default this machine's. */
  platform?: string;
  /** Credentials; default from $REGISTRY_AUTH_FILE or the docker/podman auth files. */
  auth?: RegistryCredentials;
  /** Where layers are unpacked; absent: the blobs only. */
  layers?: PullLayerStore;
  /** Layers downloading at once (default 3, as docker). */
  concurrency?: number;
  /** Passed to the layer store: the most bytes one layer may unpack to. */
  maxLayerBytes?: number;
}

export interface PullResult {
  /** The manifest digest of the platform image. */
  digest: string;
  /** The manifest's size in bytes. */
  size: number;
  /** The manifest's media type (OCI or Docker v2 schema 2). */
  mediaType: string;
  /** The digest of the index or manifest list the reference named, when it named one. */
  indexDigest?: string;
  manifest: ImageManifest;
  /** The config digest: the image id. */
  id: string;
  config: ImageConfig;
  /** The diff ids (uncompressed layer digests), bottom first. */
  diffIds: string[];
  /** Chain ids, bottom first: the layer store's keys. */
  chainIds: string[];
}

/** The parts of the image config file a pull reads (the rest is kept in the store as is). */
function describe(ref: RegistryReference): string {
  return `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`}`;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function pull(content: PullContentStore, ref: RegistryReference, options: PullOptions = {}): Promise<PullResult> {
  const { onProgress, platform } = options;
  options.signal?.throwIfAborted();
  const wanted: Platform = platform ? parsePlatform(platform) : hostPlatform();
  const client = new RegistryClient(ref.registry, { ...options, credentials: options.auth ?? options.credentials });
  const where = describe(ref);
  // One failure stops the other downloads: nothing keeps running after pull settles.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  // Each layer's download and unpack listen on it, all at once: no cap on listeners.
  setMaxListeners(0, signal);

  let top = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest', signal);
  let parsed = asRegistryDocument(() => parseManifestOrIndex(top.bytes, where, top.mediaType));
  let indexDigest: string | undefined;
  if (parsed.kind === 'index') {
    indexDigest = top.digest;
    const chosen = choosePlatformManifest(parsed.index.manifests, wanted, where);
    top = await client.getManifest(ref.repository, chosen.digest, signal);
    const platformWhere = `${where}@${chosen.digest}`;
    parsed = asRegistryDocument(() => parseManifestOrIndex(top.bytes, platformWhere, top.mediaType));
    if (parsed.kind !== 'manifest') throw new RegistryError(`${platformWhere}: the index names another index for ${formatPlatform(wanted)}, not an image manifest`, 200);
  }
  const manifest = parsed.manifest;

  /** Stores a blob; `transferred` is called once its download has all its bytes (before the store syncs and checks them). */
  const fetchBlob = async (blob: Descriptor, progress: boolean, tee?: LayerTee, transferred?: () => void): Promise<void> => {
    if (await content.has(blob.digest)) {
      if (progress) onProgress?.({ layer: blob.digest, phase: 'verify', bytes: blob.size, total: blob.size });
      return;
    }
    let bytes = 0;
    const report = (n: number) => {
      bytes += n;
      if (progress) onProgress?.({ layer: blob.digest, phase: 'download', bytes, total: blob.size });
    };
    const open = (offset: number) => {
      bytes = offset;
      const source = client.openBlob(ref.repository, blob.digest, blob.size, { signal, onBytes: report, offset });
      source.once('end', () => {
        if (progress) onProgress?.({ layer: blob.digest, phase: 'verify', bytes, total: blob.size });
        transferred?.();
      });
      return tee ? tee.tap(source, offset) : source;
    };
    await content.ingest(open, { digest: blob.digest, size: blob.size }, signal);
    // Stored by another process meanwhile: nothing was downloaded here.
    if (progress && bytes === 0) onProgress?.({ layer: blob.digest, phase: 'verify', bytes: blob.size, total: blob.size });
  };

  try {
    await fetchBlob(manifest.config, false);
    const configBytes = await collect(content.open(manifest.config.digest));
    const config = asRegistryDocument(() => parseImageConfig(configBytes, `${where}: the image config ${manifest.config.digest}`));
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new RegistryError(`${where}: the config's rootfs.diff_ids do not match the manifest's ${manifest.layers.length} layers`, 200);
    }
    const chains = chainIds(diffIds);

    // Downloads, a few at a time, in layer order; each handed to its unpack as it arrives. A
    // download gives its turn to the next once its bytes are in (the store's sync and check
    // of them need no connection).
    const budget = new TeeBudget();
    const tees = manifest.layers.map((layer) => (options.layers ? new LayerTee(() => content.open(layer.digest), budget) : undefined));
    const downloads: Promise<void>[] = [];
    const limit = Math.max(1, options.concurrency ?? 3);
    let running = 0;
    const waiting: (() => void)[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      downloads.push(
        (async () => {
          if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
          running++;
          let turnGiven = false;
          const giveTurn = () => {
            if (turnGiven) return;
            turnGiven = true;
            running--;
            waiting.shift()?.();
          };
          try {
            await fetchBlob(layer, true, tees[i], giveTurn);
          } finally {
            giveTurn();
          }
        })(),
      );
    }
    // A rejection is handled by the loop below or by allSettled; never unhandled meanwhile.
    for (const d of downloads) d.catch(() => {});
    for (const [i, tee] of tees.entries()) tee?.storedBy(downloads[i]);

    // Every layer unpacks as its bytes arrive, each into its own directory; a layer waits for
    // the one below only to give the directories its archive leaves out their attributes
    // (parentReady), and becomes visible after it.
    const unpacks: Promise<unknown>[] = [];
    if (options.layers) {
      const layers = options.layers;
      for (const [i, layer] of manifest.layers.entries()) {
        const tee = tees[i] as LayerTee;
        const unpacked = layers
          .ensure(chains[i], i === 0 ? null : chains[i - 1], () => tee.open(), {
            mediaType: layer.mediaType,
            diffId: diffIds[i],
            digest: layer.digest,
            size: layer.size,
            // Made visible once the content store has checked and stored the blob.
            blobVerified: true,
            commitAfter: downloads[i],
            parentReady: i === 0 ? undefined : unpacks[i - 1],
            maxLayerBytes: options.maxLayerBytes,
            signal,
          })
          .finally(() => tee.release());
        // Seen by the loop below or by allSettled; never unhandled meanwhile.
        unpacked.catch(() => {});
        unpacks.push(unpacked);
      }
    }
    try {
      for (const [i, layer] of manifest.layers.entries()) {
        if (options.layers) {
          // Progress says "unpack" once the download is done, whenever the unpack began.
          const downloaded = downloads[i].then(() => onProgress?.({ layer: layer.digest, phase: 'unpack', bytes: layer.size, total: layer.size }));
          await Promise.all([downloaded, unpacks[i]]);
        } else {
          await downloads[i];
        }
        onProgress?.({ layer: layer.digest, phase: 'done', bytes: layer.size, total: layer.size });
      }
    } catch (error) {
      stop.abort(error);
      await Promise.allSettled([...downloads, ...unpacks]);
      throw error;
    }

    // Last: the manifest, which makes the image whole in the store.
    if (!(await content.has(top.digest))) {
      await content.ingest((offset) => Readable.from([top.bytes.subarray(offset)]), { digest: top.digest, size: top.bytes.length }, signal);
    }
    return { digest: top.digest, size: top.bytes.length, mediaType: top.mediaType, indexDigest, manifest, id: manifest.config.digest, config, diffIds, chainIds: chains };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}
