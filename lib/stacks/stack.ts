/**
 * A stack: containers of several services from one description (a compose file's subset,
 * description.ts), as `docker compose` runs them. up() makes the stack's networks and
 * volumes, then starts each service's container, detached (services run in the background),
 * in dependency order, each once its depends_on conditions hold. The containers carry the
 * project and service as annotations, so ps(), logs() and down() find them from any process:
 * a `compose up -d` and a later `compose down` need not share one.
 */
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as path from 'node:path';
import { Container } from '../container/container';
import { NetworkNotFoundError, StackDependencyError, StackFileError, VolumeNotFoundError } from '../errors/errors';
import { ImageStore } from '../images/image-store';
import { Network } from '../networks/network';
import type { ContainerOptions } from '../options/types';
import type { ContainerListEntry, ContainerStatus, LogOptions, LogRecord } from '../state/types';
import type { HealthStatus } from '../health/health-state';
import { Volume } from '../volumes/volume';
import { findComposeFile, readComposeFile } from './compose-file';
import type { StackDescription } from './description';
import { waitHealthy } from './health-wait';
import { mergeLogs } from './merge-logs';
import { normalizeStack, type NormalizedService, type NormalizedStack } from './normalize';

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * How the container's main process ended. wait() of a container found by id just as it exits
 * may say neither code nor signal (its monitor has not recorded them yet): its state is read
 * until it does.
 */
async function finalExit(container: Container, signal?: AbortSignal): Promise<{ exitCode: number | null; signal: string | null }> {
  const status = await container.wait();
  if (status.exitCode !== null || status.signal !== null) return status;
  for (;;) {
    const state = await container.state();
    if (state.status === 'stopped' && state.exitCode !== undefined) return { exitCode: state.exitCode, signal: state.signal ?? null };
    await sleep(50, undefined, { signal });
  }
}

/** The annotations that mark a stack's containers, as compose's labels do. */
export const PROJECT_ANNOTATION = 'com.docker.compose.project';
export const SERVICE_ANNOTATION = 'com.docker.compose.service';

export interface StackOptions {
  /** The project name (prefix of every container, network and volume); wins over the description's `name`. Default: the directory's name. */
  project?: string;
  /** Where relative bind sources start, and whose name is the default project name; default: the compose file's directory, else the working directory. */
  directory?: string;
  /** Data root of the images, networks and volumes; default as the container option. */
  dataRoot?: string;
  /** State root of the containers; default as the container option. */
  stateRoot?: string;
  /** The image store the services' images come from; default the data root's. */
  imageStore?: ImageStore | string;
  /** The cgroup the containers' cgroups are made in (the container option). */
  cgroupParent?: string;
}

export interface StackUpOptions {
  signal?: AbortSignal;
}

export interface StackDownOptions {
  /** Remove the stack's named volumes too (`down -v`); external volumes stay. */
  volumes?: boolean;
}

/** One container of the stack, as ps() lists it. */
export interface StackContainer {
  service: string;
  /** The container's id: `<project>-<service>-1`. */
  id: string;
  status: ContainerStatus | 'unknown';
  /** Its healthcheck's status, when it has one (the file's or its image's). */
  health?: Exclude<HealthStatus, 'none'>;
  exitCode?: number | null;
  /** The published ports of its service. */
  ports: { host: number; container: number; protocol: 'tcp' | 'udp'; hostIp?: string }[];
  image?: string;
}

/** A log record of one of the stack's containers. */
export interface StackLogRecord extends LogRecord {
  service: string;
  container: string;
}

export class Stack {
  /** The project name. */
  readonly project: string;
  /** The services in the order up() starts them. */
  readonly services: readonly string[];
  readonly #stack: NormalizedStack;
  readonly #options: StackOptions;
  static #file: string | undefined;

