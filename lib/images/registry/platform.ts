/**
 * Platforms ("linux/amd64", "linux/arm64/v8") and the choice of one manifest from an image
 * index or a Docker manifest list, as containerd matches them: os and architecture equal, and
 * the variant equal when both name one (arm64's implied variant is v8).
 */
import { RegistryError } from '../../errors/errors';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/** This machine's platform. */
export function hostPlatform(): Platform {
  return NODE_ARCH[process.arch] ?? { os: 'linux', architecture: process.arch };
}

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    throw new TypeError(`platform: expected "os/architecture[/variant]", got "${text}"`);
  }
  return { os: parts[0], architecture: parts[1], variant: parts[2] };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function impliedVariant(p: Platform): string | undefined {
  return p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
}

export function platformMatches(wanted: Platform, offered: Partial<Platform> | undefined): boolean {
  if (!offered || offered.os !== wanted.os || offered.architecture !== wanted.architecture) return false;
  const w = impliedVariant(wanted);
  const o = impliedVariant(offered as Platform);
  return !w || !o || w === o;
}

export interface PlatformDescriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Partial<Platform>;
}

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
