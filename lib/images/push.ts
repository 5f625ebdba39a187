/**
 * Push: an image of the content store (its manifest, config and layers, as stored: the bytes
 * and so the digests do not change) to a registry reference. Blobs the target repository has
 * are skipped, blobs in a listed repository of the same registry are mounted, the others are
 * uploaded (monolithic, or chunked past `chunkSize`); the manifest goes last.
 */
import type { Readable } from 'node:stream';
import { RegistryError } from '../errors/errors';
import { uploadBlob, putManifest, type UploadOutcome } from './registry/blob-upload';
import { RegistryClient, sha256Digest, type RegistryClientOptions } from './registry/client';
import type { RegistryCredentials } from './registry/credentials';
import { parseManifestOrIndex } from './manifest';
import { asRegistryDocument } from './registry/document-errors';
import type { RegistryReference } from './pull';

/** What a push needs of the content store (ContentStore has it). */
export interface PushContentStore {
  open(digest: string): Readable;
}

export interface PushProgress {
  /** The blob's digest (layer or config). */
  blob: string;
  phase: 'upload' | 'done';
  outcome?: UploadOutcome;
  total: number;
}

export interface PushOptions extends RegistryClientOptions {
  signal?: AbortSignal;
  auth?: RegistryCredentials;
  onProgress?: (event: PushProgress) => void;
  /** Blobs larger than this are sent in chunks of this many bytes; default: monolithic. */
  chunkSize?: number;
  /** Repositories on the target registry that may hold the blobs already (cross-repository mount). */
  mountFrom?: readonly string[];
}

export interface PushResult {
  /** The manifest digest in the registry (the same as in the store). */
  digest: string;
  blobs: Record<string, UploadOutcome>;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function push(content: PushContentStore, manifestDigest: string, target: RegistryReference, options: PushOptions = {}): Promise<PushResult> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const bytes = await collect(content.open(manifestDigest));
  if (sha256Digest(bytes) !== manifestDigest) throw new RegistryError(`manifest ${manifestDigest} in the store does not match its digest`);
  // An OCI manifest may leave out its mediaType: the model then takes it as one by its fields.
  const parsed = asRegistryDocument(() => parseManifestOrIndex(bytes, `manifest ${manifestDigest}`));
  if (parsed.kind !== 'manifest') throw new RegistryError(`cannot push manifest ${manifestDigest}: it is an index (${parsed.index.mediaType}), not an image manifest`);
  const { manifest } = parsed;
  const { mediaType } = manifest;

  const client = new RegistryClient(target.registry, { ...options, credentials: options.auth ?? options.credentials });
  const blobs: Record<string, UploadOutcome> = {};
  // Layers first, then the config: a registry may check the config's layers when the manifest comes.
  for (const blob of [...manifest.layers, manifest.config]) {
    if (blobs[blob.digest]) continue;
    onProgress?.({ blob: blob.digest, phase: 'upload', total: blob.size });
    blobs[blob.digest] = await uploadBlob(
      client,
      target.repository,
      { digest: blob.digest, size: blob.size, open: () => content.open(blob.digest) },
      { chunkSize: options.chunkSize, mountFrom: options.mountFrom, signal },
    );
    onProgress?.({ blob: blob.digest, phase: 'done', outcome: blobs[blob.digest], total: blob.size });
  }
  const reported = await putManifest(client, target.repository, target.digest ?? target.tag ?? 'latest', { mediaType, bytes }, signal);
  if (reported && reported !== manifestDigest) {
    throw new RegistryError(`${target.registry}/${target.repository}: the registry stored the manifest as ${reported}, not ${manifestDigest}`, 201);
  }
  return { digest: manifestDigest, blobs };
}
