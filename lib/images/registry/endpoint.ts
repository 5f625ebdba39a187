/**
 * Where a registry host name is reached: HTTPS, and plain HTTP only for the loopback names and
 * the registries the caller lists as insecure (as podman allows), and the host to dial.
 */
import * as net from 'node:net';

export interface RegistryEndpoint {
  /** The registry as references name it, e.g. "127.0.0.1:5000" or "docker.io". */
  registry: string;
  /** Scheme and authority every API path is appended to, e.g. "https://registry-1.docker.io". */
  origin: string;
  /**
   * For loopback and insecure registries: the plain-HTTP origin used when the registry does
   * not speak TLS (HTTPS is tried first, as docker does, so certs.d works for them too).
   */
  plainOrigin?: string;
  /** Host name (without port) the TLS certificate must name. */
  hostname: string;
}

/** Docker Hub's references say "docker.io"; its API lives at another host. */
const API_HOST: Record<string, string> = { 'docker.io': 'registry-1.docker.io' };

/** The host name of "host", "host:port", "[v6]" or "[v6]:port". */
export function hostnameOf(registry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (bracketed) return bracketed[1];
  const colon = registry.lastIndexOf(':');
  return colon > 0 && registry.indexOf(':') === colon ? registry.slice(0, colon) : registry;
}

/** localhost and the loopback addresses (127.0.0.0/8, ::1): traffic never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (net.isIPv4(hostname)) return hostname.startsWith('127.');
  if (net.isIPv6(hostname)) return hostname === '::1';
  return false;
}

/**
 * The endpoint of `registry`. `insecure` lists registries (with their port, or the bare host
 * name for every port) that may be spoken to over plain HTTP.
 */
export function registryEndpoint(registry: string, insecure: readonly string[] = []): RegistryEndpoint {
  const host = API_HOST[registry] ?? registry;
  const hostname = hostnameOf(host);
  const plainAllowed = isLoopbackHost(hostname) || insecure.includes(registry) || insecure.includes(hostname);
  return { registry, origin: `https://${host}`, plainOrigin: plainAllowed ? `http://${host}` : undefined, hostname };
}
