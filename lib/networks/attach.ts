/**
 * A container joins its network through the create transaction's hooks (create-hooks.ts):
 *   beforeNamespaces  the network is looked up (NetworkNotFoundError), what crashes left is
 *                     swept, the bridge made here when missing, the attachment record written
 *                     and locked, the container's /etc/hosts and resolv.conf made;
 *   afterNamespaces   CNI ADD into the new namespace (the program still waits at its start
 *                     gate), the member's address recorded, every member's hosts file rewritten;
 *   stopped           CNI DEL, the record removed, the others' hosts files rewritten.
 * A failure at any point is undone by the transaction: DEL, files removed, nothing left.
 * A detached container's monitor gets the record's lock fd; Node lets go of its copy.
 */
import * as fs from 'node:fs';
import type { ContainerContext } from '../container/context';
import { registerCreateHook } from '../container/create-hooks';
import type { ContainerConfig } from '../options/validate';
import { native } from '../native/binding';
import { NetworkExistsError, NetworkNotFoundError, SubnetError } from '../errors/errors';
import { attachmentPaths, networksOf, removeAttachmentFiles, writeMember, writeRecord, type Member } from './attachment-record';
import { ensureNetworkHere } from './bridge';
import { cniError, parseResult, type NetworkInterfaceInfo } from './cni/result';
import { makeResolveFiles, refreshHosts, removeResolveFiles } from './hosts-file';
import { networkDataRoot, readConflist, withNetworksLock } from './network-store';
import { sweepNetworks } from './sweep';
import { holdPorts, type HeldPort } from './host-ports';
import { pauseForTest } from '../state/test-hook';
import { attachmentNetns, pinNetns, unpinNetns } from './netns-pin';
import { networkAttachment } from '../options/namespace-sharing';

interface Attachment {
  dataRoot: string;
  network: string;
  member: Member;
  /** The record's fd, holding its flock; -1 once handed to a monitor or released. */
  lockFd: number;
  /** The published ports' host sockets, while this process holds them. */
  ports: HeldPort[];
  info?: NetworkInterfaceInfo;
  released?: Promise<void>;
}

const attachments = new WeakMap<ContainerContext, Attachment[]>();
/** Every attachment this process holds, by container id: disconnect() and release at stop find them. */
const byId = new Map<string, Attachment[]>();

function remember(id: string, attachment: Attachment): void {
  byId.set(id, [...(byId.get(id) ?? []), attachment]);
}

/** The interfaces of a container this process attached: c.networks(). */
export function attachmentsOf(context: ContainerContext): readonly Attachment[] {
  return attachments.get(context) ?? [];
}

/** A failed ADD as a typed error: an exhausted subnet is the network's, anything else the plugin's. */
function addError(dataRoot: string, network: string, outcome: Parameters<typeof cniError>[0]): Error {
  const error = cniError(outcome, 'ADD');
  if (!/no IP addresses available/i.test(error.msg)) return error;
  const subnet = readConflist(dataRoot, network)?.['ts-container'].subnet;
  return new SubnetError(`network ${network} has no free address left in ${subnet ?? 'its subnet'}`, subnet);
}

function namesOf(config: ContainerConfig, aliases: string[]): string[] {
  return [...new Set([config.id, config.hostname, ...aliases])];
}

