/**
 * Networks that span containers: a Linux bridge wired by the CNI plugins, defined once in the
 * data root (network-store.ts) and visible to every process. A container joins one with the
 * `network` option (attach.ts); the bridge itself is made in the network namespace of
 * whoever uses it first there (bridge.ts).
 */
import { ContainerStoppedError, NetworkExistsError, NetworkInUseError, NetworkNotFoundError } from '../errors/errors';
import type { Container } from '../container/container';
import { connect, disconnect } from './attach';
import { fail } from '../options/option-error';
import { attachedIds, attachmentPaths, isOrphaned, networksOf, removeAttachmentFiles } from './attachment-record';
import { bridgeNames, ensureNetworkHere, removeNetworkHere } from './bridge';
import {
  isNetworkName,
  listDefinitions,
  networkDataRoot,
  readDefinition,
  removeDefinition,
  withNetworksLock,
  writeDefinition,
  type NetworkDefinition,
} from './network-store';
import { checkFree, gatewayOf, hostRoutes, parseSubnet, pickSubnet } from './subnet-allocator';
import { native } from '../native/binding';
import { refreshHosts, removeResolveFiles } from './hosts-file';
import { sweepNetworks } from './sweep';
import { attachmentNetns, unpinNetns } from './netns-pin';
import { processStartTime } from '../state/process-identity';
import { observe } from '../state/observe';
import { ContainerDirectory } from '../state/container-directory';

export interface NetworkDataRootOptions {
  /** Default: $TS_CONTAINER_DATA_ROOT, else /var/lib/ts-container (root) or the user's data home. */
  dataRoot?: string;
}

export interface NetworkCreateOptions extends NetworkDataRootOptions {
  name: string;
  /** IPv4, /8 to /29; default: the first free /24 from 10.89.0.0/24 on. */
  subnet?: string;
  /** No outbound NAT and no default route: members reach each other only. Default false. */
  internal?: boolean;
  /**
   * The MTU of the bridge and the members' interfaces, 576 to 65535; default 1500, as docker's
   * and podman's. A larger one speeds traffic between members (65520: as fast as loopback).
   */
  mtu?: number;
}

export class Network {
  readonly name: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  /** The bridge's interface name. */
  readonly bridge: string;
  /** The interfaces' MTU. */
  readonly mtu: number;
  /** Ids of the containers attached when this object was read. */
  readonly containers: string[];
  readonly #dataRoot: string;

  private constructor(dataRoot: string, definition: NetworkDefinition) {
    this.#dataRoot = dataRoot;
    this.name = definition.name;
    this.subnet = definition.subnet;
    this.gateway = definition.gateway;
    this.internal = definition.internal;
    this.bridge = definition.bridge;
    this.mtu = definition.mtu ?? 1500;
    this.containers = attachedIds(dataRoot, definition.name);
  }

