/**
 * ImageStore: the images of a data root, as the public API shows them. The bytes live in the
 * content store (blobs by digest), each layer unpacked once in the layer store (by chain id);
 * images/index.json names which manifests are images and by which references. Imports verify
 * every blob and unpack every layer before the image becomes visible; remove and prune take
 * away what no image (and no container) needs any more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ImageArchiveError, ImageInUseError, ImageNotFoundError } from '../errors/errors';
import { DirectorySource, TarSource, type ArchiveSource } from './archive/archive-source';
import { writeDockerArchive, writeOciArchive, type ExportedImage } from './archive/archive-writers';
import { isDirLayout, readDirLayout } from './archive/dir-layout';
import { readDockerArchive } from './archive/docker-archive';
import type { ImportedManifest } from './archive/imported-image';
import { readOciLayout } from './archive/oci-layout';
import { ContentStore } from './content-store';
import { containerUses } from './container-records';
import { resolveDataRoot } from './data-root';
import { isDigest } from './digest';
import { ImageIndexFile, type ImageRecord } from './image-index';
import { LayerStore, chainIds } from './layer-store';
import { Lease, leasedIds } from './lease';
import { loadRegistriesConfig, validateRegistriesOption, type RegistriesConfig, type RegistriesOption } from './registries-config';
import { parseImageConfig, parseManifest, parsePlatform, type ImageConfig, type ImageManifest, type ImageRuntimeConfig } from './manifest';
import { decompressor, sniffCompression } from './tar/decompress';
import { DEFAULT_TAG, normalizeReference, parseReference, repositoryName, type Reference } from './reference';
import { fileSink } from './file-sink';
import { pullCandidates, pullFirstFound, pushToRegistry, type ImagePullOptions, type ImagePushOptions } from './store-registry';

export interface ImageStoreOptions {
  /** The data root (the same as the option `dataRoot` of a Container). */
  root?: string;
  /** Another name for `root`. */
  dataRoot?: string;
  /** The most bytes one layer may unpack to (a decompression bomb stops there); default 8 GiB. */
  maxLayerBytes?: number;
  /** Search and insecure registries; default: <root>/registries.json, else none. */
  registries?: RegistriesOption;
}

export interface ImageLayer {
  /** The blob's digest, as the manifest names it. */
  digest: string;
  size: number;
  mediaType: string;
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids). */
  diffId: string;
  /** The layer with every layer below it (OCI chain id): its name in the layer store. */
  chainId: string;
}

export interface Image {
  /** The config's digest, as docker's image id. */
  id: string;
  /** The manifest's digest. */
  digest: string;
  /** Full references ("localhost/app:1", "docker.io/library/alpine:3.20"). */
  references: string[];
  /** The defaults a container takes from the image. */
  config: ImageRuntimeConfig;
  os: string;
  architecture: string;
  variant?: string;
  /** When the image was built, as its config says. */
  created?: string;
  /** When it came into this store. */
  added: string;
  /** The manifest's media type (OCI or Docker v2 schema 2). */
  mediaType: string;
  /** Bytes of its config and layer blobs. */
  size: number;
  layers: ImageLayer[];
}

export type ArchiveFormat = 'oci-archive' | 'docker-archive';

export interface ImportOptions {
  /** The platform to take from a multi-platform index: "os/arch[/variant]", default this machine's. */
  platform?: string;
  signal?: AbortSignal;
}

export interface ExportOptions {
  /** Default 'docker-archive', as `podman save` and `docker save`. */
  format?: ArchiveFormat;
  signal?: AbortSignal;
}

export interface RemoveOptions {
  /** Remove the image's references even while containers use it; their layers stay until the last one goes. */
  force?: boolean;
}

export interface RemoveResult {
  /** The references taken off. */
  untagged: string[];
  /** The ids of images deleted. */
  deleted: string[];
}

export interface PruneResult {
  /** The digests of the blobs deleted. */
  deleted: string[];
  reclaimedBytes: number;
}

