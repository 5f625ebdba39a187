/**
 * A network's presence in one network namespace (the caller's: wherever Network.create() or a
 * container's attach runs): its bridge, up, with the gateway address, and its isolation chain.
 *
 * The CNI plugins do not keep bridges apart: with forwarding on, a container reaches every
 * other bridge's subnet through the host. So each network gets one chain, jumped to from
 * ts-container's TSC-FORWARD chain (first in FORWARD) for traffic coming from its bridge: out
 * of its own bridge is returned, into any other ts-container bridge ("tsc+") is dropped. Then
 * TSC-FORWARD accepts the network's traffic even where the host's FORWARD policy drops it
 * (what the firewall plugin did with two rules per container, each an iptables exec at ADD
 * and at DEL): what comes from its bridge, and replies going into it.
 *
 * Outbound NAT is per network too (not the bridge plugin's ipMasq, which makes a chain and
 * four rules per container, each an iptables exec at ADD and at DEL: most of a bridge spawn's
 * added time): one nat chain, jumped to from POSTROUTING for the network's subnet, that
 * masquerades what leaves the subnet (multicast excepted). An internal network has none.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { iptables, mustRun, runCommand } from './host-commands';
import type { NetworkDefinition } from './network-store';

/** Every ts-container bridge's name starts so: the isolation rules match them all by it. */
export const BRIDGE_PREFIX = 'tsc';
/** Where networks made before TSC-FORWARD (with the firewall plugin) jumped to their chain. */
const ADMIN_CHAIN = 'CNI-ADMIN';
const FORWARD_CHAIN = 'TSC-FORWARD';

/** Names unique per data root and network, short enough for an interface (15) and a chain (28). */
export function bridgeNames(dataRoot: string, name: string): { bridge: string; isolationChain: string } {
  const hash = crypto.createHash('sha256').update(`${dataRoot}\0${name}`).digest('hex').slice(0, 10);
  return { bridge: `${BRIDGE_PREFIX}${hash}`, isolationChain: `TSC-ISO-${hash}` };
}

/** From /proc/net/dev, which shows the reader's network namespace (a /sys mounted elsewhere may not). */
function bridgeExists(bridge: string): boolean {
  return fs.readFileSync('/proc/net/dev', 'utf8').split('\n').some((line) => line.trimStart().startsWith(`${bridge}:`));
}

/**
 * Bridges this process found complete (bridge and chain) in a namespace: "<netns inode>:<bridge>".
 * The chain goes with the bridge (removeNetworkHere), so while the bridge is there it is too,
 * and the iptables check (an exec) is skipped.
 */
const ensured = new Set<string>();

function namespaceKey(bridge: string): string {
  return `${fs.statSync('/proc/self/ns/net').ino}:${bridge}`;
}

/** Makes the bridge and isolation chain here when missing (first use in this namespace). */
export async function ensureNetworkHere(definition: NetworkDefinition): Promise<void> {
  const { bridge, isolationChain } = definition;
  const key = namespaceKey(bridge);
  if (ensured.has(key) && bridgeExists(bridge)) return;
  ensured.delete(key);
  if (!bridgeExists(bridge)) {
    const added = await runCommand('ip', ['link', 'add', bridge, 'type', 'bridge']);
    if (!added.ok && !bridgeExists(bridge)) throw new Error(`ip link add ${bridge}: ${added.stderr.trim()}`);
    const prefix = definition.subnet.split('/')[1];
    const address = await runCommand('ip', ['addr', 'add', `${definition.gateway}/${prefix}`, 'dev', bridge]);
    if (!address.ok && !/File exists/.test(address.stderr)) throw new Error(`ip addr add ${definition.gateway}/${prefix} dev ${bridge}: ${address.stderr.trim()}`);
    await mustRun('ip', ['link', 'set', bridge, 'up']);
  }
  await ensureIsolation(bridge, isolationChain);
  if (!definition.internal) await ensureMasquerade(definition.subnet, masqueradeChain(isolationChain));
  ensured.add(key);
}

/** The network's nat chain, named after its isolation chain (the definition names only that). */
export function masqueradeChain(isolationChain: string): string {
  return isolationChain.replace(/^TSC-ISO-/, 'TSC-MASQ-');
}

