/**
 * A container: one main process isolated by namespaces, mounts, capabilities
 * and its own cgroup, more processes exec'd into it, and nothing left once it
 * is destroyed. The setup itself runs in the native helper (native/helper/main.cc).
 *
 * Every container has a state directory in the state root (lib/state), so that any
 * process can list it, find it with Container.get() and manage it. A detached container
 * outlives its maker: the helper stays outside it as its monitor.
 *
 * This class is the public facade: each operation lives in its own module (create.ts,
 * start.ts, exec.ts, kill.ts, stop.ts, delete.ts, attach.ts, resources.ts, inspect.ts), all
 * working on one ContainerContext (context.ts); status.ts holds the rules of what each
 * operation needs.
 */
import type { ContainerOptions, ExitStatus, ProcessOptions, ResourceOptions, StdioOption } from '../options/types';
import type { ContainerConfig } from '../options/validate';
import type { ContainerProcess } from '../process/container-process';
import type { StderrOf, StdinOf, StdoutOf, TtyOption } from '../process/stdio-types';
import type { CgroupStats } from '../cgroups/stats';
import { resolveStateRoot } from '../state/state-root';
import type { ContainerListEntry, ContainerState, LogOptions, LogRecord, StateRootOptions, StopOptions } from '../state/types';
import { ContainerContext } from './context';
import { ContainerPool, type PoolOptions } from './pool';
import { spawnMain } from './create';
import { start } from './start';
import { exec } from './exec';
import { kill } from './kill';
import { stop } from './stop';
import { destroy, remove } from './delete';
import { attachedContext, list, restore } from './attach';
import { pause, processes, resume, stats, update } from './resources';
import { logs, state } from './inspect';
import { commit, type CommitOptions } from './commit';
import { copyIn, copyOut, copyOutTo, type CopyInSource } from './copy';
import type { Readable } from 'node:stream';
import type { Image } from '../images/image-store';
import { exitWithoutMain } from './status';
import { checkContainerNetworks, containerNetworks } from '../networks/container-networks';
import type { NetworkInterfaceInfo } from '../networks/cni/result';
import { EventEmitter } from 'node:events';
import { ContainerHealthSource } from '../health/container-health';
import type { ContainerHealth } from '../health/health-state';
import { waitFor, type WaitForCondition } from '../health/wait-for';
import '../polyfills';
// The network hooks of the create transaction (registered on import).
import '../networks/attach';
// The named volumes' hook (made on first use, their use recorded).
import '../volumes/mount-hook';

/** The context behind a handle, for the CLI's own steps (keep-stopped.ts); not exported by lib/index.ts. */
export let contextOf: (container: Container) => ContainerContext;

export interface Container {
  /** 'health': the health status changed (see health()). */
  on(event: 'health', listener: (health: ContainerHealth) => void): this;
  once(event: 'health', listener: (health: ContainerHealth) => void): this;
  off(event: 'health', listener: (health: ContainerHealth) => void): this;
  emit(event: 'health', health: ContainerHealth): boolean;
}

export class Container extends EventEmitter {
  readonly id: string;
  readonly #context: ContainerContext;
  readonly #health: ContainerHealthSource;
  static {
    contextOf = (container) => container.#context;
  }
  /** Set only while get() or restore() wraps a context they made: the constructor takes it. */
  static #adopting: ContainerContext | undefined;

  constructor(options?: ContainerOptions) {
    super();
    const adopted = Container.#adopting;
    Container.#adopting = undefined;
    this.#context = adopted ?? new ContainerContext(options);
    this.id = this.#context.id;
    this.#health = new ContainerHealthSource(this.#context, (health) => this.emit('health', health));
    // Checks that run elsewhere (a monitor, another process) are followed while someone listens.
    super.on('newListener', (event: string | symbol) => {
      if (event === 'health') this.#health.watch(true);
    });
    super.on('removeListener', (event: string | symbol) => {
      if (event === 'health' && this.listenerCount('health') === 0) this.#health.watch(false);
    });
  }