/** Runs DEL and removes what the attachment made; the hosts files of the others follow. Idempotent. */
export function release(attachment: Attachment): Promise<void> {
  attachment.released ??= (async () => {
    const { dataRoot, network, member } = attachment;
    pauseForTest('network-deleting');
    const record = attachmentPaths(dataRoot, network, member.id).record;
    // Gone: a forced remove() of the network already ran its DEL.
    const outcome = fs.existsSync(record) ? await native().cniRun(record, 'DEL', attachmentNetns(dataRoot, network, member.id)) : undefined;
    await Promise.all(attachment.ports.splice(0).map((p) => p.close()));
    await withNetworksLock(dataRoot, async () => {
      removeAttachmentFiles(dataRoot, network, member.id);
      await unpinNetns(dataRoot, member.id, network);
      if (attachment.lockFd >= 0) fs.closeSync(attachment.lockFd);
      attachment.lockFd = -1;
      // The pin and the resolve files go with the container's last network.
      if (networksOf(dataRoot, member.id).length === 0) {
        await unpinNetns(dataRoot, member.id);
        removeResolveFiles(dataRoot, member.id);
      }
      refreshHosts(dataRoot, [network]);
    });
    const listed = byId.get(member.id)?.filter((a) => a !== attachment) ?? [];
    if (listed.length > 0) byId.set(member.id, listed);
    else byId.delete(member.id);
    if (outcome && !outcome.ok) throw cniError(outcome, 'DEL');
  })();
  return attachment.released;
}

registerCreateHook('beforeNamespaces', async ({ context, config, undo, ownerFds }) => {
  const wanted = networkAttachment(config.network);
  if (!wanted) return;
  const dataRoot = networkDataRoot(config.dataRoot);
  const member: Member = { id: config.id, names: namesOf(config, wanted.aliases), aliases: wanted.aliases, ifname: 'eth0', ports: config.ports };
  await withNetworksLock(dataRoot, async () => {
    await sweepNetworks(dataRoot);
    const conflist = readConflist(dataRoot, wanted.name);
    if (!conflist) throw new NetworkNotFoundError(wanted.name);
    // First: a port taken fails the spawn before anything else is made.
    const ports = await holdPorts(config.ports);
    try {
      await ensureNetworkHere(conflist['ts-container']);
    } catch (error) {
      await Promise.all(ports.map((p) => p.close()));
      throw error;
    }
    const cniPorts = config.ports.map((p) => ({
      hostPort: p.host,
      containerPort: p.container,
      protocol: p.protocol,
      ...(p.hostIp === '0.0.0.0' ? {} : { hostIP: p.hostIp }),
    }));
    let lockFd: number;
    try {
      lockFd = writeRecord(dataRoot, conflist, config.id, member.ifname, cniPorts);
    } catch (error) {
      await Promise.all(ports.map((p) => p.close()));
      throw error;
    }
    const attachment: Attachment = { dataRoot, network: wanted.name, member, lockFd, ports };
    attachments.set(context, [attachment]);
    remember(config.id, attachment);
    undo.push(() => release(attachment));
    for (const port of ports) ownerFds?.push(port.fd);
    writeMember(dataRoot, wanted.name, member);
    makeResolveFiles(dataRoot, member);
    ownerFds?.push(lockFd);
    pauseForTest('network-recorded');
  });
});

registerCreateHook('afterNamespaces', async ({ context, config, pid }) => {
  for (const attachment of attachmentsOf(context)) {
    const { dataRoot, network, member } = attachment;
    const netns = await pinNetns(dataRoot, member.id, pid as number);
    const outcome = await native().cniRun(attachmentPaths(dataRoot, network, member.id).record, 'ADD', netns);
    if (!outcome.ok) throw addError(dataRoot, network, outcome);
    pauseForTest('network-added');
    attachment.info = parseResult(network, member.ifname, member.aliases, outcome.result);
    member.address = attachment.info.addresses[0]?.split('/')[0];
    await withNetworksLock(dataRoot, async () => {
      writeMember(dataRoot, network, member);
      refreshHosts(dataRoot, [network]);
    });
    // The monitor holds its own copies of the lock and the ports from now on.
    if (config.lifecycle.detach && attachment.lockFd >= 0) {
      fs.closeSync(attachment.lockFd);
      attachment.lockFd = -1;
      await Promise.all(attachment.ports.splice(0).map((p) => p.close()));
    }
  }
});