async function ensureMasquerade(subnet: string, chain: string): Promise<void> {
  const jump = ['POSTROUTING', '-s', subnet, '-j', chain];
  if ((await iptables('-t', 'nat', '-C', ...jump)).ok) return;
  await iptables('-t', 'nat', '-N', chain);
  await mustRun('iptables', ['-w', '-t', 'nat', '-F', chain]);
  await mustRun('iptables', ['-w', '-t', 'nat', '-A', chain, '-d', subnet, '-j', 'RETURN']);
  await mustRun('iptables', ['-w', '-t', 'nat', '-A', chain, '!', '-d', '224.0.0.0/4', '-j', 'MASQUERADE']);
  if (!(await iptables('-t', 'nat', '-C', ...jump)).ok) await mustRun('iptables', ['-w', '-t', 'nat', '-A', ...jump]);
}

/** The network's rules in TSC-FORWARD, in order: isolation first, then its accepts. */
function forwardRules(bridge: string, chain: string): string[][] {
  return [
    ['-i', bridge, '-j', chain],
    ['-i', bridge, '-j', 'ACCEPT'],
    ['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
  ];
}

async function ensureIsolation(bridge: string, chain: string): Promise<void> {
  const rules = forwardRules(bridge, chain);
  if ((await iptables('-C', FORWARD_CHAIN, ...rules[rules.length - 1])).ok) return;
  // Any may exist already (another network, another process racing us).
  await iptables('-N', FORWARD_CHAIN);
  if (!(await iptables('-C', 'FORWARD', '-j', FORWARD_CHAIN)).ok) await mustRun('iptables', ['-w', '-I', 'FORWARD', '1', '-j', FORWARD_CHAIN]);
  await iptables('-N', chain);
  await mustRun('iptables', ['-w', '-F', chain]);
  await mustRun('iptables', ['-w', '-A', chain, '-o', bridge, '-j', 'RETURN']);
  await mustRun('iptables', ['-w', '-A', chain, '-o', `${BRIDGE_PREFIX}+`, '-j', 'DROP']);
  for (const rule of rules) {
    if (!(await iptables('-C', FORWARD_CHAIN, ...rule)).ok) await mustRun('iptables', ['-w', '-A', FORWARD_CHAIN, ...rule]);
  }
}

/** Removes the bridge and the isolation chain from this namespace; what is missing is skipped. */
export async function removeNetworkHere(definition: { bridge: string; isolationChain: string; subnet: string }): Promise<void> {
  const { bridge, isolationChain, subnet } = definition;
  ensured.delete(namespaceKey(bridge));
  for (const rule of forwardRules(bridge, isolationChain)) {
    while ((await iptables('-D', FORWARD_CHAIN, ...rule)).ok) {
      // a racing ensure may have added it twice
    }
  }
  while ((await iptables('-D', ADMIN_CHAIN, '-i', bridge, '-j', isolationChain)).ok) {
    // as above
  }
  await iptables('-F', isolationChain);
  await iptables('-X', isolationChain);
  const masquerade = masqueradeChain(isolationChain);
  while ((await iptables('-t', 'nat', '-D', 'POSTROUTING', '-s', subnet, '-j', masquerade)).ok) {
    // as above
  }
  await iptables('-t', 'nat', '-F', masquerade);
  await iptables('-t', 'nat', '-X', masquerade);
  if (bridgeExists(bridge)) await runCommand('ip', ['link', 'del', bridge]);
  await removeForwardChainIfEmpty();
}

/**
 * TSC-FORWARD and its jump from FORWARD go once no network (of any data root) has a rule in
 * it here: after the last network's removal, or by the sweep of a data root without networks
 * (a process killed between the two steps).
 */
export async function removeForwardChainIfEmpty(): Promise<void> {
  const listed = await iptables('-S', FORWARD_CHAIN);
  if (!listed.ok || listed.stdout.split('\n').some((line) => line.startsWith('-A '))) return;
  while ((await iptables('-D', 'FORWARD', '-j', FORWARD_CHAIN)).ok) {
    // a racing ensure may have added it twice
  }
  // Refused when a network of another data root added its rules meanwhile: its jump goes back.
  if (!(await iptables('-X', FORWARD_CHAIN)).ok) await iptables('-I', 'FORWARD', '1', '-j', FORWARD_CHAIN);
}
