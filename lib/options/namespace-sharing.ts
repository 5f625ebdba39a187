/**
 * The options that make a container share namespaces it would otherwise get of its own:
 * `network: { container }` (another container's network namespace, docker's
 * --network container:ID) and `pod` (the network, uts and ipc namespaces of a pod's pause
 * process). Checked here, before anything is made; the namespaces themselves are looked up
 * at spawn (lib/container/shared-namespaces.ts), when the other container must be running.
 */
import type { ContainerOptions } from './types';
import { fail } from './option-error';
import { resolveDataRoot } from '../images/data-root';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A pod's name is the hostname of its members: a DNS label. */
export const POD_NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Another container whose network namespace this one joins; in `stateRoot`. */
export interface SharedNetwork {
  container: string;
  stateRoot: string;
}

/** The pod a container joins, by its name and the data root that keeps it. */
export interface PodMembership {
  name: string;
  dataRoot: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `network: { container }`: a Container (which says which state root holds it) or an id of
 * the joining container's own state root.
 */
export function checkSharedNetwork(value: Record<string, unknown>, stateRoot: string): SharedNetwork {
  for (const key of Object.keys(value)) {
    if (key !== 'container') fail(`network.${key}`, 'unknown option (expected container)');
  }
  const target = value.container;
  if (typeof target === 'string') {
    if (!ID_PATTERN.test(target)) fail('network.container', `expected a container id, got ${JSON.stringify(target)}`);
    return { container: target, stateRoot };
  }
  // A Container: its id, and the state root it lives in (read through its config).
  if (isObject(target) && typeof target.id === 'string' && ID_PATTERN.test(target.id)) {
    const config = (target as { config?: { lifecycle?: { stateRoot?: unknown } } }).config;
    const root = config?.lifecycle?.stateRoot;
    return { container: target.id, stateRoot: typeof root === 'string' ? root : stateRoot };
  }
  return fail('network.container', 'expected a Container or a container id');
}

/** `pod`: a Pod (or what config.json kept of one: its name and data root) or a pod's name. */
export function checkPod(options: ContainerOptions): PodMembership | null {
  const value: unknown = options.pod;
  if (value === undefined) return null;
  let membership: PodMembership;
  if (typeof value === 'string') {
    if (!POD_NAME_PATTERN.test(value)) fail('pod', `expected a pod name (letters, digits, '-'), got ${JSON.stringify(value)}`);
    membership = { name: value, dataRoot: resolveDataRoot(options.dataRoot) };
  } else if (isObject(value) && typeof value.name === 'string' && POD_NAME_PATTERN.test(value.name) && typeof value.dataRoot === 'string') {
    membership = { name: value.name, dataRoot: value.dataRoot };
  } else {
    return fail('pod', 'expected a Pod or a pod name');
  }
  if (options.network !== undefined) {
    fail('network', "a pod's members share its network namespace: leave network unset (Pod.create takes the network)");
  }
  if (options.hostname !== undefined) {
    fail('hostname', "a pod's members share its uts namespace, whose hostname is the pod's name: leave hostname unset");
  }
  return membership;
}

/** What config.json keeps of these options: ids and names, since objects do not survive JSON. */
export function savedSharing(options: ContainerOptions): Pick<ContainerOptions, 'network' | 'pod'> {
  const kept: Pick<ContainerOptions, 'network' | 'pod'> = {};
  const network = options.network as unknown;
  if (isObject(network) && isObject(network.container) && typeof network.container.id === 'string') {
    kept.network = { container: network.container.id };
  }
  const pod = options.pod as unknown;
  if (isObject(pod) && typeof pod.name === 'string') {
    kept.pod = { name: pod.name, dataRoot: pod.dataRoot } as unknown as ContainerOptions['pod'];
  }
  return kept;
}

export type SharedNamespaceName = 'net' | 'uts' | 'ipc';

/** The namespaces a container takes from another process instead of making its own. */
export function sharedNamespaceNames(config: { network: unknown; pod: PodMembership | null }): SharedNamespaceName[] {
  if (config.pod) return ['net', 'uts', 'ipc'];
  if (isObject(config.network) && 'container' in config.network) return ['net'];
  return [];
}

/**
 * The network a container is attached to (lib/networks: { name, aliases }), or null: none, the
 * host's, or another container's namespace ({ container }), which the networks leave alone.
 */
export function networkAttachment(network: unknown): { name: string; aliases: string[] } | null {
  return isObject(network) && typeof network.name === 'string' ? (network as { name: string; aliases: string[] }) : null;
}