/** A commit found a blob gone (a concurrent prune took it): the import starts over. */
class BlobVanished extends Error {}
const IMPORT_ATTEMPTS = 3;

interface Loaded {
  record: ImageRecord;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** A query that may be an image id: its start (3 hex digits at least) or the whole of it. */
const ID_PREFIX = /^[a-f0-9]{3,64}$/;

/** Whether a query may name an image by id (a digest, or hex that may start one): only then are ids read. */
function mayNameAnId(query: string): boolean {
  return typeof query === 'string' && (isDigest(query) || ID_PREFIX.test(query));
}

function toImage({ record, manifest, config }: Loaded): Image {
  const chains = chainIds(config.rootfs.diff_ids);
  const image: Image = {
    id: manifest.config.digest,
    digest: record.digest,
    references: [...record.references],
    config: config.config ?? {},
    os: config.os,
    architecture: config.architecture,
    added: record.added,
    mediaType: record.mediaType,
    size: manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0),
    layers: manifest.layers.map((l, i) => ({
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      diffId: config.rootfs.diff_ids[i] as string,
      chainId: chains[i] as string,
    })),
  };
  if (config.variant !== undefined) image.variant = config.variant;
  if (config.created !== undefined) image.created = config.created;
  return image;
}

/** The blobs an image is made of: manifest, config, layers. */
function blobsOf(loaded: Loaded): string[] {
  return [loaded.record.digest, loaded.manifest.config.digest, ...loaded.manifest.layers.map((l) => l.digest)];
}

/** The unpacked layers an image stands on: the chain id of each of its layers. */
function layersOf(loaded: Loaded): string[] {
  return chainIds(loaded.config.rootfs.diff_ids);
}

/** What remove and prune take: blobs (by digest) and unpacked layers (by chain id). */
interface Garbage {
  blobs: string[];
  layers: string[];
}

export class ImageStore {
  /** The data root this store lives in. */
  readonly dataRoot: string;
  /**
   * The blobs; pull, push and commit write and read through it.
   * @internal Left out of the package's types (tsup.config.ts: stripInternal).
   */
  readonly content: ContentStore;
  /**
   * The unpacked layers, one directory per chain id: a container's overlay lower layers.
   * @internal
   */
  readonly layers: LayerStore;
  readonly #index: ImageIndexFile;
  readonly #maxLayerBytes: number | undefined;
  readonly #registries: RegistriesOption;

  constructor(options: ImageStoreOptions | string = {}) {
    const given = typeof options === 'string' ? options : (options.root ?? options.dataRoot);
    this.dataRoot = resolveDataRoot(given, typeof options === 'string' || options.root !== undefined ? 'root' : 'dataRoot');
    this.content = new ContentStore(this.dataRoot);
    this.layers = new LayerStore(this.dataRoot);
    this.#index = new ImageIndexFile(this.content.root);
    const max = typeof options === 'string' ? undefined : options.maxLayerBytes;
    if (max !== undefined && (!Number.isSafeInteger(max) || max <= 0)) throw new TypeError(`maxLayerBytes: expected a positive number of bytes, got ${JSON.stringify(max)}`);
    this.#maxLayerBytes = max;
    this.#registries = validateRegistriesOption(typeof options === 'string' ? undefined : options.registries);
  }

