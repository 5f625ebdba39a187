/**
 * Network definitions on disk: one CNI conflist per network under <dataRoot>/networks/, with
 * ts-container's own facts under its "ts-container" key (CNI ignores keys it does not know).
 * Every change happens under the flock of <dataRoot>/networks/.lock, so that two processes
 * never pick the same subnet or name; readers need no lock (files are replaced by rename).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveDataRoot, verifyDataRoot } from '../images/data-root';
import { withFileLock } from '../images/file-lock';
import { networkConflist, type NetworkConflist } from './cni/conflist';

/** ts-container's own fields of a network, kept in its conflist. */
export interface NetworkDefinition {
  name: string;
  /** "10.89.0.0/24" */
  subnet: string;
  /** The bridge's address in the subnet, the containers' default route. */
  gateway: string;
  /** No outbound NAT and no default route. */
  internal: boolean;
  /** The bridge's interface name (at most 15 characters). */
  bridge: string;
  /** The iptables chain that keeps this network's traffic off every other network's bridge. */
  isolationChain: string;
  /** ISO time. */
  created: string;
  /** The MTU of the bridge and the containers' interfaces; absent: the plugin's default, 1500. */
  mtu?: number;
}

/** A letter or digit first, then letters, digits, '_', '.', '-': a file name and a hosts entry. */
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export function isNetworkName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name);
}

export function networksDir(dataRoot: string): string {
  return path.join(dataRoot, 'networks');
}

/** The host-local IPAM plugin's dataDir: ts-container's own, never the shared /var/lib/cni. */
export function ipamDir(dataRoot: string): string {
  return path.join(dataRoot, 'cni', 'ipam');
}

function conflistPath(dataRoot: string, name: string): string {
  return path.join(networksDir(dataRoot), `${name}.conflist`);
}

/** The network's own directory: its attachment records. */
export function networkDir(dataRoot: string, name: string): string {
  return path.join(networksDir(dataRoot), name);
}

/** The data root of a Network call, checked, and its networks/ directory made. */
export function networkDataRoot(dataRoot?: unknown): string {
  const root = resolveDataRoot(dataRoot);
  verifyDataRoot(root, true);
  fs.mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  return root;
}

/** Runs `fn` holding the networks lock of the data root. */
export function withNetworksLock<T>(dataRoot: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(networksDir(dataRoot), '.lock'), fn);
}

export function readConflist(dataRoot: string, name: string): NetworkConflist | undefined {
  if (!isNetworkName(name)) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(conflistPath(dataRoot, name), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as NetworkConflist;
}

export function readDefinition(dataRoot: string, name: string): NetworkDefinition | undefined {
  return readConflist(dataRoot, name)?.['ts-container'];
}

export function listDefinitions(dataRoot: string): NetworkDefinition[] {
  let names: string[];
  try {
    names = fs.readdirSync(networksDir(dataRoot));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: NetworkDefinition[] = [];
  for (const file of names.sort()) {
    if (!file.endsWith('.conflist')) continue;
    const definition = readDefinition(dataRoot, file.slice(0, -'.conflist'.length));
    if (definition) found.push(definition);
  }
  return found;
}

/** Writes the conflist whole (temp file, then rename): a reader sees the old or the new one. */
export function writeDefinition(dataRoot: string, definition: NetworkDefinition): void {
  const file = conflistPath(dataRoot, definition.name);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(networkConflist(definition, ipamDir(dataRoot)), null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
  fs.mkdirSync(path.join(networkDir(dataRoot, definition.name), 'attachments'), { recursive: true, mode: 0o700 });
}

export function removeDefinition(dataRoot: string, name: string): void {
  fs.rmSync(conflistPath(dataRoot, name), { force: true });
  fs.rmSync(networkDir(dataRoot, name), { recursive: true, force: true });
  // host-local keeps one directory per network name.
  fs.rmSync(path.join(ipamDir(dataRoot), name), { recursive: true, force: true });
}
