/**
 * Writes an image from the store as an oci-archive or a docker-archive. The archive is made
 * under a temporary name beside the destination and renamed into place once complete, so a
 * failed or interrupted export leaves no partial file.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ImageArchiveError } from '../../errors/errors';
import type { ContentStore } from '../content-store';
import { DigestStream, parseDigest } from '../digest';
import { serializeIndex, type ImageConfig, type ImageIndex, type ImageManifest } from '../manifest';
import { OCI_INDEX } from '../media-types';
import { REF_NAME_ANNOTATION } from '../image-index';
import { blobName } from './oci-layout';
import { compressionOf, decompressor } from '../tar/decompress';
import { TarWriter } from './tar-writer';
import { fileSink } from '../file-sink';

export interface ExportedImage {
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Full references to write into the archive (first: the one asked for). */
  references: string[];
}

/** Runs `write` with a TarWriter onto a temporary file, then renames it to `destination`. */
async function writeAtomically(destination: string, write: (tar: TarWriter, scratch: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const suffix = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const temporary = path.join(path.dirname(destination), `.${path.basename(destination)}.${suffix}.tmp`);
  const scratch = path.join(path.dirname(destination), `.${path.basename(destination)}.${suffix}.layers`);
  const handle = await fs.promises.open(temporary, 'wx', 0o644);
  let done = false;
  try {
    const out = fileSink(handle);
    const abort = () => out.destroy(signal?.reason instanceof Error ? signal.reason : new Error('export aborted'));
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await write(new TarWriter(out), scratch);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    signal?.throwIfAborted();
    await handle.sync();
    await fs.promises.rename(temporary, destination);
    done = true;
  } finally {
    await handle.close();
    await fs.promises.rm(scratch, { recursive: true, force: true });
    if (!done) await fs.promises.rm(temporary, { force: true });
  }
}

/** An OCI layout in a tar: what `skopeo copy ... oci-archive:FILE` and `podman save --format oci-archive` write. */
export async function writeOciArchive(store: ContentStore, image: ExportedImage, destination: string, signal?: AbortSignal): Promise<void> {
  await writeAtomically(
    destination,
    async (tar) => {
      const name = image.references[0];
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: image.manifestMediaType,
            digest: image.manifestDigest,
            size: image.manifestSize,
            ...(name === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: name } }),
          },
        ],
      };
      await tar.file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
      await tar.file('index.json', serializeIndex(index));
      await tar.directory('blobs');
      await tar.directory('blobs/sha256');
      const blobs = [
        { digest: image.manifestDigest, size: image.manifestSize },
        image.manifest.config,
        ...image.manifest.layers,
      ];
      const written = new Set<string>();
      for (const blob of blobs) {
        if (written.has(blob.digest)) continue;
        written.add(blob.digest);
        signal?.throwIfAborted();
        await tar.fileFromStream(blobName(blob.digest), blob.size, store.open(blob.digest));
      }
      await tar.finish();
    },
    signal,
  );
}

/**
 * A `docker save` archive: manifest.json, the config as <id>.json and each layer as a plain
 * tar named by its diff id (a compressed layer is decompressed into a scratch file first, and
 * its diff id checked on the way).
 */
export async function writeDockerArchive(store: ContentStore, image: ExportedImage, destination: string, signal?: AbortSignal): Promise<void> {
  await writeAtomically(
    destination,
    async (tar, scratch) => {
      const configName = `${parseDigest(image.manifest.config.digest)}.json`;
      await tar.fileFromStream(configName, image.manifest.config.size, store.open(image.manifest.config.digest));
      const layerNames: string[] = [];
      for (const [i, layer] of image.manifest.layers.entries()) {
        signal?.throwIfAborted();
        const diffId = image.config.rootfs.diff_ids[i] as string;
        const name = `${parseDigest(diffId)}.tar`;
        layerNames.push(name);
        if (layerNames.indexOf(name) !== i) continue;
        const stage = decompressor(compressionOf(layer.mediaType));
        if (!stage) {
          await tar.fileFromStream(name, layer.size, store.open(layer.digest));
          continue;
        }
        await fs.promises.mkdir(scratch, { recursive: true, mode: 0o700 });
        const plain = path.join(scratch, name);
        const counter = new DigestStream();
        await pipeline(store.open(layer.digest), stage, counter, fs.createWriteStream(plain), { signal });
        if (counter.digest !== diffId) throw new ImageArchiveError(layer.digest, `the uncompressed layer's digest ${counter.digest} differs from its diff id ${diffId}`);
        await tar.fileFromStream(name, counter.size, fs.createReadStream(plain));
        await fs.promises.rm(plain, { force: true });
      }
      const manifest = [{ Config: configName, RepoTags: image.references, Layers: layerNames }];
      await tar.file('manifest.json', Buffer.from(JSON.stringify(manifest)));
      await tar.finish();
    },
    signal,
  );
}
