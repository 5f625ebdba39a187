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
import { NetworkNotFoundError } from '../errors/errors';
import { attachmentPaths, removeAttachmentFiles, writeMember, writeRecord, type Member } from './attachment-record';
import { ensureNetworkHere } from './bridge';
import { cniError, parseResult, type NetworkInterfaceInfo } from './cni/result';
import { makeResolveFiles, refreshHosts, removeResolveFiles } from './hosts-file';
import { networkDataRoot, readConflist, withNetworksLock } from './network-store';
import { sweepNetworks } from './sweep';
import { holdPorts, type HeldPort } from './host-ports';
import { pauseForTest } from '../state/test-hook';
import { pinNetns, pinnedNetns, unpinNetns } from './netns-pin';
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

/** The interfaces of a container this process attached: c.networks(). */
export function attachmentsOf(context: ContainerContext): readonly Attachment[] {
  return attachments.get(context) ?? [];
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
    const outcome = fs.existsSync(record) ? await native().cniRun(record, 'DEL', pinnedNetns(dataRoot, member.id)) : undefined;
    await unpinNetns(dataRoot, member.id);
    await Promise.all(attachment.ports.splice(0).map((p) => p.close()));
    await withNetworksLock(dataRoot, async () => {
      removeAttachmentFiles(dataRoot, network, member.id);
      removeResolveFiles(dataRoot, member.id);
      if (attachment.lockFd >= 0) fs.closeSync(attachment.lockFd);
      attachment.lockFd = -1;
      refreshHosts(dataRoot, [network]);
    });
    if (outcome && !outcome.ok) throw cniError(outcome, 'DEL');
  })();
  return attachment.released;
}

registerCreateHook('beforeNamespaces', async ({ context, config, undo, ownerFds }) => {
  const wanted = networkAttachment(config.network);
  if (!wanted) return;
  const dataRoot = networkDataRoot(config.dataRoot);
  const member: Member = { id: config.id, names: namesOf(config, wanted.aliases), aliases: wanted.aliases, ifname: 'eth0' };
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
    if (!outcome.ok) throw cniError(outcome, 'ADD');
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
  if (!networkAttachment(config.network)) return;
  if (config.lifecycle.detach) {
    // Its monitor ran DEL when it stopped for good and is gone (destroy() waited for it): its
    // record, unlocked now, is swept here, and the other members' hosts files rewritten.
    const dataRoot = networkDataRoot(config.dataRoot);
    await withNetworksLock(dataRoot, () => sweepNetworks(dataRoot));
    return;
  }
  await Promise.all(attachmentsOf(context).map((a) => release(a)));
});
