/**
 * The plan's mounts for a container on a network: its own /etc/hosts and /etc/resolv.conf
 * (hosts-file.ts), bound over the rootfs's (or made where the rootfs has none). A mount the
 * user asked for at the same path wins: theirs is kept and ours left out.
 */
import type { ContainerConfig } from '../options/validate';
import type { PlanEntry } from '../protocol/generated/plan';
import { resolveFiles } from './hosts-file';
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