  /** Defines the network and makes its bridge in the caller's network namespace. */
  static async create(options: NetworkCreateOptions): Promise<Network> {
    if (typeof options !== 'object' || options === null) fail('options', 'expected { name, subnet?, internal? }');
    const { name, internal = false } = options;
    if (!isNetworkName(name)) fail('name', `expected a network name (letters, digits, '_', '.', '-'; at most 64), got ${JSON.stringify(name)}`);
    if (typeof internal !== 'boolean') fail('internal', 'expected a boolean');
    const { mtu } = options;
    if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) fail('mtu', `expected an integer 576-65535, got ${JSON.stringify(mtu)}`);
    if (name === 'none' || name === 'host') fail('name', `"${name}" is a network mode, not a name to define`);
    const dataRoot = networkDataRoot(options.dataRoot);
    const requested = options.subnet === undefined ? undefined : parseSubnet(options.subnet);
    return withNetworksLock(dataRoot, async () => {
      await sweepNetworks(dataRoot);
      if (readDefinition(dataRoot, name)) throw new NetworkExistsError(name);
      const others = listDefinitions(dataRoot);
      // Routes of our own bridges are networks already compared by subnet.
      const routes = hostRoutes().filter((r) => !others.some((o) => r.text.endsWith(`(${o.bridge})`)));
      if (requested) checkFree(requested, others, routes);
      const subnet = requested ?? pickSubnet(others, routes);
      const definition: NetworkDefinition = {
        name,
        subnet: subnet.text,
        gateway: gatewayOf(subnet),
        internal,
        ...bridgeNames(dataRoot, name),
        created: new Date().toISOString(),
        ...(mtu !== undefined && { mtu }),
      };
      writeDefinition(dataRoot, definition);
      try {
        await ensureNetworkHere(definition);
      } catch (error) {
        await removeNetworkHere(definition);
        removeDefinition(dataRoot, name);
        throw error;
      }
      return new Network(dataRoot, definition);
    });
  }

  /** Every network of the data root. */
  static async list(options?: NetworkDataRootOptions): Promise<Network[]> {
    const dataRoot = networkDataRoot(options?.dataRoot);
    return listDefinitions(dataRoot).map((d) => new Network(dataRoot, d));
  }

  static async get(name: string, options?: NetworkDataRootOptions): Promise<Network> {
    const dataRoot = networkDataRoot(options?.dataRoot);
    const definition = isNetworkName(name) ? readDefinition(dataRoot, name) : undefined;
    if (!definition) throw new NetworkNotFoundError(String(name));
    return new Network(dataRoot, definition);
  }

  /**
   * Deletes the definition, the bridge and isolation chain (here) and the IPAM data. Refused
   * while containers are attached (NetworkInUseError), unless `force`: they are detached first.
   */
  async remove(options?: { force?: boolean }): Promise<void> {
    const dataRoot = this.#dataRoot;
    await withNetworksLock(dataRoot, async () => {
      await sweepNetworks(dataRoot);
      const definition = readDefinition(dataRoot, this.name);
      if (!definition) throw new NetworkNotFoundError(this.name);
      const attached = attachedIds(dataRoot, this.name);
      if (attached.length > 0 && !options?.force) throw new NetworkInUseError(this.name, attached);
      for (const id of attached) {
        const { record } = attachmentPaths(dataRoot, this.name, id);
        // Still owned: its DEL is run here (its owner's later DEL finds nothing to do).
        if (!isOrphaned(dataRoot, this.name, id)) await native().cniRun(record, 'DEL', attachmentNetns(dataRoot, this.name, id));
        removeAttachmentFiles(dataRoot, this.name, id);
        await unpinNetns(dataRoot, id, this.name);
        if (networksOf(dataRoot, id).length === 0) {
          await unpinNetns(dataRoot, id);
          removeResolveFiles(dataRoot, id);
        }
      }
      await removeNetworkHere(definition);
      removeDefinition(dataRoot, this.name);
      refreshHosts(dataRoot, []);
    });
  }

  /**
   * A running container joins this network too (one more interface, ethN); the members
   * resolve it by id, hostname and `aliases`. NetworkExistsError when it is on it already.
   * The attachment lives as long as the container's main process, whoever connected it.
   */
  async connect(container: Container, options?: { aliases?: string[] }): Promise<void> {
    const aliases = options?.aliases ?? [];
    if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string' || !isNetworkName(a))) fail('aliases', 'expected an array of host names');
    const { pid, detached } = await container.state();
    const startTime = pid ? processStartTime(pid) : undefined;
    if (!pid || !startTime) throw new ContainerStoppedError(container.id, 'connect');
    // A detached container's monitor outlives its restarts (each a new main process) and adds
    // the attachment back after each: it owns it until the container stops for good.
    const monitor = detached ? observe(new ContainerDirectory(container.config.lifecycle.stateRoot, container.id)).monitor : undefined;
    await connect(this.#dataRoot, this.name, container.id, container.config.hostname, { pid, startTime }, aliases, monitor);
  }

  /** The container leaves this network: CNI DEL, and the members stop resolving it. */
  async disconnect(container: Container): Promise<void> {
    await disconnect(this.#dataRoot, this.name, container.id);
  }

  /** The definition as JSON (inspect). */
  toJSON(): Record<string, unknown> {
    return { name: this.name, subnet: this.subnet, gateway: this.gateway, internal: this.internal, bridge: this.bridge, mtu: this.mtu, containers: this.containers };
  }
}
