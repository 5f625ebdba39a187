/**
 * What the plan says of a container's networks. The helper mounts its own /etc/hosts and
 * /etc/resolv.conf (hosts-file.ts), bound over the rootfs's (or made where the rootfs has
 * none); a mount the user asked for at the same path wins. A detached container's monitor
 * gets the attachment records and namespace pins: it runs DEL, and DEL+ADD around restarts.
 */
import type { ContainerConfig } from '../options/validate';
import type { PlanEntry } from '../protocol/generated/plan';
import { resolveFiles } from './hosts-file';
import { attachmentPaths } from './attachment-record';
import { netnsFile } from './netns-pin';
import { networksDir } from './network-store';
import { networkAttachment } from '../options/namespace-sharing';

export function networkMountEntries(config: ContainerConfig): PlanEntry[] {
  if (!networkAttachment(config.network)) return [];
  const files = resolveFiles(config.dataRoot, config.id);
  const entries: PlanEntry[] = [];
  for (const [target, source] of [['/etc/hosts', files.hosts], ['/etc/resolv.conf', files.resolvConf]] as const) {
    if (config.mounts.some((m) => m.target === target)) continue;
    entries.push(['mount', 'bind'], ['mount.target', target], ['mount.readonly', false], ['mount.source', source], ['mount.recursive', false]);
  }
  return entries;
}

/**
 * Called for a detached container only. Whatever its own network, net.connect() may add
 * attachments later: its monitor finds them under the networks directory at each restart.
 */
export function networkMonitorEntries(config: ContainerConfig): PlanEntry[] {
  const entries: PlanEntry[] = [['network.dir', networksDir(config.dataRoot)], ['network.container', config.id]];
  const network = networkAttachment(config.network);
  if (!network) return entries;
  return [
    ...entries,
    ['network.attachment', attachmentPaths(config.dataRoot, network.name, config.id).record],
    ['network.netns', netnsFile(config.dataRoot, config.id)],
  ];
}
