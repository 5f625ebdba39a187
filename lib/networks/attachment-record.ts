/**
 * A container's attachment to a network on disk, in <dataRoot>/networks/<name>/attachments/:
 *   <id>.attachment  the record of protocol/network-attachment.ts (plugin chain, ifname...),
 *                    read by native/common/cni_exec.cc; its flock is held by whoever owns the
 *                    container (this process, or the monitor of a detached one) for its life,
 *                    so a record whose lock can be taken belongs to nobody (the sweep's test);
 *   <id>.result      the last ADD's CNI result, written by cni_exec;
 *   <id>.member      what name resolution needs: names and address (JSON).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import { ATTACHMENT_FILES, serializeAttachment, type AttachmentKey } from '../protocol/generated/network-attachment';
import { cniPath, containerChain, type NetworkConflist, type CniPortMapping } from './cni/conflist';
import { listDefinitions, networkDir } from './network-store';
import { isLockFree } from '../state/lock-probe';
import { isSameProcess } from '../state/process-identity';

export interface Member {
  id: string;
  /** The names it answers to on this network: its id, hostname and aliases. */
  names: string[];
  aliases: string[];
  ifname: string;
  /** "10.89.0.2", once ADD said so. */
  address?: string;
  /**
   * A connect()ed attachment belongs to the container, not to the process that connected it:
   * its main process (a detached container's monitor, which outlives restarts), named by pid
   * and start time, keeps it owned while it lives.
   */
  owner?: { pid: number; startTime: string };
  /** The published ports, as `ts-container port` lists them. */
  ports?: { host: number; container: number; protocol: 'tcp' | 'udp'; hostIp: string }[];
}

export function attachmentsDir(dataRoot: string, network: string): string {
  return path.join(networkDir(dataRoot, network), 'attachments');
}

export function attachmentPaths(dataRoot: string, network: string, id: string): { record: string; result: string; member: string } {
  const base = path.join(attachmentsDir(dataRoot, network), id);
  return { record: base + ATTACHMENT_FILES.record, result: base + ATTACHMENT_FILES.result, member: `${base}.member` };
}

/** The ids with a record on the network. */
export function attachedIds(dataRoot: string, network: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(attachmentsDir(dataRoot, network));
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith(ATTACHMENT_FILES.record)).map((f) => f.slice(0, -ATTACHMENT_FILES.record.length)).sort();
}

/** The binaries a chain runs: each plugin and the IPAM plugin it calls. */
function chainBinaries(conflist: NetworkConflist, chain: { type: string }[]): string[] {
  const binaries = new Set(chain.map((p) => p.type));
  for (const plugin of conflist.plugins) {
    const ipam = plugin.ipam as { type?: string } | undefined;
    if (ipam?.type) binaries.add(ipam.type);
  }
  return [...binaries];
}

/**
 * Writes the record and takes its flock; returns the open fd (closing it releases the lock).
 * Made with O_EXCL: a second attachment of one container to one network is refused by the kernel.
 */
export function writeRecord(
  dataRoot: string,
  conflist: NetworkConflist,
  id: string,
  ifname: string,
  ports: CniPortMapping[],
): number {
  const { record } = attachmentPaths(dataRoot, conflist.name, id);
  fs.mkdirSync(path.dirname(record), { recursive: true, mode: 0o700 });
  const chain = containerChain(conflist, ports);
  const entries: [AttachmentKey, string][] = [
    ['version', '1'],
    ['network', conflist.name],
    ['container', id],
    ['ifname', ifname],
    ['cni_path', cniPath()],
  ];
  for (const binary of chainBinaries(conflist, chain)) entries.push(['binary', binary]);
  for (const plugin of chain) entries.push(['plugin', plugin.type], ['plugin.config', plugin.config]);
  const fd = fs.openSync(record, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    if (!native().tryLock(fd)) throw new Error(`internal: the new record ${record} is locked`);
    fs.writeSync(fd, serializeAttachment(entries));
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(record, { force: true });
    throw error;
  }
  return fd;
}

export function writeMember(dataRoot: string, network: string, member: Member): void {
  const file = attachmentPaths(dataRoot, network, member.id).member;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(member) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
}

/**
 * The member, its address as the last ADD gave it: a detached container's monitor runs ADD
 * again at each restart (native/monitor/networks.cc), which may give another address, and
 * writes only the result file, not this JSON.
 */
export function readMember(dataRoot: string, network: string, id: string): Member | undefined {
  const paths = attachmentPaths(dataRoot, network, id);
  let member: Member;
  try {
    member = JSON.parse(fs.readFileSync(paths.member, 'utf8')) as Member;
  } catch {
    return undefined;
  }
  try {
    const result = JSON.parse(fs.readFileSync(paths.result, 'utf8')) as { ips?: { address?: string }[] };
    const address = result.ips?.[0]?.address?.split('/')[0];
    if (address) member.address = address;
  } catch {
    // no ADD result (yet, or DEL removed it): the address recorded with the member
  }
  return member;
}

export function removeAttachmentFiles(dataRoot: string, network: string, id: string): void {
  const paths = attachmentPaths(dataRoot, network, id);
  // The record last: while it exists, the sweep can still find what the others describe.
  fs.rmSync(paths.member, { force: true });
  fs.rmSync(paths.result, { force: true });
  fs.rmSync(paths.record, { force: true });
}

/** True when nobody holds the record's lock: its owner (Node or monitor) is gone. */
export function isAbandoned(recordPath: string): boolean {
  try {
    return isLockFree(recordPath);
  } catch {
    return false;
  }
}

/**
 * True when nobody owns the attachment any more: its record's lock is free (its maker or
 * monitor is gone) and no live owner process is named in its member file (connect()).
 */
export function isOrphaned(dataRoot: string, network: string, id: string): boolean {
  if (!isAbandoned(attachmentPaths(dataRoot, network, id).record)) return false;
  const owner = readMember(dataRoot, network, id)?.owner;
  return !owner || !isSameProcess(owner.pid, owner.startTime);
}

/** The networks `id` has a record on. */
export function networksOf(dataRoot: string, id: string): string[] {
  return listDefinitions(dataRoot)
    .map((d) => d.name)
    .filter((name) => fs.existsSync(attachmentPaths(dataRoot, name, id).record));
}