registerCreateHook('stopped', async ({ context }) => {
  const config = context.config;
  const own = attachmentsOf(context);
  // Attachments this process connect()ed, holding their records' locks.
  const connected = (byId.get(config.id) ?? []).filter((a) => !own.includes(a));
  if (!networkAttachment(config.network) && connected.length === 0) return;
  if (config.lifecycle.detach) {
    // Its monitor ran DEL when it stopped for good and is gone (destroy() waited for it): its
    // record, unlocked now, is swept here, and the other members' hosts files rewritten.
    // What this process connected goes first (its DEL, in the namespace still pinned for it).
    await Promise.all(connected.map((a) => release(a)));
    const dataRoot = networkDataRoot(config.dataRoot);
    await withNetworksLock(dataRoot, () => sweepNetworks(dataRoot));
    return;
  }
  await Promise.all([...new Set([...attachmentsOf(context), ...(byId.get(config.id) ?? [])])].map((a) => release(a)));
  // Attachments connect()ed by another process are the container's: its main process is
  // gone now, so the sweep releases them.
  const dataRoot = networkDataRoot(config.dataRoot);
  if (networksOf(dataRoot, config.id).length > 0) await withNetworksLock(dataRoot, () => sweepNetworks(dataRoot));
});

/**
 * net.connect(): a running container joins one more network, as interface ethN of its
 * namespace; the members resolve it by id, hostname and aliases. Its own /etc/hosts is the
 * one it started with (only a container that started on a network has one kept current).
 * The attachment is the container's, whichever process connected it (a short-lived CLI
 * too): its main process (`owner`, by pid and start time) keeps it owned, or for a detached
 * container its `monitor`, which adds it back in the new namespace of each restart. DEL runs
 * at disconnect(), when the container stops in this process's hands, or by the next sweep
 * once that owner is gone (its stop, its destroy).
 */
export async function connect(
  dataRoot: string,
  network: string,
  id: string,
  hostname: string,
  main: { pid: number; startTime: string },
  aliases: string[],
  monitor?: { pid: number; startTime: string },
): Promise<void> {
  const { pid } = main;
  const owner = monitor ?? main;
  await withNetworksLock(dataRoot, async () => {
    await sweepNetworks(dataRoot);
    const conflist = readConflist(dataRoot, network);
    if (!conflist) throw new NetworkNotFoundError(network);
    const on = networksOf(dataRoot, id);
    if (on.includes(network)) throw new NetworkExistsError(network, `container ${id} is already on network ${network}`);
    await ensureNetworkHere(conflist['ts-container']);
    const member: Member = { id, names: [...new Set([id, hostname, ...aliases])], aliases, ifname: `eth${on.length}`, owner };
    const lockFd = writeRecord(dataRoot, conflist, id, member.ifname, []);
    const attachment: Attachment = { dataRoot, network, member, lockFd, ports: [] };
    remember(id, attachment);
    try {
      const netns = await pinNetns(dataRoot, id, pid, network);
      const outcome = await native().cniRun(attachmentPaths(dataRoot, network, id).record, 'ADD', netns);
      if (!outcome.ok) throw addError(dataRoot, network, outcome);
      attachment.info = parseResult(network, member.ifname, aliases, outcome.result);
      member.address = attachment.info.addresses[0]?.split('/')[0];
      writeMember(dataRoot, network, member);
      refreshHosts(dataRoot, [network]);
    } catch (error) {
      // Released outside the lock held here: release() takes it.
      setImmediate(() => void release(attachment).catch(() => undefined));
      throw error;
    }
  });
}

/** net.disconnect(): DEL of the container's attachment to `network`, whoever holds it. */
export async function disconnect(dataRoot: string, network: string, id: string): Promise<void> {
  const held = byId.get(id)?.find((a) => a.network === network && a.dataRoot === dataRoot);
  if (held) return release(held);
  const { record } = attachmentPaths(dataRoot, network, id);
  if (!fs.existsSync(record)) throw new NetworkNotFoundError(network, `container ${id} is not on network ${network}`);
  // Held by another process (or nobody): its DEL is run here; the holder's later one finds no record.
  const stranger: Attachment = { dataRoot, network, member: { id, names: [], aliases: [], ifname: '' }, lockFd: -1, ports: [] };
  return release(stranger);
}
