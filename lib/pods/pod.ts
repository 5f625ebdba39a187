/**
 * Pods: several containers sharing one network, uts and ipc namespace, as a Kubernetes pod or
 * a podman pod. A pod is a record in the data root (pod-store.ts) and a pause container whose
 * process holds the namespaces (pause.ts); `new Container({ pod })` joins them, so members
 * reach each other on localhost and share the pod's hostname (its name).
 *
 *   await using pod = await Pod.create({ name: 'svc' });
 *   const db = new Container({ pod, rootfs });
 *
 * Every operation first sweeps what a crash left: a pod whose maker died before its pause
 * container ran, or whose pause process is gone (killed), is removed with its pause container.
 */
import { randomBytes } from 'node:crypto';
import { Container } from '../container/container';
import { PodExistsError, PodInUseError, PodNotFoundError } from '../errors/errors';
import { resolveDataRoot } from '../images/data-root';
import { fail } from '../options/option-error';
import { POD_NAME_PATTERN } from '../options/namespace-sharing';
import { resolveStateRoot } from '../state/state-root';
import { isSameProcess, processStartTime } from '../state/process-identity';
import { pauseForTest } from '../state/test-hook';
import { livePause, runningMembers } from './membership';
import { removePause, startPause } from './pause';
import { PodStore, type PodRecord } from './pod-store';

export interface PodOptions {
  /** The pod's name: a DNS label, unique in its data root; its members' hostname. */
  name: string;
  /** The network the pod is attached to (its pause container is); default none: only lo. */
  network?: string;
  /** Ports published to the pod (to whichever member listens on them); needs `network`. */
  ports?: unknown[];
  /** Where the pod is kept; default as for images ($TS_CONTAINER_DATA_ROOT, /var/lib/ts-container). */
  dataRoot?: string;
  /** The state root of the pause container; default as for containers. */
  stateRoot?: string;
  /** The cgroup parent of the pause container; default as for containers. */
  cgroupParent?: string;
}

export interface PodLookupOptions {
  dataRoot?: string;
}

export interface PodRemoveOptions {
  /** Also kill and remove the containers of the pod that run; without it they make remove fail. */
  force?: boolean;
}

const PAUSE_ID_PREFIX_MAX = 40;

export class Pod {
  readonly name: string;
  readonly dataRoot: string;
  /** When it was created. */
  readonly created: Date;
  /** The network it is attached to, or null for only lo. */
  readonly network: string | null;
  readonly ports: unknown[];
  /** The pause container's id and the state root that holds it. */
  readonly pause: { readonly id: string; readonly stateRoot: string };

  private constructor(record: PodRecord, dataRoot: string) {
    this.name = record.name;
    this.dataRoot = dataRoot;
    this.created = new Date(record.created);
    this.network = record.network;
    this.ports = record.ports;
    this.pause = { id: record.pause.id, stateRoot: record.pause.stateRoot };
  }

  /** Makes the pod and starts its pause container; a pod of that name already there is a PodExistsError. */
  static async create(options: PodOptions): Promise<Pod> {
    const { name, network, ports } = checkPodOptions(options);
    const dataRoot = resolveDataRoot(options.dataRoot);
    const stateRoot = resolveStateRoot(options.stateRoot);
    const store = PodStore.open(dataRoot, true) as PodStore;
    const record: PodRecord = {
      version: 1,
      name,
      created: new Date().toISOString(),
      phase: 'creating',
      pause: { id: `${name.slice(0, PAUSE_ID_PREFIX_MAX)}-pause-${randomBytes(6).toString('hex')}`, stateRoot },
      network,
      ports,
      maker: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
    };
    await store.withLock(async () => {
      await sweep(store);
      if (store.read(name)) throw new PodExistsError(name, dataRoot);
      store.write(record);
    });
    pauseForTest('pod-recorded');
    try {
      await startPause(record, dataRoot, options.cgroupParent);
    } catch (error) {
      await store.withLock(async () => store.remove(name));
      throw error;
    }
    pauseForTest('pod-pause-started');
    record.phase = 'ready';
    await store.withLock(async () => store.write(record));
    return new Pod(record, dataRoot);
  }