  /** The search registries (for a short name) and the insecure ones, as a pull uses them. */
  registries(): Promise<RegistriesConfig> {
    return loadRegistriesConfig(this.dataRoot, this.#registries);
  }

  /**
   * The layer directories of an image, top first: the lower layers of an overlay rootfs.
   * Every one is unpacked (an image is listed only once they all are).
   */
  async layerDirs(reference: string): Promise<string[]> {
    const image = await this.inspect(reference);
    const top = image.layers[image.layers.length - 1];
    return top === undefined ? [] : this.layers.stackBelow(top.chainId);
  }

  /**
   * Unpacks each layer of a stored manifest that is not unpacked yet, bottom first. A prune
   * running meanwhile may take a blob or layer this import stored and has not yet listed: then
   * BlobVanished, and the import starts over.
   */
  async #unpack(imported: ImportedManifest, signal?: AbortSignal, lease?: Lease): Promise<void> {
    const unpacked: string[] = [];
    let blobs: string[] = [imported.digest];
    try {
      const manifest = parseManifest(await this.content.readBytes(imported.digest), imported.digest, imported.mediaType);
      blobs = [imported.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      const config = parseImageConfig(await this.content.readBytes(manifest.config.digest), manifest.config.digest);
      const chains = chainIds(config.rootfs.diff_ids);
      for (const [i, layer] of manifest.layers.entries()) {
        signal?.throwIfAborted();
        await lease?.add(chains[i] as string);
        await this.layers.ensure(chains[i] as string, i === 0 ? null : (chains[i - 1] as string), () => this.content.open(layer.digest), {
          mediaType: layer.mediaType,
          diffId: config.rootfs.diff_ids[i] as string,
          digest: layer.digest,
          size: layer.size,
          // The content store checked the blob's digest when it stored it: not hashed again.
          blobVerified: true,
          ...(this.#maxLayerBytes !== undefined ? { maxLayerBytes: this.#maxLayerBytes } : {}),
          ...(signal ? { signal } : {}),
        });
        unpacked.push(chains[i] as string);
      }
    } catch (error) {
      for (const digest of blobs) if (!(await this.content.has(digest))) throw new BlobVanished(digest, { cause: error });
      for (const chainId of unpacked) if (!(await this.layers.has(chainId))) throw new BlobVanished(chainId, { cause: error });
      throw error;
    }
  }

  async #load(record: ImageRecord): Promise<Loaded> {
    const manifest = parseManifest(await this.content.readBytes(record.digest), record.digest, record.mediaType);
    const config = parseImageConfig(await this.content.readBytes(manifest.config.digest), manifest.config.digest);
    return { record, manifest, config };
  }

  /** Every image, in the order they were added. */
  async list(): Promise<Image[]> {
    const records = await this.#index.read();
    return Promise.all(records.map(async (r) => toImage(await this.#load(r))));
  }

  /** The image a reference, id or digest names; ImageNotFoundError when none does. */
  async inspect(reference: string): Promise<Image> {
    const records = await this.#index.read();
    return toImage(await this.#load((await this.#find(records, reference)).record));
  }

  /**
   * Finds one image: by id or manifest digest (full, or an id prefix of hex digits), by full
   * reference, or by a short name whose repository path ends in /NAME (several images
   * answering to one short name is an error, never a guess).
   */
  #resolve(records: ImageRecord[], query: string): { record: ImageRecord; byName?: string } {
    if (typeof query !== 'string' || query === '') throw new TypeError(`image: expected a reference, id or digest, got ${JSON.stringify(query)}`);
    if (isDigest(query)) {
      const found = records.find((r) => r.digest === query) ?? this.#byConfigDigest(records, query);
      if (found) return { record: found };
      throw new ImageNotFoundError(query);
    }
    let ref: Reference | undefined;
    try {
      ref = parseReference(query, 'image');
    } catch (error) {
      if (!/^[a-f0-9]+$/.test(query)) throw error;
    }
    if (ref !== undefined) {
      const matches = this.#byName(records, ref);
      if (matches.length === 1) return matches[0] as { record: ImageRecord; byName: string };
      if (matches.length > 1) {
        const names = matches.map((m) => m.byName).join(', ');
        throw new ImageNotFoundError(query, `ambiguous: it names ${names}; use a full reference`);
      }
    }
    if (ID_PREFIX.test(query)) {
      const byId = this.#byIdPrefix(records, query);
      if (byId.length === 1) return { record: byId[0] as ImageRecord };
      if (byId.length > 1) throw new ImageNotFoundError(query, `ambiguous: the prefix of ${byId.length} image ids`);
    }
    throw new ImageNotFoundError(query);
  }

  /** Images by name: a full reference by its repository, an unqualified one by its path's end; then tag or digest. */
  #byName(records: ImageRecord[], ref: Reference): { record: ImageRecord; byName: string }[] {
    const repository = ref.domain === undefined ? undefined : repositoryName(parseReference(normalizeReference(repositoryName(ref))));
    const out: { record: ImageRecord; byName: string }[] = [];
    for (const record of records) {
      if (ref.digest !== undefined && record.digest !== ref.digest) continue;
      const name = record.references.find((stored) => {
        const s = parseReference(stored);
        const sameName = repository !== undefined ? repositoryName(s) === repository : s.path === ref.path || s.path.endsWith(`/${ref.path}`);
        if (!sameName) return false;
        if (ref.tag !== undefined) return s.tag === ref.tag;
        return ref.digest !== undefined || s.tag === DEFAULT_TAG;
      });
      if (name !== undefined) out.push({ record, byName: name });
    }
    return out;
  }

  /** Manifest digest -> config digest (the image id), read when a query may name an id. */
  #configDigests = new Map<string, string>();

  /** The config digest (image id) of a record, read once per manifest. */
  #configDigestOf(record: ImageRecord): string | undefined {
    return this.#configDigests.get(record.digest);
  }

  #byConfigDigest(records: ImageRecord[], digest: string): ImageRecord | undefined {
    return records.find((r) => this.#configDigestOf(r) === digest);
  }

  #byIdPrefix(records: ImageRecord[], prefix: string): ImageRecord[] {
    return records.filter((r) => (this.#configDigestOf(r) ?? '').startsWith(`sha256:${prefix}`));
  }

  /** Reads the config digests of every record (ids), so that lookups by id work. */
  async #readIds(records: ImageRecord[]): Promise<ImageRecord[]> {
    for (const record of records) {
      if (this.#configDigests.has(record.digest)) continue;
      try {
        const manifest = parseManifest(await this.content.readBytes(record.digest), record.digest, record.mediaType);
        this.#configDigests.set(record.digest, manifest.config.digest);
      } catch {
        // A record whose manifest cannot be read answers to its digest and names only.
      }
    }
    return records;
  }

  /**
   * The image a container is made from, and its layer directories (top first), read without
   * waiting: a Container's constructor resolves its image. ImageNotFoundError when missing.
   * Every layer of a listed image is unpacked (an image is listed only once they all are).
   */
  resolveSync(reference: string): { image: Image; reference: string | undefined; layerDirs: string[] } {
    const records = this.#index.readSync();
    // A name needs no ids: a container's start reads only its own image's manifest.
    if (mayNameAnId(reference)) for (const record of records) {
      if (this.#configDigests.has(record.digest)) continue;
      try {
        this.#configDigests.set(record.digest, parseManifest(this.content.readBytesSync(record.digest), record.digest, record.mediaType).config.digest);
      } catch {
        // A record whose manifest cannot be read answers to its digest and names only.
      }
    }
    const { record, byName } = this.#resolve(records, reference);
    const manifest = parseManifest(this.content.readBytesSync(record.digest), record.digest, record.mediaType);
    const config = parseImageConfig(this.content.readBytesSync(manifest.config.digest), manifest.config.digest);
    const image = toImage({ record, manifest, config });
    const layerDirs = image.layers.map((l) => this.layers.dir(l.chainId)).reverse();
    return { image, reference: byName ?? record.references[0], layerDirs };
  }

  async #find(records: ImageRecord[], query: string): Promise<{ record: ImageRecord; byName?: string }> {
    return this.#resolve(mayNameAnId(query) ? await this.#readIds(records) : records, query);
  }

  /**
   * Gives the image `source` names the reference `target` too (an unqualified one becomes
   * localhost/NAME:TAG); a reference held by another image moves to this one, as docker's tag.
   */
  async tag(source: string, target: string): Promise<Image> {
    const reference = normalizeReference(target, 'tag');
    // A missing source is found missing before anything is made.
    await this.#find(await this.#index.read(), source);
    await this.content.prepare();
    const record = await this.#index.update(async (records) => {
      const found = (await this.#find(records, source)).record;
      for (const other of records) other.references = other.references.filter((r) => r !== reference);
      found.references.push(reference);
      return { images: records, result: found };
    });
    return toImage(await this.#load(record));
  }

  /**
   * Takes a reference off its image, and deletes the image when it was the last one (or when
   * it is named by id or digest). An image that a container uses is not deleted
   * (ImageInUseError) unless `force`: then its references go and the layers in use stay.
   */
  async remove(reference: string, options: RemoveOptions = {}): Promise<RemoveResult> {
    await this.#find(await this.#index.read(), reference);
    const uses = await containerUses(this.dataRoot);
    return this.#index.update(async (records) => {
      const { record, byName } = await this.#find(records, reference);
      if (byName !== undefined && record.references.length > 1) {
        record.references = record.references.filter((r) => r !== byName);
        return { images: records, result: { untagged: [byName], deleted: [] } };
      }
      const loaded = await this.#load(record);
      const chains = layersOf(loaded);
      const top = chains[chains.length - 1];
      const topDir = top === undefined ? undefined : this.layers.dir(top);
      const users = uses
        .filter((u) => u.image === record.digest || u.image === loaded.manifest.config.digest || (topDir !== undefined && u.lowerDirs.includes(topDir)))
        .map((u) => u.id);
      if (users.length > 0 && !options.force) throw new ImageInUseError(reference, users);
      const remaining = records.filter((r) => r !== record);
      await this.#collect(remaining, { blobs: blobsOf(loaded), layers: chains });
      return { images: remaining, result: { untagged: [...record.references], deleted: [loaded.manifest.config.digest] } };
    });
  }

  /**
   * Deletes every blob and unpacked layer that no image needs (a layer a container uses stays),
   * and what dead writers left. `deleted` lists blob digests and layer chain ids.
   */
  async prune(): Promise<PruneResult> {
    if (!fs.existsSync(this.content.root)) return { deleted: [], reclaimedBytes: 0 };
    await this.content.prepare();
    return this.#index.update(async (records) => {
      const layers = (await this.layers.list()).map((l) => l.chainId);
      const result = await this.#collect(records, { blobs: await this.content.list(), layers });
      return { images: records, result };
    });
  }

  /**
   * Deletes those of `candidates` that no image of `remaining` uses, and no container (its
   * record's lower directories). Runs under the index's lock: an import that stored a blob or
   * unpacked a layer meanwhile finds it gone when it commits, and does it again.
   */
  async #collect(remaining: ImageRecord[], candidates: Garbage): Promise<PruneResult> {
    const needed = new Set<string>();
    for (const record of remaining) {
      needed.add(record.digest);
      try {
        const loaded = await this.#load(record);
        for (const digest of [...blobsOf(loaded), ...layersOf(loaded)]) needed.add(digest);
      } catch {
        // An image whose manifest or config is unreadable keeps what it names, as far as known.
      }
    }
    for (const id of await leasedIds(this.content.root)) needed.add(id);
    const inUse = new Set((await containerUses(this.dataRoot)).flatMap((u) => u.lowerDirs));
    const result: PruneResult = { deleted: [], reclaimedBytes: 0 };
    for (const chainId of new Set(candidates.layers)) {
      if (needed.has(chainId) || inUse.has(this.layers.dir(chainId))) continue;
      const layer = await this.layers.record(chainId);
      if (!layer) continue;
      await this.layers.remove(chainId);
      result.deleted.push(chainId);
      result.reclaimedBytes += layer.unpackedBytes;
    }
    for (const digest of new Set(candidates.blobs)) {
      if (needed.has(digest)) continue;
      const size = await this.content.size(digest);
      if (size === undefined) continue;
      if (await this.content.remove(digest)) {
        result.deleted.push(digest);
        result.reclaimedBytes += size;
      }
    }
    return result;
  }

  /**
   * Records manifests whose blobs are all in the content store as images, with their
   * references (taken off any other image), once each layer is unpacked (here, when it is not
   * yet). For import, and for pull and commit.
   * @internal
   */
  async addImages(manifests: ImportedManifest[], signal?: AbortSignal, lease?: Lease): Promise<Image[]> {
    await this.content.prepare();
    for (const imported of manifests) await this.#unpack(imported, signal, lease);
    const added = await this.#index.update(async (records) => {
      const out: ImageRecord[] = [];
      for (const imported of manifests) {
        const manifest = parseManifest(await this.content.readBytes(imported.digest).catch(() => {
          throw new BlobVanished(imported.digest);
        }), imported.digest, imported.mediaType);
        for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
          if (!(await this.content.has(digest))) throw new BlobVanished(digest);
        }
        const config = parseImageConfig(await this.content.readBytes(manifest.config.digest), manifest.config.digest);
        for (const chainId of chainIds(config.rootfs.diff_ids)) {
          if (!(await this.layers.has(chainId))) throw new BlobVanished(chainId);
        }
        const references = imported.references.map((r) => normalizeReference(r));
        for (const other of records) other.references = other.references.filter((r) => !references.includes(r));
        let record = records.find((r) => r.digest === imported.digest);
        if (!record) {
          record = { digest: imported.digest, mediaType: imported.mediaType, size: imported.size, references: [], added: new Date().toISOString() };
          records.push(record);
        }
        for (const reference of references) if (!record.references.includes(reference)) record.references.push(reference);
        out.push(record);
      }
      return { images: records, result: out };
    });
    return Promise.all(added.map(async (r) => toImage(await this.#load(r))));
  }

  /**
   * Pulls an image from a registry: a full reference from its registry, a short name from the
   * first search registry that has it (registries()). Every blob is verified before it is
   * stored and every layer unpacked before the image is listed under the full reference.
   */
  async pull(reference: string, options: ImagePullOptions = {}): Promise<Image> {
    if (options.platform !== undefined) parsePlatform(options.platform, 'pull: platform');
    const registries = await this.registries();
    const candidates = pullCandidates(reference, registries);
    await this.content.prepare();
    const lease = await Lease.take(this.content.root);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const target = { content: this.content, layers: this.layers, dataRoot: this.dataRoot, maxLayerBytes: this.#maxLayerBytes };
          const { reference: full, result } = await pullFirstFound(target, candidates, registries, lease, options);
          const [image] = await this.addImages([{ digest: result.digest, mediaType: result.mediaType, size: result.size, references: [full] }], options.signal, lease);
          return image as Image;
        } catch (error) {
          if (!(await this.#vanished(error)) || attempt >= IMPORT_ATTEMPTS) throw error;
        }
      }
    } finally {
      await lease.release();
    }
  }

  /**
   * Pushes a stored image to `target` (a full reference; default: the reference `source`
   * names). Blobs the image has under another repository of that registry are mounted.
   */
  async push(source: string, target?: string, options: ImagePushOptions = {}): Promise<{ digest: string }> {
    const { record, byName } = await this.#find(await this.#index.read(), source);
    const destination = target ?? byName;
    if (destination === undefined) throw new TypeError(`push: ${JSON.stringify(source)} names no repository; give a target reference`);
    const registries = await this.registries();
    const result = await pushToRegistry(this.content, this.dataRoot, record, destination, registries, options);
    return { digest: result.digest };
  }

  /**
   * Imports a docker-archive (`docker save`, gzip-compressed or not), an oci-archive, or an OCI
   * layout directory. Every blob is checked against its digest and size; a bad archive rejects
   * with ImageArchiveError naming the entry, and leaves the store as it was.
   */
  async import(source: string, options: ImportOptions = {}): Promise<Image[]> {
    if (typeof source !== 'string' || source === '') throw new TypeError('import: expected the path of an archive or OCI layout directory');
    if (options.platform !== undefined) parsePlatform(options.platform, 'import: platform');
    await this.content.prepare();
    const before = new Set(await this.content.list());
    const layersBefore = new Set((await this.layers.list()).map((l) => l.chainId));
    const lease = await Lease.take(this.content.root);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#importOnce(path.resolve(source), { ...options, lease });
        } catch (error) {
          if (!(await this.#vanished(error)) || attempt >= IMPORT_ATTEMPTS) throw error;
        }
      }
    } catch (error) {
      await lease.release();
      // What this import stored or unpacked and no image uses goes again.
      await this.#index.locked(async () => {
        const blobs = (await this.content.list()).filter((d) => !before.has(d));
        const layers = (await this.layers.list()).map((l) => l.chainId).filter((c) => !layersBefore.has(c));
        await this.#collect(await this.#index.read(), { blobs, layers });
      });
      throw error;
    } finally {
      await lease.release();
    }
  }

  /** Whether an import failed because a concurrent prune took a blob or layer it had stored. */
  async #vanished(error: unknown): Promise<boolean> {
    if (error instanceof BlobVanished) return true;
    // The content store names a blob it cannot find by its digest (an archive's own entries are file names).
    return error instanceof ImageArchiveError && isDigest(error.entry) && !(await this.content.has(error.entry));
  }

  async #importOnce(file: string, options: ImportOptions & { lease: Lease }): Promise<Image[]> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch (error) {
      throw new ImageArchiveError(file, `cannot be read (${(error as NodeJS.ErrnoException).code})`, { cause: error });
    }
    if (stat.isDirectory()) return this.addImages(await this.#read(new DirectorySource(file), options), options.signal, options.lease);
    if (!stat.isFile()) throw new ImageArchiveError(file, 'neither a file nor a directory');
    const head = Buffer.alloc(4);
    const handle = await fs.promises.open(file, 'r');
    try {
      await handle.read(head, 0, 4, 0);
    } finally {
      await handle.close();
    }
    const stage = decompressor(sniffCompression(head));
    if (!stage) return this.addImages(await this.#read(await TarSource.open(file), options), options.signal, options.lease);
    // A compressed archive is made a plain tar first: its members are read in any order.
    const scratch = await this.content.scratchFile();
    try {
      await pipeline(fs.createReadStream(file), stage, fileSink(scratch.handle), { signal: options.signal });
      return this.addImages(await this.#read(await TarSource.open(scratch.path), options), options.signal, options.lease);
    } finally {
      await scratch.release();
    }
  }

  /** An archive's images into the content store: docker's manifest.json when there is one, else the OCI layout. */
  async #read(source: ArchiveSource, options: ImportOptions & { lease: Lease }): Promise<ImportedManifest[]> {
    // A dir layout has a manifest.json too (the image's manifest, not docker's list of images).
    if (await isDirLayout(source)) return readDirLayout(source, this.content, options);
    if (await source.has('manifest.json')) return readDockerArchive(source, this.content, options);
    if (await source.has('oci-layout')) return readOciLayout(source, this.content, options);
    throw new ImageArchiveError(source.location, 'neither a docker-archive (manifest.json), an OCI layout (oci-layout, index.json) nor a dir layout (version, manifest.json)');
  }

  /**
   * Writes the image to `destination` as an oci-archive or a docker-archive, named by the
   * reference asked for (or, asked for by id, by all of its own).
   */
  async export(reference: string, destination: string, options: ExportOptions = {}): Promise<void> {
    const format = options.format ?? 'docker-archive';
    if (format !== 'oci-archive' && format !== 'docker-archive') {
      throw new TypeError(`export: format: expected "oci-archive" or "docker-archive", got ${JSON.stringify(format)}`);
    }
    if (typeof destination !== 'string' || destination === '') throw new TypeError('export: expected the path of the archive to write');
    const records = await this.#index.read();
    const { record, byName } = await this.#find(records, reference);
    const loaded = await this.#load(record);
    const image: ExportedImage = {
      manifestDigest: record.digest,
      manifestMediaType: record.mediaType,
      manifestSize: (await this.content.size(record.digest)) ?? record.size,
      manifest: loaded.manifest,
      config: loaded.config,
      references: byName !== undefined ? [byName] : [...record.references],
    };
    const write = format === 'oci-archive' ? writeOciArchive : writeDockerArchive;
    await write(this.content, image, path.resolve(destination), options.signal);
  }
}
