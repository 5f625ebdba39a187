/**
 * The media types of OCI image spec 1.1 and Docker image manifest v2 schema 2 that the store
 * reads, and what each one is (a manifest, an index, a config, a layer and its compression).
 */
import type { LayerCompression as Compression } from './tar/decompress';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
// Layers that registries may not redistribute; their bytes are the same formats.
export const OCI_LAYER_NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_NONDIST_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_NONDIST_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_LAYER_ZSTD = 'application/vnd.docker.image.rootfs.diff.tar.zstd';
export const DOCKER_FOREIGN_LAYER_GZIP = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';


const LAYER_COMPRESSION: Record<string, Compression> = {
  [OCI_LAYER]: 'none',
  [OCI_LAYER_GZIP]: 'gzip',
  [OCI_LAYER_ZSTD]: 'zstd',
  [OCI_LAYER_NONDIST]: 'none',
  [OCI_LAYER_NONDIST_GZIP]: 'gzip',
  [OCI_LAYER_NONDIST_ZSTD]: 'zstd',
  [DOCKER_LAYER]: 'none',
  [DOCKER_LAYER_GZIP]: 'gzip',
  [DOCKER_LAYER_ZSTD]: 'zstd',
  [DOCKER_FOREIGN_LAYER_GZIP]: 'gzip',
};

export const MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST];
export const INDEX_TYPES: readonly string[] = [OCI_INDEX, DOCKER_MANIFEST_LIST];
export const CONFIG_TYPES: readonly string[] = [OCI_CONFIG, DOCKER_CONFIG];

export function isManifestType(mediaType: unknown): boolean {
  return typeof mediaType === 'string' && MANIFEST_TYPES.includes(mediaType);
}

export function isIndexType(mediaType: unknown): boolean {
  return typeof mediaType === 'string' && INDEX_TYPES.includes(mediaType);
}

/** The compression of a layer media type; undefined for anything that is not a layer we can read. */
export function layerCompression(mediaType: string): Compression | undefined {
  return LAYER_COMPRESSION[mediaType];
}

/** The OCI layer media type of a compression, as ts-container writes layers itself. */
export function ociLayerType(compression: Compression): string {
  return compression === 'gzip' ? OCI_LAYER_GZIP : compression === 'zstd' ? OCI_LAYER_ZSTD : OCI_LAYER;
}

/** The Docker layer media type of the same compression (a Docker v2s2 manifest may not mix in OCI types). */
export function dockerLayerType(compression: Compression): string {
  return compression === 'gzip' ? DOCKER_LAYER_GZIP : compression === 'zstd' ? DOCKER_LAYER_ZSTD : DOCKER_LAYER;
}
