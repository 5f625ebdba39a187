/**
 * c.networks(), c.checkNetworks() and the published ports, for a container made by any process: its attachments
 * are found on disk (a record under each network it is on), its interfaces read from the
 * stored CNI results, and CHECK run in its current network namespace.
 */
import * as fs from 'node:fs';
import { native } from '../native/binding';
import { ContainerStoppedError } from '../errors/errors';
import { attachmentPaths, networksOf, readMember, type Member } from './attachment-record';
import { cniError, parseResult, type NetworkInterfaceInfo } from './cni/result';
import { pinnedNetns } from './netns-pin';

/** One entry per interface, from the CNI results; [] for a container on no network. */
export function containerNetworks(dataRoot: string, id: string): NetworkInterfaceInfo[] {
  const found: NetworkInterfaceInfo[] = [];
  for (const name of networksOf(dataRoot, id)) {
    const member = readMember(dataRoot, name, id);
    let result: string;
    try {
      result = fs.readFileSync(attachmentPaths(dataRoot, name, id).result, 'utf8');
    } catch {
      continue; // ADD has not finished
    }
    found.push(parseResult(name, member?.ifname ?? 'eth0', member?.aliases ?? [], result));
  }
  return found;
}

/**
 * CNI CHECK of every attachment, in the namespace ADD ran in (its pin: the plugins compare it
 * with the result's sandbox): resolves, or rejects with CniPluginError.
 */
export async function checkContainerNetworks(dataRoot: string, id: string, pid: number | undefined): Promise<void> {
  const netns = pinnedNetns(dataRoot, id);
  if (!pid || !netns) throw new ContainerStoppedError(id, 'checkNetworks');
  for (const name of networksOf(dataRoot, id)) {
    const outcome = await native().cniRun(attachmentPaths(dataRoot, name, id).record, 'CHECK', netns);
    if (!outcome.ok) throw cniError(outcome, 'CHECK');
  }
}

export type PublishedPort = NonNullable<Member['ports']>[number];

/** The ports published for container `id` (`ts-container port`), as its attachments recorded them. */
export function publishedPorts(dataRoot: string, id: string): PublishedPort[] {
  return networksOf(dataRoot, id).flatMap((name) => readMember(dataRoot, name, id)?.ports ?? []);
}
