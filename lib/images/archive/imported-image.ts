/**
 * What the archive readers hand the image store: a manifest now in the content store, with
 * every blob it names, and the references the archive gave it.
 */
import type { Readable } from 'node:stream';
import { ImageArchiveError } from '../../errors/errors';
import type { ContentStore } from '../content-store';
import type { Lease } from '../lease';
import { parseImageConfig, type ImageManifest } from '../manifest';

export interface ImportedManifest {
  digest: string;
  mediaType: string;
  size: number;
  /** Full, normalized references. */
  references: string[];
}

export interface ReadOptions {
  /** The platform to take from a multi-platform index: "os/arch[/variant]", default this machine's. */
  platform?: string;
  signal?: AbortSignal;
  /** Names each blob before it is stored, so that a concurrent prune leaves it alone. */
  lease?: Lease;
}

/**
 * Stores the config and layers of `manifest` from `openBlob`, each checked against the
 * manifest's digest and size, and checks that the config lists one diff id per layer.
 */
export async function ingestManifestBlobs(
  store: ContentStore,
  manifest: ImageManifest,
  openBlob: (digest: string) => Promise<{ stream: Readable; entry: string }>,
  options: ReadOptions,
): Promise<void> {
  const { signal, lease } = options;
  for (const descriptor of [manifest.config, ...manifest.layers]) {
    signal?.throwIfAborted();
    await lease?.add(descriptor.digest);
    if ((await store.size(descriptor.digest)) === descriptor.size) continue;
    const { stream, entry } = await openBlob(descriptor.digest);
    await store.ingest(stream, { digest: descriptor.digest, size: descriptor.size, entry, ...(lease ? { lease } : {}) }, signal);
  }
  const config = parseImageConfig(await store.readBytes(manifest.config.digest), manifest.config.digest);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new ImageArchiveError(manifest.config.digest, `the config lists ${config.rootfs.diff_ids.length} diff ids for ${manifest.layers.length} layers`);
  }
}
