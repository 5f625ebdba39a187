/**
 * Subnets of networks: parsing "a.b.c.d/n" (IPv4, /8 to /29), overlap with the other networks
 * of the data root and with the routes of the caller's network namespace (read from
 * /proc/net/route, which shows the namespace of the reading process), and picking a free one.
 */
import * as fs from 'node:fs';
import { SubnetError } from '../errors/errors';

export interface Subnet {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  text: string;
}

const SMALLEST_PREFIX = 8;
const LARGEST_PREFIX = 29;

function parseAddress(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatAddress(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.89.0.0/24": a network address with no host bits set, prefix /8 to /29. */
export function parseSubnet(text: unknown): Subnet {
  if (typeof text !== 'string') throw new SubnetError(`subnet: expected "a.b.c.d/n", got ${typeof text}`);
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  const base = match ? parseAddress(match[1]) : undefined;
  if (!match || base === undefined) throw new SubnetError(`subnet: expected an IPv4 subnet "a.b.c.d/n", got ${JSON.stringify(text)}`, text);
  const prefix = Number(match[2]);
  if (prefix < SMALLEST_PREFIX || prefix > LARGEST_PREFIX) {
    throw new SubnetError(`subnet ${text}: expected a prefix from /${SMALLEST_PREFIX} to /${LARGEST_PREFIX}`, text);
  }
  if ((base & ~mask(prefix)) >>> 0 !== 0) {
    throw new SubnetError(`subnet ${text}: host bits are set; did you mean ${formatAddress((base & mask(prefix)) >>> 0)}/${prefix}?`, text);
  }
  return { base, prefix, text };
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(prefix)) >>> 0) === ((b.base & mask(prefix)) >>> 0);
}

/** The first host address: the bridge's (the gateway). */
export function gatewayOf(subnet: Subnet): string {
  return formatAddress(subnet.base + 1);
}

/**
 * The IPv4 routes of this process's network namespace, except default routes (which cover
 * everything and say nothing about which subnets are in use).
 */
export function hostRoutes(): Subnet[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  const routes: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    // Little-endian hex, as the kernel prints them.
    const destination = Buffer.from(fields[1], 'hex').readUInt32LE(0);
    const netmask = Buffer.from(fields[7], 'hex').readUInt32LE(0);
    const prefix = 32 - countZeroBits(netmask);
    if (prefix === 0) continue;
    const base = (destination & mask(prefix)) >>> 0;
    routes.push({ base, prefix, text: `${formatAddress(base)}/${prefix} (${fields[0]})` });
  }
  return routes;
}

function countZeroBits(value: number): number {
  let zeros = 0;
  for (let bit = 0; bit < 32; bit++) if (((value >>> bit) & 1) === 0) zeros++;
  return zeros;
}

/** A subnet that overlaps no other network and no route: SubnetError naming what it meets. */
export function checkFree(subnet: Subnet, networks: { name: string; subnet: string }[], routes: Subnet[]): void {
  for (const network of networks) {
    if (overlaps(subnet, parseSubnet(network.subnet))) {
      throw new SubnetError(`subnet ${subnet.text} overlaps network ${network.name} (${network.subnet})`, subnet.text);
    }
  }
  for (const route of routes) {
    if (overlaps(subnet, route)) throw new SubnetError(`subnet ${subnet.text} overlaps the host route ${route.text}`, subnet.text);
  }
}

/**
 * The first free /24 of 10.89.0.0/16 through 10.255.0.0/16 (podman's default pool starts at
 * 10.89 too): neither another network of the data root nor a route of this namespace.
 */
export function pickSubnet(networks: { name: string; subnet: string }[], routes: Subnet[]): Subnet {
  const taken = [...networks.map((n) => parseSubnet(n.subnet)), ...routes];
  for (let second = 89; second <= 255; second++) {
    for (let third = 0; third <= 255; third++) {
      const candidate = { base: ((10 << 24) | (second << 16) | (third << 8)) >>> 0, prefix: 24, text: `10.${second}.${third}.0/24` };
      if (!taken.some((t) => overlaps(candidate, t))) return candidate;
    }
  }
  throw new SubnetError('no free /24 subnet left in 10.89.0.0-10.255.255.0: name one with { subnet }');
}