  /** Checks the description now: a bad one throws StackFileError naming its key, before anything is made. */
  constructor(description: StackDescription, options: StackOptions = {}) {
    // Set only while fromFile() constructs: its errors name the file.
    const file = Stack.#file;
    Stack.#file = undefined;
    this.#options = options;
    this.#stack = normalizeStack(description, { project: options.project, directory: path.resolve(options.directory ?? process.cwd()), file });
    this.project = this.#stack.project;
    this.services = this.#stack.services.map((s) => s.name);
  }

  /**
   * A compose file (or a directory holding compose.yaml, compose.yml, docker-compose.yml or
   * docker-compose.yaml). Relative paths in it start at its directory, whose name is the
   * default project name.
   */
  static fromFile(file: string, options: StackOptions = {}): Stack {
    const given = path.resolve(file);
    const composeFile = isDirectory(given) ? findComposeFile(given) : given;
    const raw = readComposeFile(composeFile);
    Stack.#file = composeFile;
    return new Stack(raw as StackDescription, { ...options, directory: options.directory ?? path.dirname(composeFile) });
  }

  /**
   * Makes the networks and volumes, then starts every service's container in dependency
   * order, each when its dependencies are started, healthy, or exited 0, as depends_on says.
   * A service already running is kept. Resolves when all are started; on a failure (an image
   * missing, a dependency that failed) what was started stays, for logs(): down() removes it.
   */
  async up(options: StackUpOptions = {}): Promise<void> {
    const stack = this.#stack;
    const store = this.#imageStore();
    // Every image first: a missing one fails before anything is made (images are never pulled here).
    const images = new Map<string, { entrypoint: string[] }>();
    for (const service of stack.services) {
      const image = await store.inspect(service.image);
      images.set(service.name, { entrypoint: image.config.Entrypoint ?? [] });
    }
    // External networks and volumes must exist: checked before any is made.
    for (const network of stack.networks.filter((n) => n.external)) await Network.get(network.name, { dataRoot: this.#options.dataRoot });
    for (const volume of stack.volumes.filter((v) => v.external)) await Volume.get(volume.name, { dataRoot: this.#options.dataRoot });
    await this.#makeNetworks();
    await this.#makeVolumes();
    const existing = await this.#containers();
    const containers = new Map<string, Container>();
    for (const service of stack.services) {
      options.signal?.throwIfAborted();
      for (const dependency of service.dependsOn) {
        await this.#dependencyMet(service, dependency, containers.get(dependency.service) as Container, options.signal);
      }
      const found = existing.find((e) => e.id === service.containerId);
      if (found && (found.status === 'running' || found.status === 'created')) {
        containers.set(service.name, await Container.get(found.id, { stateRoot: this.#options.stateRoot }));
        continue;
      }
      if (found) await Container.remove(found.id, { stateRoot: this.#options.stateRoot, force: true });
      containers.set(service.name, await this.#start(service, images.get(service.name)?.entrypoint ?? []));
    }
  }

  /**
   * Stops and deletes the stack's containers (dependents first), then removes its networks
   * and, with { volumes: true }, its named volumes. What was never made is skipped.
   */
  async down(options: StackDownOptions = {}): Promise<void> {
    const stack = this.#stack;
    for (const container of await this.#stopAll()) {
      await this.#disconnectExtra(container);
      await container.destroy();
    }
    for (const network of stack.networks) {
      if (network.external) continue;
      try {
        await (await Network.get(network.name, { dataRoot: this.#options.dataRoot })).remove();
      } catch (error) {
        if (!(error instanceof NetworkNotFoundError)) throw error;
      }
    }
    if (!options.volumes) return;
    for (const volume of stack.volumes) {
      if (volume.external) continue;
      try {
        await Volume.remove(volume.name, { dataRoot: this.#options.dataRoot });
      } catch (error) {
        if (!(error instanceof VolumeNotFoundError)) throw error;
      }
    }
  }

  /** Stops the stack's containers (dependents first), as docker stop does, and keeps them: up() starts them afresh. */
  async stop(): Promise<void> {
    await this.#stopAll();
  }

  /** Stops every container of the project, the reverse of the start order (others first); returns them all. */
  async #stopAll(): Promise<Container[]> {
    const stack = this.#stack;
    const byService = new Map(stack.services.map((s) => [s.name, s]));
    const order = (id: string): number => -stack.services.findIndex((s) => s.containerId === id);
    const stopped: Container[] = [];
    for (const entry of (await this.#containers()).sort((a, b) => order(a.id) - order(b.id))) {
      const service = byService.get(entry.annotations?.[SERVICE_ANNOTATION] ?? '');
      const container = await Container.get(entry.id, { stateRoot: this.#options.stateRoot });
      if (entry.status === 'running' || entry.status === 'paused' || entry.status === 'created') {
        await container.stop({ timeout: service?.stopTimeout ?? 10, ...(service?.stopSignal && { signal: service.stopSignal as NodeJS.Signals }) }).catch(() => undefined);
      }
      stopped.push(container);
    }
    return stopped;
  }

  /**
   * The networks up() connected the container to after its first: an attachment that this
   * process connected stays held by it until disconnected, whatever becomes of the container.
   */
  async #disconnectExtra(container: Container): Promise<void> {
    const service = this.#stack.services.find((s) => s.containerId === container.id);
    for (const extra of service?.networks.slice(1) ?? []) {
      const name = this.#stack.networks.find((n) => n.key === extra.key)?.name;
      if (name === undefined) continue;
      const network = await Network.get(name, { dataRoot: this.#options.dataRoot }).catch(() => undefined);
      await network?.disconnect(container).catch(() => undefined);
    }
  }

  /** The stack's containers, in start order, with their status (stopped ones too). */
  async ps(): Promise<StackContainer[]> {
    const found = await this.#containers();
    const rank = (id: string): number => {
      const i = this.#stack.services.findIndex((s) => s.containerId === id);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    return Promise.all(found.sort((a, b) => rank(a.id) - rank(b.id)).map(async (entry) => {
      const name = entry.annotations?.[SERVICE_ANNOTATION] ?? entry.id;
      const service = this.#stack.services.find((s) => s.name === name);
      const health = entry.error === undefined ? (await (await Container.get(entry.id, { stateRoot: this.#options.stateRoot })).health().catch(() => undefined))?.status : undefined;
      return {
        service: name,
        id: entry.id,
        status: entry.status,
        ...(health !== undefined && health !== 'none' && { health }),
        ...(entry.error === undefined && entry.exitCode !== undefined && { exitCode: entry.exitCode }),
        ports: (service?.ports ?? []).map((p) => ({ protocol: 'tcp' as const, ...p })),
        ...(service && { image: service.image }),
      };
    }));
  }

  /**
   * The output of every container of the stack, each record with its service; with follow,
   * what comes later too, until every container has stopped for good (or `signal` aborts).
   */
  async *logs(options: LogOptions = {}): AsyncGenerator<StackLogRecord> {
    const found = (await this.#containers()).filter((e) => e.error === undefined);
    const sources = await Promise.all(found.map(async (entry) => {
      const container = await Container.get(entry.id, { stateRoot: this.#options.stateRoot });
      const service = entry.annotations?.[SERVICE_ANNOTATION] ?? entry.id;
      return { iterable: container.logs(options), tag: { service, container: entry.id } };
    }));
    if (options.follow) {
      yield* mergeLogs(sources);
      return;
    }
    // Everything logged so far: in time order across the containers.
    const records: StackLogRecord[] = [];
    for await (const record of mergeLogs(sources)) records.push(record);
    yield* records.sort((a, b) => a.time.getTime() - b.time.getTime());
  }

  /** The stack's containers in the state root, found by their project annotation. */
  async #containers(): Promise<(ContainerListEntry & { annotations?: Record<string, string> })[]> {
    const all = await Container.list({ stateRoot: this.#options.stateRoot });
    const ids = new Set(this.#stack.services.map((s) => s.containerId));
    return all.filter((entry) => (entry.error === undefined ? entry.annotations[PROJECT_ANNOTATION] === this.project : ids.has(entry.id)));
  }

  #imageStore(): ImageStore {
    const given = this.#options.imageStore;
    if (given instanceof ImageStore) return given;
    return new ImageStore(given ?? { dataRoot: this.#options.dataRoot });
  }

  async #makeNetworks(): Promise<void> {
    const dataRoot = this.#options.dataRoot;
    for (const network of this.#stack.networks) {
      try {
        await Network.get(network.name, { dataRoot });
      } catch (error) {
        if (!(error instanceof NetworkNotFoundError) || network.external) throw error;
        await Network.create({ name: network.name, internal: network.internal, dataRoot });
      }
    }
  }

  async #makeVolumes(): Promise<void> {
    for (const volume of this.#stack.volumes) {
      if (!volume.external) await Volume.create(volume.name, { dataRoot: this.#options.dataRoot });
    }
  }

  async #dependencyMet(service: NormalizedService, dependency: NormalizedService['dependsOn'][number], container: Container, signal?: AbortSignal): Promise<void> {
    const { condition } = dependency;
    const failed = (why: string): StackDependencyError => new StackDependencyError(service.name, dependency.service, condition, why);
    if (condition === 'service_started') return;
    if (condition === 'service_completed_successfully') {
      const status = await finalExit(container, signal);
      if (status.exitCode !== 0) throw failed(status.exitCode === null ? `was killed by ${status.signal}` : `exited with ${status.exitCode}`);
      return;
    }
    const outcome = await waitHealthy(container, signal);
    if (!outcome.healthy) throw failed(outcome.why);
  }

  async #start(service: NormalizedService, imageEntrypoint: string[]): Promise<Container> {
    const networks = this.#stack.networks;
    const nameOf = (key: string): string => (networks.find((n) => n.key === key) as { name: string }).name;
    const [first, ...more] = service.networks;
    const options: ContainerOptions = {
      id: service.containerId,
      image: service.image,
      ...(this.#options.imageStore !== undefined && { imageStore: this.#options.imageStore }),
      ...(this.#options.dataRoot !== undefined && { dataRoot: this.#options.dataRoot }),
      ...(this.#options.stateRoot !== undefined && { stateRoot: this.#options.stateRoot }),
      ...(this.#options.cgroupParent !== undefined && { cgroupParent: this.#options.cgroupParent }),
      detach: true,
      network: { name: nameOf(first.key), aliases: first.aliases },
      ports: service.ports,
      mounts: service.mounts,
      env: service.environment,
      annotations: { [PROJECT_ANNOTATION]: this.project, [SERVICE_ANNOTATION]: service.name },
      ...(service.hostname !== undefined && { hostname: service.hostname }),
      ...(service.cwd !== undefined && { cwd: service.cwd }),
      ...(service.init !== undefined && { init: service.init }),
      ...(service.restart !== undefined && { restart: service.restart }),
      // Checked by the container's monitor; 'none' also switches off the image's.
      ...(service.healthcheck === 'none' && { healthcheck: { test: ['NONE'] } }),
      ...(service.healthcheck && service.healthcheck !== 'none' && { healthcheck: { ...service.healthcheck, test: ['CMD', ...service.healthcheck.test] } }),
    };
    // compose: `entrypoint` replaces the image's Entrypoint and drops its Cmd; `command` replaces the Cmd.
    const argv = service.entrypoint ? [...service.entrypoint, ...(service.command ?? [])] : service.command ? [...imageEntrypoint, ...service.command] : undefined;
    const container = new Container(options);
    const main = container.spawn(argv);
    await main.started;
    for (const extra of more) await (await Network.get(nameOf(extra.key), { dataRoot: this.#options.dataRoot })).connect(container, { aliases: extra.aliases });
    return container;
  }
}
