/**
 * Crash cleanup, run (under the networks lock) by the next network operation of any process:
 * an attachment record whose flock nobody holds lost its owner (a maker or monitor killed
 * with -9, a machine that went down), unless it was connect()ed and its owner (the
 * container's main process, or a detached container's monitor) still lives
 * (attachment-record.ts isOrphaned). Its CNI DEL runs with the stored result as prevResult,
 * which releases what the plugins made for it: the IPAM reservation (host-local), the
 * firewall and portmap rules, the veth when its namespace still exists (else the kernel
 * removed it with the namespace). Then its files go, and the hosts files of the others are
 * rewritten. Resolve directories without any record (a crash between the two) go too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import { removeForwardChainIfEmpty } from './bridge';
import { attachedIds, attachmentPaths, isOrphaned, networksOf, removeAttachmentFiles } from './attachment-record';
import { refreshHosts, removeResolveFiles } from './hosts-file';
import { listDefinitions, networksDir } from './network-store';
import { attachmentNetns, unpinNetns } from './netns-pin';

export interface SweepReport {
  /** "network/container" of every attachment released. */
  released: string[];
}

export async function sweepNetworks(dataRoot: string): Promise<SweepReport> {
  const released: string[] = [];
  const live = new Set<string>();
  const changed: string[] = [];
  const definitions = listDefinitions(dataRoot);
  // Without networks here, an empty TSC-FORWARD is a leftover (checked only then: an exec).
  if (definitions.length === 0) await removeForwardChainIfEmpty();
  for (const { name } of definitions) {
    for (const id of attachedIds(dataRoot, name)) {
      const { record } = attachmentPaths(dataRoot, name, id);
      if (!isOrphaned(dataRoot, name, id)) {
        live.add(id);
        continue;
      }
      // Whatever DEL says, the record goes: a plugin that cannot release it now never will.
      await native().cniRun(record, 'DEL', attachmentNetns(dataRoot, name, id));
      removeAttachmentFiles(dataRoot, name, id);
      await unpinNetns(dataRoot, id, name);
      // The pin goes with the container's last record: another network's DEL still needs it.
      if (networksOf(dataRoot, id).length === 0) await unpinNetns(dataRoot, id);
      released.push(`${name}/${id}`);
      if (!changed.includes(name)) changed.push(name);
    }
  }
  let resolveIds: string[] = [];
  try {
    resolveIds = fs.readdirSync(path.join(networksDir(dataRoot), 'resolve'));
  } catch {
    // none yet
  }
  for (const id of resolveIds) if (!live.has(id)) removeResolveFiles(dataRoot, id);
  if (changed.length > 0) refreshHosts(dataRoot, changed);
  return { released };
}
