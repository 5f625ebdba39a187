/**
 * At spawn: the process whose namespaces a container shares instead of making them (the
 * container of `network: { container }`, a pod's pause process), looked up in the state root
 * now that it must run, and the plan entries that make the helper join them. The helper
 * joins through a pidfd it checks against the start time recorded here, so a process that
 * exits in between, or a pid used again, fails the spawn instead of joining a stranger.
 */
import { ContainerNotFoundError, ContainerStoppedError } from '../errors/errors';
import type { ContainerConfig } from '../options/validate';
import { networkAttachment, sharedNamespaceNames } from '../options/namespace-sharing';
import type { ContainerOptions } from '../options/types';
import { resolveDataRoot } from '../images/data-root';
import { joinPod, liveMainProcess, type LiveProcess } from '../pods/membership';
import { ContainerDirectory } from '../state/container-directory';
import type { Entry } from './plan';
import type { UndoList } from './undo-list';
import { networkMountEntries } from '../networks/plan-entries';

/**
 * A target on a network: the joiner shares its /etc/hosts and /etc/resolv.conf too (kept
 * current in place by lib/networks), so that it resolves the network's members as the target does.
 */
function targetResolveMounts(config: ContainerConfig, stateRoot: string, id: string): Entry[] {
  let options: ContainerOptions;
  try {
    options = new ContainerDirectory(stateRoot, id).readConfig().options;
  } catch {
    return [];
  }
  const named = typeof options.network === 'string' && options.network !== 'none' && options.network !== 'host';
  const network = named ? { name: options.network as string, aliases: [] } : networkAttachment(options.network);
  if (!network) return [];
  return networkMountEntries({ ...config, id, dataRoot: resolveDataRoot(options.dataRoot), network: { name: network.name, aliases: [] } });
}

function liveContainer(stateRoot: string, id: string): LiveProcess {
  const main = liveMainProcess(stateRoot, id);
  if (main) return main;
  if (!new ContainerDirectory(stateRoot, id).exists()) throw new ContainerNotFoundError(id, stateRoot);
  throw new ContainerStoppedError(id, 'share its network namespace');
}

/**
 * The share.* entries of the plan (none for a container that makes all its namespaces), and
 * when the namespace joined is on a network, the /etc/hosts and /etc/resolv.conf mounts of the
 * container attached to it (a pod's pause container, or the target of network: { container }).
 */
export async function sharedNamespaceEntries(id: string, config: ContainerConfig, undo: UndoList): Promise<Entry[]> {
  const names = sharedNamespaceNames(config);
  if (names.length === 0) return [];
  let target: LiveProcess;
  const mounts: Entry[] = [];
  if (config.pod) {
    const joined = await joinPod(config.pod, { id, stateRoot: config.lifecycle.stateRoot }, (action) => undo.push(action));
    target = joined.pause;
    // On a network, the members resolve names as the pause container does: through its own
    // /etc/hosts and /etc/resolv.conf, kept current by lib/networks.
    if (joined.record.network !== null) {
      const pause = { ...config, id: joined.record.pause.id, dataRoot: config.pod.dataRoot, network: { name: joined.record.network, aliases: [] } };
      mounts.push(...networkMountEntries(pause));
    }
  } else if (typeof config.network === 'object' && 'container' in config.network) {
    target = liveContainer(config.network.stateRoot, config.network.container);
    mounts.push(...targetResolveMounts(config, config.network.stateRoot, config.network.container));
  } else {
    return [];
  }
  return [['share.pid', target.pid], ['share.start_time', target.startTime], ...names.map((name): Entry => ['share', name]), ...mounts];
}