  static #around(context: ContainerContext): Container {
    Container.#adopting = context;
    return new Container();
  }

  /** The normalized configuration (defaults filled in). */
  get config(): Readonly<ContainerConfig> {
    return this.#context.config;
  }

  /** Every container in the state root, made by any process, with its status read from the kernel. */
  /**
   * A warm pool: `size` containers of these options made ahead (default 4), each given its
   * program by one pool.spawn() and never reused. `await pool.close()` (or `await using`)
   * destroys those still waiting.
   */
  static pool(options?: PoolOptions): ContainerPool {
    return new ContainerPool(options);
  }

  static async list(options?: StateRootOptions): Promise<ContainerListEntry[]> {
    return list(options);
  }

  /**
   * A container of the state root, made by any process: exec, kill, stop, wait, stats,
   * pause, logs, state and destroy work on it as on one made here.
   */
  static async get(id: string, options?: StateRootOptions): Promise<Container> {
    return Container.#around(attachedContext(resolveStateRoot(options?.stateRoot), id));
  }

  /**
   * Makes a stopped (or lost: after a crash or reboot) container again from the config it
   * was made with, and starts it. Its state directory, logs, cgroups and writable layer start afresh.
   */
  static async restore(id: string, options?: StateRootOptions): Promise<Container> {
    return Container.#around(await restore(id, options));
  }

  /**
   * Deletes a container by id, as get(id).destroy() does. With force, one whose state files
   * cannot be read goes too: what its run record still names (monitor, main process) is
   * killed, its cgroups are found by its name and ended, and its directory removed; and one
   * whose state directory is gone (deleted by hand) is still found and ended by its cgroups' name.
   */
  static async remove(id: string, options?: StateRootOptions & { force?: boolean }): Promise<void> {
    return remove(id, options);
  }

  /**
   * Starts the container's main process: PID 1 of its PID namespace (or the child of a tiny init).
   * Its streams are typed by `stdio` and `tty` as Node's spawn() types them: `stdout` is a
   * Readable for 'pipe' (the default), null for 'inherit' or 'ignore'. Two container options
   * apply at run time that these types cannot see: without a `tty` option here the container's
   * `tty` applies, and then `stderr` is null (give spawn() `tty` as well to have the types say
   * so); a detached container's output goes to its log, and all three are null.
   */
  spawn<const S extends StdioOption | undefined = undefined, const T extends TtyOption = undefined>(
    argv?: readonly string[],
    options?: ProcessOptions & { stdio?: S; tty?: T },
  ): ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>> {
    const main = spawnMain(this.#context, argv, options, false);
    this.#health.follow(main, false);
    return main as ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>>;
  }

  /**
   * Makes everything (namespaces, mounts, cgroups, the process itself) and leaves the
   * program waiting to be started by start(), from this process or any other. Resolves
   * with the main process once it waits; rejects as spawn() would fail.
   */
  async create<const S extends StdioOption | undefined = undefined, const T extends TtyOption = undefined>(
    argv?: readonly string[],
    options?: ProcessOptions & { stdio?: S; tty?: T },
  ): Promise<ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>>> {
    const main = spawnMain(this.#context, argv, options, true);
    this.#health.follow(main, true);
    await main.started;
    return main as ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>>;
  }

  /** Lets a created container's program run. */
  async start(): Promise<void> {
    await start(this.#context);
    this.#health.started();
  }

  /**
   * The result of its health checks (the `healthcheck` option or its image's): 'none' without
   * a check, 'starting' until one passes or `retries` fail in a row, then 'healthy' or
   * 'unhealthy', with the last five results. Each change is also a 'health' event.
   */
  async health(): Promise<ContainerHealth> {
    return this.#health.health();
  }

  /**
   * Resolves once the condition holds: a line of its log matches, a port listens inside its
   * network namespace, an HTTP GET from inside that namespace answers, or it is healthy.
   * Rejects with WaitForTimeoutError after `timeout` ms (default 60000), or with
   * ContainerStoppedError when the container stops first.
   */
  async waitFor(condition: WaitForCondition): Promise<void> {
    return waitFor(this, this.#context, condition);
  }

  /**
   * Runs another process inside the running container: its namespaces, cgroup, user, capabilities.
   * Its streams are typed by `stdio` and `tty` as for spawn() (no terminal unless `tty` is given).
   */
  exec<const S extends StdioOption | undefined = undefined, const T extends TtyOption = undefined>(
    argv: readonly string[],
    options?: ProcessOptions & { stdio?: S; tty?: T },
  ): ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>> {
    return exec(this.#context, argv, options) as ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>>;
  }

  /** The main process's exit status, with the container's usage report. */
  async wait(): Promise<ExitStatus> {
    const main = this.#context.main;
    return main ? main.wait() : exitWithoutMain(this.#context);
  }

  /**
   * Sends a signal (default SIGKILL, as `docker kill`) to every process in the container's
   * cgroup. Like a stop, it keeps the restart policy from starting the container again.
   */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    return kill(this.#context, signal);
  }

  /**
   * Stops the container as `docker stop` does: the signal (SIGTERM) to its main process,
   * then SIGKILL to all of it after `timeout` seconds. No restart follows.
   */
  async stop(options?: StopOptions): Promise<void> {
    return stop(this.#context, options);
  }

  /** The OCI state, read now from the kernel and the state directory. */
  async state(): Promise<ContainerState> {
    return state(this.#context);
  }

  /**
   * The container's output as { stream, time, data } records: a detached container's as its
   * monitor logged it; another's as Node read it from its main process's 'pipe' stdout and
   * stderr (or terminal), kept up to log.maxSize x log.maxFiles bytes. `since` (Date or epoch ms)
   * and `tail` (last N lines) select; with follow, what comes later too, until the container
   * has stopped for good. Throws ContainerLogsError when the output never passed through Node
   * ('inherit', 'ignore', an fd).
   */
  logs(options?: LogOptions): AsyncIterable<LogRecord> {
    return logs(this.#context, options);
  }

  /**
   * Copies into the container (created, running or paused; or stopped, when its rootfs is a
   * plain directory), as docker cp does. A Buffer or string is the contents of the file
   * `containerPath` (made owned by root, mode 0644; its directory must exist); a Readable is a
   * tar stream extracted under the existing directory `containerPath`; `{ hostPath }` copies a
   * host file or directory (recursively, symlinks as themselves, owned by the container's root)
   * into `containerPath` when that is a directory, else as it ("SRC/." copies SRC's contents).
   * Paths in the container are resolved inside its root, as the container sees them; a symlink
   * never leads out of it. Rejects with ContainerCopyError (code: the errno's name, or ECONTAINERCOPY).
   */
  async copyIn(source: CopyInSource, containerPath: string): Promise<void> {
    return copyIn(this.#context, source, containerPath);
  }

  /**
   * Copies out of the container, as docker cp does: without `hostPath`, resolves to a tar stream of
   * `containerPath` under its own name (a directory with all below it; "DIR/." its contents; a
   * symlink as itself); with `hostPath`, writes it there (into it when it is a directory, else as it).
   * Read the stream to its end or destroy it: the walk that fills it waits until it is read.
   */
  copyOut(containerPath: string): Promise<Readable>;
  copyOut(containerPath: string, hostPath: string): Promise<void>;
  async copyOut(containerPath: string, hostPath?: string): Promise<Readable | void> {
    if (hostPath === undefined) return copyOut(this.#context, containerPath);
    return copyOutTo(this.#context, containerPath, hostPath);
  }

  /** The processes in the container's cgroup: host pids and command lines. */
  async processes(): Promise<{ pid: number; command: string }[]> {
    return processes(this.#context);
  }

  /** Live figures from the container's cgroup. */
  async stats(): Promise<CgroupStats> {
    return stats(this.#context);
  }

  /** Freezes every process of the container. */
  async pause(): Promise<void> {
    return pause(this.#context);
  }

  async resume(): Promise<void> {
    return resume(this.#context);
  }

  /**
   * The container's changes (its writable layer) as a new image over the one it came from,
   * stored under `reference` (an unqualified name becomes localhost/NAME:TAG). The container is
   * frozen while its layer is read unless `pause: false`.
   */
  async commit(reference: string, options?: CommitOptions): Promise<Image> {
    return commit(this.#context, reference, options);
  }

  /** Its interfaces on networks (the `network` option): addresses, mac, gateway, aliases, from the CNI results. */
  async networks(): Promise<NetworkInterfaceInfo[]> {
    return containerNetworks(this.#context.config.dataRoot, this.id);
  }

  /** CNI CHECK of its networks: resolves when the plugins find everything in place, else rejects (CniPluginError). */
  async checkNetworks(): Promise<void> {
    return checkContainerNetworks(this.#context.config.dataRoot, this.id, (await state(this.#context)).pid);
  }

  /** Changes limits of the running container; the fields are those of `resources`. */
  async update(resources: ResourceOptions): Promise<void> {
    return update(this.#context, resources);
  }

  /**
   * Kills whatever still runs, waits until every process is reaped, closes their stdio pipes
   * and removes the cgroup and the state directory. Idempotent.
   */
  async destroy(): Promise<void> {
    this.#health.end();
    return destroy(this.#context);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
