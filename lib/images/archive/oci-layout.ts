/**
 * Reads an OCI image layout (a directory, or an oci-archive's members): oci-layout,
 * index.json, blobs/sha256/<hex>. Each entry of index.json is one image; an entry that is
 * itself an index (a multi-platform image) gives the manifest of the wanted platform.
 */
import { ImageArchiveError } from '../../errors/errors';
import type { ContentStore } from '../content-store';
import { parseDigest, sha256Digest } from '../digest';
import { parseManifestOrIndex, selectPlatform, type Descriptor } from '../manifest';
import { normalizeReference } from '../reference';
import type { ArchiveSource } from './archive-source';
import { ingestManifestBlobs, type ImportedManifest, type ReadOptions } from './imported-image';
import { MAX_JSON_BLOB } from '../content-store';
import { REF_NAME_ANNOTATION } from '../image-index';

/** containerd (and docker 25+ saves) keep the full name here, and only the tag in ref.name. */
const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
const MAX_NESTING = 4;

export function blobName(digest: string): string {
  return `blobs/sha256/${parseDigest(digest)}`;
}

/** A JSON blob of the layout, checked against its descriptor before it is parsed. */
async function readVerified(source: ArchiveSource, descriptor: Descriptor): Promise<Buffer> {
  const entry = blobName(descriptor.digest);
  const bytes = await source.readFile(entry, MAX_JSON_BLOB);
  if (bytes.length !== descriptor.size) throw new ImageArchiveError(entry, `${bytes.length} bytes where the descriptor says ${descriptor.size}`);
  const digest = sha256Digest(bytes);
  if (digest !== descriptor.digest) throw new ImageArchiveError(entry, `content digest ${digest} does not match its name`);
  return bytes;
}

/**
 * The reference an index entry names. A ref.name that is a full or repository name
 * ("app:1", "example.com/app") is normalized as podman does; a bare tag ("latest", as
 * umoci and `skopeo copy oci:dir:TAG` write) names no repository and gives no reference.
 */
export function referenceOf(descriptor: Descriptor): string | undefined {
  const full = descriptor.annotations?.[CONTAINERD_NAME_ANNOTATION];
  const name = full ?? descriptor.annotations?.[REF_NAME_ANNOTATION];
  if (name === undefined || (!name.includes('/') && !name.includes(':') && !name.includes('@'))) return undefined;
  try {
    return normalizeReference(name);
  } catch {
    return undefined;
  }
}

export async function readOciLayout(source: ArchiveSource, store: ContentStore, options: ReadOptions = {}): Promise<ImportedManifest[]> {
  const layout = await source.readFile('oci-layout', 4096);
  let version: unknown;
  try {
    version = JSON.parse(layout.toString()).imageLayoutVersion;
  } catch {
    throw new ImageArchiveError('oci-layout', 'not valid JSON');
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) throw new ImageArchiveError('oci-layout', `imageLayoutVersion ${JSON.stringify(version)} is not 1.x`);
  const top = parseManifestOrIndex(await source.readFile('index.json', MAX_JSON_BLOB), 'index.json');
  if (top.kind !== 'index') throw new ImageArchiveError('index.json', 'is a manifest, not an index');
  const byDigest = new Map<string, ImportedManifest>();
  for (const entry of top.index.manifests) {
    const imported = await importEntry(source, store, entry, options, 0);
    const reference = referenceOf(entry);
    const known = byDigest.get(imported.digest) ?? imported;
    if (reference !== undefined && !known.references.includes(reference)) known.references.push(reference);
    byDigest.set(imported.digest, known);
  }
  if (byDigest.size === 0) throw new ImageArchiveError('index.json', 'lists no image');
  return [...byDigest.values()];
}

async function importEntry(source: ArchiveSource, store: ContentStore, descriptor: Descriptor, options: ReadOptions, depth: number): Promise<ImportedManifest> {
  const entry = blobName(descriptor.digest);
  const bytes = await readVerified(source, descriptor);
  const parsed = parseManifestOrIndex(bytes, entry, descriptor.mediaType);
  if (parsed.kind === 'index') {
    if (depth >= MAX_NESTING) throw new ImageArchiveError(entry, 'indexes nested too deep');
    const chosen = selectPlatform(parsed.index, options.platform);
    if (!chosen) throw new ImageArchiveError(entry, `no image for platform ${options.platform ?? 'of this machine'} in this index`);
    return importEntry(source, store, chosen, options, depth + 1);
  }
  await ingestManifestBlobs(
    store,
    parsed.manifest,
    async (digest) => ({ stream: await source.open(blobName(digest)), entry: blobName(digest) }),
    options,
  );
  await store.ingestBytes(bytes, { digest: descriptor.digest, entry, ...(options.lease ? { lease: options.lease } : {}) }, options.signal);
  return { digest: descriptor.digest, mediaType: parsed.manifest.mediaType, size: bytes.length, references: [] };
}
