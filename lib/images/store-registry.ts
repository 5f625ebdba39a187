/**
 * The registry side of an ImageStore: which registry a reference names (a short name tries
 * each configured search registry in turn, as podman does, and never a guessed public one),
 * a pull into the store's content and layer stores under a lease (so that a prune running
 * meanwhile leaves the new blobs and layers alone), and a push of a stored image that mounts
 * blobs from the image's other repositories on the same registry.
 */
import type { Readable } from 'node:stream';
import { RegistryError } from '../errors/errors';
import type { ContentStore } from './content-store';
import type { LayerStore } from './layer-store';
import type { Lease } from './lease';
import { pull, type PullContentStore, type PullLayerStore, type PullOptions, type PullResult, type RegistryReference } from './pull';
import { push, type PushOptions, type PushResult } from './push';
import { formatReference, normalizeReference, parseReference, qualifyWithSearchRegistries, type Reference } from './reference';
import type { RegistriesConfig } from './registries-config';

/** ImageStore.pull's options: those of the registry pull, less what the store itself gives. */
export type ImagePullOptions = Omit<PullOptions, 'layers' | 'maxLayerBytes' | 'dataRoot' | 'insecureRegistries' | 'credentials'>;

/** ImageStore.push's options. */
export type ImagePushOptions = Omit<PushOptions, 'dataRoot' | 'insecureRegistries' | 'credentials' | 'mountFrom'>;

/** A full, normalized reference as the registry client takes it. */
function registryReference(full: string): RegistryReference {
  const ref = parseReference(full);
  const out: RegistryReference = { registry: ref.domain as string, repository: ref.path };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}

/**
 * The full references a pull tries, in order: the reference itself when it names a registry,
 * else one per search registry. None configured for a short name is an error that says so.
 */
export function pullCandidates(reference: string, registries: RegistriesConfig): string[] {
  const ref: Reference = parseReference(reference, 'pull');
  if (ref.domain !== undefined) return [normalizeReference(reference, 'pull')];
  const candidates = qualifyWithSearchRegistries(ref, registries.search).map((r) => normalizeReference(r));
  if (candidates.length === 0) {
    throw new RegistryError(
      `pull ${reference}: a short name, and no search registries are configured (registries.json "unqualified-search-registries" or the option registries.search); use a full reference`,
    );
  }
  return candidates;
}

/** The content store as the pull sees it: every blob is named in the lease before it is stored. */
function leasedContent(content: ContentStore, lease: Lease): PullContentStore {
  return {
    has: (digest) => content.has(digest),
    open: (digest) => content.open(digest),
    ingest: (source: (offset: number) => Readable, expected, signal) => content.ingest(source, { ...expected, lease }, signal),
  };
}

/** The layer store as the pull sees it: every layer is named in the lease before it is unpacked. */
function leasedLayers(layers: LayerStore, lease: Lease): PullLayerStore {
  return {
    ensure: async (chainId, parent, openBlob, layer) => {
      await lease.add(chainId);
      return layers.ensure(chainId, parent, openBlob, layer);
    },
  };
}

export interface PullTarget {
  content: ContentStore;
  layers: LayerStore;
  dataRoot: string;
  maxLayerBytes: number | undefined;
}

/**
 * Pulls the first candidate a registry has: a 404 (no such repository, tag or manifest) moves
 * on to the next search registry; any other failure stops there. Resolves to the pull's result
 * and the full reference it came from.
 */
export async function pullFirstFound(
  store: PullTarget,
  candidates: string[],
  registries: RegistriesConfig,
  lease: Lease,
  options: ImagePullOptions,
): Promise<{ reference: string; result: PullResult }> {
  let last: unknown;
  for (const reference of candidates) {
    try {
      const result = await pull(leasedContent(store.content, lease), registryReference(reference), {
        ...options,
        layers: leasedLayers(store.layers, lease),
        dataRoot: store.dataRoot,
        insecureRegistries: registries.insecure,
        ...(store.maxLayerBytes !== undefined ? { maxLayerBytes: store.maxLayerBytes } : {}),
      });
      return { reference, result };
    } catch (error) {
      if (!(error instanceof RegistryError && error.status === 404) || candidates.length === 1) throw error;
      last = error;
    }
  }
  throw last;
}

/**
 * Pushes the stored manifest `manifestDigest` to `target` (a full reference). The image's
 * other references on the same registry are offered as mount sources, so the registry links
 * blobs it has instead of receiving them again.
 */
export async function pushToRegistry(
  content: ContentStore,
  dataRoot: string,
  image: { digest: string; references: string[] },
  target: string,
  registries: RegistriesConfig,
  options: ImagePushOptions,
): Promise<PushResult> {
  const ref = parseReference(target, 'push: target');
  if (ref.domain === undefined) throw new TypeError(`push: target: ${JSON.stringify(target)} names no registry; use host[:port]/path[:tag]`);
  const full = registryReference(normalizeReference(formatReference(ref), 'push: target'));
  const mountFrom = image.references
    .map((r) => parseReference(r))
    .filter((r) => r.domain === full.registry && r.path !== full.repository)
    .map((r) => r.path);
  return push(content, image.digest, full, {
    ...options,
    dataRoot,
    insecureRegistries: registries.insecure,
    mountFrom: [...new Set(mountFrom)],
  });
}
