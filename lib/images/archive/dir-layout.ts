/**
 * Reads containers/image's "dir" layout, what `skopeo copy ... dir:PATH` and `podman save
 * --format docker-dir` write: a `version` file ("Directory Transport Version: 1.x"), the
 * image's manifest as `manifest.json`, and every blob as a file named by its hex digest. A
 * multi-platform copy (`skopeo copy --all`) keeps the index in `manifest.json` and each
 * platform's manifest as `HEX.manifest.json`. The layout names no image: the image it gives
 * has no reference.
 */
import { ImageArchiveError } from '../../errors/errors';
import type { ContentStore } from '../content-store';
import { MAX_JSON_BLOB } from '../content-store';
import { parseDigest, sha256Digest } from '../digest';
import { parseManifestOrIndex, selectPlatform, type ImageManifest } from '../manifest';
import type { ArchiveSource } from './archive-source';
import { ingestManifestBlobs, type ImportedManifest, type ReadOptions } from './imported-image';

const VERSION = /^Directory Transport Version: 1\.\d+\n?$/;

/** Whether `source` is a dir layout: its `version` file says so (its manifest.json is no docker-archive's). */
export async function isDirLayout(source: ArchiveSource): Promise<boolean> {
  if (!(await source.has('version')) || !(await source.has('manifest.json'))) return false;
  return VERSION.test((await source.readFile('version', 256)).toString('utf8'));
}

export async function readDirLayout(source: ArchiveSource, store: ContentStore, options: ReadOptions = {}): Promise<ImportedManifest[]> {
  let entry = 'manifest.json';
  let bytes = await source.readFile(entry, MAX_JSON_BLOB);
  let parsed = parseManifestOrIndex(bytes, entry);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, options.platform);
    if (!chosen) throw new ImageArchiveError(entry, `no image for platform ${options.platform ?? 'of this machine'} in this index`);
    entry = `${parseDigest(chosen.digest)}.manifest.json`;
    bytes = await source.readFile(entry, MAX_JSON_BLOB);
    if (sha256Digest(bytes) !== chosen.digest) throw new ImageArchiveError(entry, `content digest ${sha256Digest(bytes)} does not match the index's ${chosen.digest}`);
    parsed = parseManifestOrIndex(bytes, entry, chosen.mediaType);
    if (parsed.kind !== 'manifest') throw new ImageArchiveError(entry, 'an index inside an index, where an image manifest belongs');
  }
  const manifest: ImageManifest = parsed.manifest;
  await ingestManifestBlobs(
    store,
    manifest,
    async (digest) => {
      const name = parseDigest(digest);
      return { stream: await source.open(name), entry: name };
    },
    options,
  );
  const digest = sha256Digest(bytes);
  await store.ingestBytes(bytes, { digest, entry, ...(options.lease ? { lease: options.lease } : {}) }, options.signal);
  return [{ digest, mediaType: manifest.mediaType, size: bytes.length, references: [] }];
}
