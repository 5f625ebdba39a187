/**
 * The registry-facing view of manifests: which media types are an index and which an image
 * manifest, and the structural checks a pull needs before it fetches anything a manifest names.
 */
import { RegistryError } from '../../errors/errors';
import type { PlatformDescriptor } from './platform';

export const INDEX_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

export const IMAGE_MANIFEST_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

export interface BlobDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImageManifest {
  mediaType: string;
  config: BlobDescriptor;
  layers: BlobDescriptor[];
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function descriptor(value: unknown, where: string): BlobDescriptor {
  const d = value as Partial<BlobDescriptor> | null;
  if (!d || typeof d !== 'object') throw new RegistryError(`${where}: not a descriptor`, 200);
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) throw new RegistryError(`${where}: digest ${JSON.stringify(d.digest)} is not sha256:<64 hex>`, 200);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new RegistryError(`${where}: size ${JSON.stringify(d.size)} is not a byte count`, 200);
  if (typeof d.mediaType !== 'string' || !d.mediaType) throw new RegistryError(`${where}: no mediaType`, 200);
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

export function parseIndex(bytes: Buffer, where: string): PlatformDescriptor[] {
  const parsed = JSON.parse(bytes.toString('utf8')) as { manifests?: unknown };
  if (!Array.isArray(parsed.manifests)) throw new RegistryError(`${where}: an index without "manifests"`, 200);
  return parsed.manifests.map((m: unknown, i: number) => ({
    ...descriptor(m, `${where}: manifests[${i}]`),
    platform: (m as { platform?: PlatformDescriptor['platform'] }).platform,
  }));
}

export function parseImageManifest(bytes: Buffer, mediaType: string, where: string): ImageManifest {
  const parsed = JSON.parse(bytes.toString('utf8')) as { config?: unknown; layers?: unknown };
  if (!Array.isArray(parsed.layers)) throw new RegistryError(`${where}: a manifest without "layers"`, 200);
  return {
    mediaType,
    config: descriptor(parsed.config, `${where}: config`),
    layers: parsed.layers.map((l: unknown, i: number) => descriptor(l, `${where}: layers[${i}]`)),
  };
}
