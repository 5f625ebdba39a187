/**
 * The registry's side of platform choice: manifest.ts's one rule (matchPlatform), and a
 * RegistryError listing what an index offers when nothing matches.
 */
import { RegistryError } from '../../errors/errors';
import { formatPlatform, matchPlatform, type Descriptor, type Platform } from '../manifest';

// One platform vocabulary for the store and the registry client: manifest.ts's.
export { formatPlatform, hostPlatform, parsePlatform, platformMatches, type Platform } from '../manifest';

/** What platform choice reads of an index entry (manifest.ts's Descriptor has it). */
export type PlatformDescriptor = Pick<Descriptor, 'digest'> & { mediaType?: string; platform?: Partial<Platform> };

/** The entry of `manifests` for `wanted` (an exact variant before one without a variant). */
export function choosePlatformManifest<T extends PlatformDescriptor>(manifests: T[], wanted: Platform, where: string): T {
  const chosen = matchPlatform(manifests, wanted);
  if (!chosen) {
    const offered = manifests.map((m) => (m.platform ? formatPlatform(m.platform as Platform) : '?')).join(', ');
    throw new RegistryError(`${where} has no image for ${formatPlatform(wanted)} (it has: ${offered || 'none'})`, 404);
  }
  return chosen;
}
