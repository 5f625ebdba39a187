/**
 * Platforms ("linux/amd64", "linux/arm64/v8") and the choice of one manifest from an image
 * index or a Docker manifest list, as containerd matches them: os and architecture equal, and
 * the variant equal when both name one (arm64's implied variant is v8).
 */
import { RegistryError } from '../../errors/errors';
import { formatPlatform, type Descriptor, type Platform } from '../manifest';

// One platform vocabulary for the store and the registry client: manifest.ts's.
export { formatPlatform, hostPlatform, parsePlatform, type Platform } from '../manifest';

function impliedVariant(p: Platform): string | undefined {
  return p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
}

export function platformMatches(wanted: Platform, offered: Partial<Platform> | undefined): boolean {
  if (!offered || offered.os !== wanted.os || offered.architecture !== wanted.architecture) return false;
  const w = impliedVariant(wanted);
  const o = impliedVariant(offered as Platform);
  return !w || !o || w === o;
}

/** What platform choice reads of an index entry (manifest.ts's Descriptor has it). */
export type PlatformDescriptor = Pick<Descriptor, 'digest'> & { platform?: Partial<Platform> };

/** The entry of `manifests` for `wanted` (an exact variant before one without a variant). */
export function choosePlatformManifest<T extends PlatformDescriptor>(manifests: T[], wanted: Platform, where: string): T {
  const matching = manifests.filter((m) => platformMatches(wanted, m.platform));
  const exact = matching.find((m) => impliedVariant(m.platform as Platform) === impliedVariant(wanted));
  const chosen = exact ?? matching[0];
  if (!chosen) {
    const offered = manifests.map((m) => (m.platform ? formatPlatform(m.platform as Platform) : '?')).join(', ');
    throw new RegistryError(`${where} has no image for ${formatPlatform(wanted)} (it has: ${offered || 'none'})`, 404);
  }
  return chosen;
}
