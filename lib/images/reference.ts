/**
 * Image references ("registry.example:5000/team/app:1.2", "alpine", "app@sha256:..."): parsed
 * with the grammar of the distribution project (what docker and podman accept), and normalized
 * as podman does: a name without a registry is "unqualified", and a new unqualified name is
 * kept as localhost/NAME:TAG; a lookup by a short name matches a stored repository path that
 * ends in /NAME. No public registry is ever guessed.
 */
import { isDigest } from './digest';

export interface Reference {
  /** The registry host[:port], absent for an unqualified name. */
  domain?: string;
  /** The repository path below the registry ("library/alpine", "team/app"). */
  path: string;
  tag?: string;
  digest?: string;
}

const MAX_NAME = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** The registry of unqualified names that ts-container itself gives a name to (podman's rule). */
export const LOCAL_DOMAIN = 'localhost';
export const DEFAULT_TAG = 'latest';
/** Docker's own archives name Docker Hub images without their registry. */
export const DOCKER_HUB = 'docker.io';

function invalid(value: unknown, where: string, why: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 300)) : typeof value;
  throw new TypeError(`${where}: ${shown} is not an image reference (${why})`);
}

/** Whether the part before the first "/" names a registry rather than a repository component. */
function looksLikeDomain(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === LOCAL_DOMAIN || part !== part.toLowerCase();
}

/** Whether `value` is a registry as a reference names it: a host (name, IPv4 or [IPv6]) with an optional port. */
export function isRegistryHost(value: unknown): value is string {
  return typeof value === 'string' && DOMAIN.test(value);
}

/** Parses a reference; a TypeError naming `where` for anything docker would refuse. */
export function parseReference(value: unknown, where = 'reference'): Reference {
  if (typeof value !== 'string' || value === '') return invalid(value, where, 'expected a non-empty string');
  let rest = value;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) invalid(value, where, 'the part after "@" is not a sha256 digest');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) invalid(value, where, `tag ${JSON.stringify(tag)} is not letters, digits, "_", "." and "-" (at most 128)`);
  }
  if (rest.length > MAX_NAME) invalid(value, where, `the name is longer than ${MAX_NAME} characters`);
  const parts = rest.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && looksLikeDomain(parts[0] as string)) {
    domain = parts.shift() as string;
    if (!DOMAIN.test(domain)) invalid(value, where, `registry ${JSON.stringify(domain)} is not a host name with an optional port`);
  }
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      invalid(value, where, `${JSON.stringify(part)} is not a repository name component (lowercase letters, digits and single separators)`);
    }
  }
  const ref: Reference = { path: parts.join('/') };
  if (domain !== undefined) ref.domain = domain;
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The repository name: registry and path. */
export function repositoryName(ref: Reference): string {
  return ref.domain === undefined ? ref.path : `${ref.domain}/${ref.path}`;
}

export function formatReference(ref: Reference): string {
  return repositoryName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** True for a name without a registry ("alpine", "team/app:1"). */
export function isUnqualified(ref: Reference): boolean {
  return ref.domain === undefined;
}

/** The tag a reference means: its own, or "latest" when it names neither a tag nor a digest. */
function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/**
 * The full name a new tag is stored under, as podman normalizes it: an unqualified name goes
 * under localhost/ and a missing tag is "latest".
 */
export function normalizeReference(value: unknown, where = 'reference'): string {
  const ref = withDefaultTag(parseReference(value, where));
  if (ref.domain === undefined) return formatReference({ ...ref, domain: LOCAL_DOMAIN });
  // Docker Hub's official images live under library/, whichever way they are written.
  if (ref.domain === DOCKER_HUB && !ref.path.includes('/')) return formatReference({ ...ref, path: `library/${ref.path}` });
  return formatReference(ref);
}

/**
 * A name from a Docker archive (`docker save`'s RepoTags): Docker calls Docker Hub images by
 * their short names, so an unqualified one means docker.io (and docker.io/library for a
 * one-component path), as podman reads these archives.
 */
export function normalizeDockerReference(value: unknown, where = 'reference'): string {
  const ref = withDefaultTag(parseReference(value, where));
  if (ref.domain !== undefined) return formatReference(ref);
  const path = ref.path.includes('/') ? ref.path : `library/${ref.path}`;
  return formatReference({ ...ref, domain: DOCKER_HUB, path });
}

/** The full references a short name stands for, one per search registry, in order (for a pull). */
export function qualifyWithSearchRegistries(short: Reference, searchRegistries: readonly string[]): string[] {
  const ref = withDefaultTag(short);
  return searchRegistries.map((domain) => formatReference({ ...ref, domain }));
}