  /** Every pod of the data root, made by any process. */
  static async list(options?: PodLookupOptions): Promise<Pod[]> {
    const dataRoot = resolveDataRoot(options?.dataRoot);
    const store = PodStore.open(dataRoot, false);
    if (!store) return [];
    return store.withLock(async () => {
      await sweep(store);
      const pods: Pod[] = [];
      for (const name of store.names().sort()) {
        const record = store.read(name);
        if (record?.phase === 'ready') pods.push(new Pod(record, dataRoot));
      }
      return pods;
    });
  }

  /** The pod of that name; PodNotFoundError when there is none. */
  static async get(name: string, options?: PodLookupOptions): Promise<Pod> {
    const dataRoot = resolveDataRoot(options?.dataRoot);
    const store = PodStore.open(dataRoot, false);
    if (!store || typeof name !== 'string') throw new PodNotFoundError(String(name), dataRoot);
    return store.withLock(async () => {
      await sweep(store);
      const record = store.read(name);
      if (record?.phase !== 'ready') throw new PodNotFoundError(name, dataRoot);
      return new Pod(record, dataRoot);
    });
  }

  /** The ids of the pod's containers that run now. */
  async containers(): Promise<string[]> {
    const store = PodStore.open(this.dataRoot, false);
    if (!store) return [];
    return store.withLock(async () => {
      const record = this.#ownRecord(store);
      return record ? runningMembers(store, record).map((member) => member.id) : [];
    });
  }

  /**
   * Removes the pod and its pause container. Refused (PodInUseError) while containers of it
   * run, unless `force`, which kills and removes them first. A pod already removed is no error.
   */
  async remove(options?: PodRemoveOptions): Promise<void> {
    const store = PodStore.open(this.dataRoot, false);
    if (!store) return;
    await store.withLock(async () => {
      const record = this.#ownRecord(store);
      if (!record) return;
      const running = runningMembers(store, record);
      if (running.length > 0 && !options?.force) throw new PodInUseError(this.name, running.map((member) => member.id));
      for (const member of running) {
        await Container.remove(member.id, { stateRoot: member.stateRoot, force: true }).catch(() => undefined);
      }
      await removePause(record);
      store.remove(this.name);
    });
  }

  /** `await using pod`: removed at the end of the scope; refused while its containers run. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }

  /** This pod's record: not one made later under the same name. */
  #ownRecord(store: PodStore): PodRecord | undefined {
    const record = store.read(this.name);
    return record?.pause.id === this.pause.id ? record : undefined;
  }
}

function checkPodOptions(options: PodOptions): { name: string; network: string | null; ports: unknown[] } {
  if (typeof options !== 'object' || options === null) fail('options', 'expected { name }');
  const allowed = new Set(['name', 'network', 'ports', 'dataRoot', 'stateRoot', 'cgroupParent']);
  for (const key of Object.keys(options)) if (!allowed.has(key)) fail(key, `unknown option (expected one of ${[...allowed].join(', ')})`);
  const { name, network, ports } = options;
  if (typeof name !== 'string' || !POD_NAME_PATTERN.test(name)) {
    fail('name', `expected a pod name (1-63 letters, digits and '-', not at either end), got ${JSON.stringify(name)}`);
  }
  if (network !== undefined && (typeof network !== 'string' || network === '' || network === 'host')) {
    fail('network', "expected a network's name (or 'none'); a pod has a network namespace of its own");
  }
  if (ports !== undefined && !Array.isArray(ports)) fail('ports', 'expected an array of port mappings');
  const attached = network === undefined || network === 'none' ? null : network;
  if (ports !== undefined && ports.length > 0 && attached === null) fail('ports', 'published ports need a network: set network');
  return { name, network: attached, ports: ports ?? [] };
}

/**
 * Removes what a crash left, holding the store's lock: pods whose maker died before their
 * pause container ran, and pods whose pause process is gone; each with its pause container.
 */
async function sweep(store: PodStore): Promise<void> {
  for (const name of store.names()) {
    const record = store.read(name);
    if (!record) continue;
    if (record.phase === 'creating' ? isSameProcess(record.maker.pid, record.maker.startTime) : livePause(record)) continue;
    await removePause(record).catch(() => undefined);
    store.remove(name);
  }
}
