/**
 * Reads a docker-archive (`docker save`, `podman save`, `skopeo copy docker-archive:`):
 * manifest.json lists each image's config file, its names (RepoTags) and its layer files,
 * bottom first. The store keeps each such image as a Docker v2 schema 2 manifest made here
 * from those blobs; the image id is the config's digest, as docker's.
 */
import * as fs from 'node:fs';
import { ImageArchiveError } from '../../errors/errors';
import { MAX_JSON_BLOB, type ContentStore } from '../content-store';
import { parseImageConfig, serializeManifest, type Descriptor, type ImageManifest } from '../manifest';
import { DOCKER_CONFIG, DOCKER_MANIFEST, dockerLayerType } from '../media-types';
import { sniffCompression } from '../tar/decompress';
import { normalizeDockerReference } from '../reference';
import type { ArchiveSource } from './archive-source';
import type { ImportedManifest, ReadOptions } from './imported-image';

interface ArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseArchiveManifest(bytes: Buffer): ArchiveEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString());
  } catch (error) {
    throw new ImageArchiveError('manifest.json', `not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(json) || json.length === 0) throw new ImageArchiveError('manifest.json', 'expected a non-empty list of images');
  return json.map((item, i) => {
    const where = `manifest.json[${i}]`;
    const { Config, RepoTags, Layers } = (item ?? {}) as Record<string, unknown>;
    if (typeof Config !== 'string') throw new ImageArchiveError(where, 'no Config file name');
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string')) throw new ImageArchiveError(where, 'no Layers list of file names');
    if (RepoTags !== undefined && RepoTags !== null && (!Array.isArray(RepoTags) || !RepoTags.every((t) => typeof t === 'string'))) {
      throw new ImageArchiveError(where, 'RepoTags is not a list of names');
    }
    return { Config, RepoTags: (RepoTags as string[] | null | undefined) ?? [], Layers: Layers as string[] };
  });
}

/**
 * The digest a member's name claims ("<hex>.json" for a config, "blobs/sha256/<hex>" as docker
 * 25+ writes): the content must have it. Older layer names ("<id>/layer.tar") claim nothing.
 */
function claimedDigest(name: string, configName: boolean): string | undefined {
  const match = (configName ? /^(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/ : /^blobs\/sha256\/([a-f0-9]{64})$/).exec(name.replace(/^\.\//, ''));
  return match ? `sha256:${match[1]}` : undefined;
}

async function firstBytes(file: string, count: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function readDockerArchive(source: ArchiveSource, store: ContentStore, options: ReadOptions = {}): Promise<ImportedManifest[]> {
  const entries = parseArchiveManifest(await source.readFile('manifest.json', MAX_JSON_BLOB));
  const out = new Map<string, ImportedManifest>();
  const lease = options.lease ? { lease: options.lease } : {};
  for (const entry of entries) {
    options.signal?.throwIfAborted();
    const configBytes = await source.readFile(entry.Config, MAX_JSON_BLOB);
    const config = parseImageConfig(configBytes, entry.Config);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw new ImageArchiveError(entry.Config, `the config lists ${config.rootfs.diff_ids.length} diff ids for ${entry.Layers.length} layers`);
    }
    const configBlob = await store.ingestBytes(configBytes, { digest: claimedDigest(entry.Config, true), entry: entry.Config, ...lease }, options.signal);
    const layers: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const size = await source.size(name);
      const blob = await store.ingest(await source.open(name), { digest: claimedDigest(name, false), size, entry: name, ...lease }, options.signal);
      const compression = sniffCompression(await firstBytes(store.path(blob.digest), 4));
      // An uncompressed layer's digest is its diff id: the config must agree.
      if (compression === 'none' && blob.digest !== config.rootfs.diff_ids[i]) {
        throw new ImageArchiveError(name, `layer digest ${blob.digest} differs from the config's diff id ${config.rootfs.diff_ids[i]}`);
      }
      layers.push({ mediaType: dockerLayerType(compression), digest: blob.digest, size: blob.size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, digest: configBlob.digest, size: configBlob.size },
      layers,
    };
    const bytes = serializeManifest(manifest);
    const stored = await store.ingestBytes(bytes, { entry: 'manifest.json', ...lease }, options.signal);
    const references: string[] = [];
    for (const tag of entry.RepoTags) {
      let reference: string;
      try {
        reference = normalizeDockerReference(tag, 'RepoTags');
      } catch (error) {
        throw new ImageArchiveError('manifest.json', (error as Error).message);
      }
      if (!references.includes(reference)) references.push(reference);
    }
    const known = out.get(stored.digest);
    if (known) known.references.push(...references.filter((r) => !known.references.includes(r)));
    else out.set(stored.digest, { digest: stored.digest, mediaType: DOCKER_MANIFEST, size: stored.size, references });
  }
  return [...out.values()];
}
