/**
 * A container: one main process isolated by namespaces, mounts, capabilities
 * and its own cgroup, more processes exec'd into it, and nothing left once it
 * is destroyed. The setup itself runs in the native helper (cpp/helper_main.cc).
 */
import type { ContainerOptions, ExitStatus, ProcessOptions, ResourceOptions, Usage } from '../options/types';
import type { HelperReport, ProcessResources } from '../../types/native';
import { ContainerConfig, normalizeContainerOptions, normalizeProcessOptions } from '../options/validate';
import { ContainerSetupError, ContainerStateError, ContainerStoppedError, spawnError } from '../errors/errors';
import { helperPath, native } from '../native/binding';
import { ContainerProcess } from '../process/container-process';
import { checkStdio, resolveStdio } from '../process/stdio';
import { toSignalNumber } from '../process/signals';
import { killLiveProcessesOnExit } from '../process/live-processes';
import { processUsage } from '../process/usage';
import { ContainerCgroup, removeStaleCgroups } from '../cgroups/container-cgroup';
import { normalizeResources } from '../cgroups/resources';
import type { CgroupStats } from '../cgroups/stats';
import { execPlan, runPlan } from './plan';
import { prepareSeccomp, syscallName, type PreparedSeccomp } from './seccomp-setup';
import { serveSeccompListener } from '../seccomp-notify/listener';
import { setupHint } from './setup-hints';
import '../polyfills';

const ESRCH = 3;

/** Containers whose cgroups must go if Node exits before they are destroyed. */
const liveCgroups = new Set<ContainerCgroup>();
process.once('exit', () => {
  for (const cgroup of liveCgroups) {
    cgroup.signalAll(9);
    cgroup.removeNow();
  }
});

export class Container {
  readonly id: string;
  readonly #config: ContainerConfig;
  #main: ContainerProcess | undefined;
  readonly #execs = new Set<ContainerProcess>();
  /** Processes whose stdio may still be open; destroy() closes what is left. */
  readonly #withOpenStdio = new Set<ContainerProcess>();
  #cgroup: ContainerCgroup | undefined;
  #released: Promise<void> | undefined;
  #destroyed = false;
  readonly #seccomp: PreparedSeccomp | null;

  constructor(options?: ContainerOptions) {
    this.#config = normalizeContainerOptions(options);
    this.id = this.#config.id;
    // Compiled here (and cached by the compiler): a profile error is thrown now, not at spawn.
    this.#seccomp = prepareSeccomp(this.#config.seccomp, this.#config.capabilities);
    // Load the addon now: a missing build is reported here, not at spawn.
    native();
    killLiveProcessesOnExit();
  }

  /** The normalized configuration (defaults filled in). */
  get config(): Readonly<ContainerConfig> {
    return this.#config;
  }

  /** Starts the container's main process: PID 1 of its PID namespace (or the child of a tiny init). */
  spawn(argv: string[], options?: ProcessOptions): ContainerProcess {
    const { argv: args, process } = normalizeProcessOptions(argv, options, this.#config);
    checkStdio(options?.stdio);
    if (this.#destroyed) throw new ContainerStateError(`container ${this.id} has been destroyed`);
    if (this.#main) throw new ContainerStateError(`container ${this.id} already has a main process; use exec()`);
    const main = new ContainerProcess({
      argv: args,
      stdio: resolveStdio(options?.stdio),
      start: async (fds) => {
        const cgroup = this.#makeCgroup();
        const plan = runPlan(args, process, this.#config, cgroup.plan(), this.#seccomp);
        const report = await native().startHelper(helperPath(), plan, fds, -1, this.#seccompListener());
        if (!report.ok) await this.#releaseCgroup();
        return report;
      },
      reportError: (report) => this.#reportError(args, report),
      usage: (own, wallMs) => this.#containerUsage(own, wallMs),
      timeout: process.timeout,
      killSignal: process.killSignal,
      signal: process.signal,
    });
    this.#main = main;
    this.#trackStdio(main);
    main.once('spawn-failed', () => void this.#releaseCgroup());
    // PID 1's exit ends every process of the container: its cgroup goes then.
    main.once('exit', () => void this.#releaseWhenExecsExit());
    return main;
  }

  /** Runs another process inside the running container: its namespaces, cgroup, user, capabilities. */
  exec(argv: string[], options?: ProcessOptions): ContainerProcess {
    const { argv: args, process } = normalizeProcessOptions(argv, options, this.#config);
    checkStdio(options?.stdio);
    if (this.#destroyed) throw new ContainerStateError(`container ${this.id} has been destroyed`);
    const main = this.#main;
    if (!main) throw new ContainerStateError(`container ${this.id} has no main process yet; call spawn() first`);
    let oomKillsAtStart = 0;
    const child = new ContainerProcess({
      argv: args,
      stdio: resolveStdio(options?.stdio),
      start: async (fds) => {
        await main.started.catch(() => undefined);
        if (!main.running || !this.#cgroup) throw new ContainerStoppedError(this.id, 'exec');
        oomKillsAtStart = this.#oomKills();
        const plan = execPlan(args, process, this.#config, this.#cgroup.plan(), this.#seccomp, main.pid as number);
        return native().startHelper(helperPath(), plan, fds, main.pidfd, this.#seccompListener());
      },
      reportError: (report) =>
        (report.step === 'join namespaces' && report.errno === ESRCH) ||
        (report.step === "open the container's root" && !main.running)
          ? new ContainerStoppedError(this.id, 'exec')
          : this.#reportError(args, report),
      usage: (own, wallMs) => processUsage(own, wallMs, this.#oomKills() > oomKillsAtStart),
      timeout: process.timeout,
      killSignal: process.killSignal,
      signal: process.signal,
    });
    this.#execs.add(child);
    this.#trackStdio(child);
    child.once('exit', () => this.#execs.delete(child));
    child.once('spawn-failed', () => this.#execs.delete(child));
    return child;
  }

  /** The main process's exit status, with the container's usage report. */
  async wait(): Promise<ExitStatus> {
    if (!this.#main) throw new ContainerStateError(`container ${this.id} has no main process; call spawn() first`);
    return this.#main.wait();
  }

  /** Sends a signal (default SIGKILL, as `docker kill`) to every process in the container's cgroup. */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    const number = toSignalNumber(signal, 9);
    if (!this.#main?.running || !this.#cgroup) return this.#main ? this.#main.kill(number) : false;
    // The cgroup holds the main process too: one signal each, the main one included.
    this.#cgroup.signalAll(number);
    this.#main.killed = true;
    return true;
  }

  /** Live figures from the container's cgroup. */
  async stats(): Promise<CgroupStats> {
    return (await this.#runningCgroup('read stats of')).stats();
  }

  /** Freezes every process of the container. */
  async pause(): Promise<void> {
    await (await this.#runningCgroup('pause')).freeze();
  }

  async resume(): Promise<void> {
    await (await this.#runningCgroup('resume')).thaw();
  }

  /** Changes limits of the running container; the fields are those of `resources`. */
  async update(resources: ResourceOptions): Promise<void> {
    const normalized = normalizeResources(resources);
    if (!normalized) return;
    (await this.#runningCgroup('update')).update(normalized);
  }

  /**
   * Kills whatever still runs, waits until every process is reaped, closes their stdio pipes
   * and removes the cgroup. Idempotent.
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    this.#cgroup?.signalAll(9);
    const processes = [...(this.#main ? [this.#main] : []), ...this.#execs];
    await Promise.all(
      processes.map(async (p) => {
        p.kill('SIGKILL');
        await p.wait().catch(() => undefined);
      }),
    );
    // Once the container is gone, so are its pipes, even those nobody read.
    for (const p of this.#withOpenStdio) p.releaseStdio();
    this.#withOpenStdio.clear();
    await this.#releaseCgroup();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /** Serves a seccomp listener with the notify handler, when the profile notifies. */
  #seccompListener(): ((fd: number) => void) | undefined {
    const notify = this.#config.seccomp.notify;
    if (!notify || !this.#seccomp?.compiled.notifies) return undefined;
    return (fd) => {
      serveSeccompListener(fd, notify.handler, syscallName, (error) =>
        process.emitWarning(`container ${this.id}: seccomp notify handler failed: ${error.message}`),
      );
    };
  }

  #trackStdio(p: ContainerProcess): void {
    this.#withOpenStdio.add(p);
    p.once('close', () => this.#withOpenStdio.delete(p));
  }

  #makeCgroup(): ContainerCgroup {
    removeStaleCgroups(this.#config.cgroupParent);
    const cgroup = ContainerCgroup.create(this.id, this.#config.cgroupParent, this.#config.resources);
    this.#cgroup = cgroup;
    liveCgroups.add(cgroup);
    return cgroup;
  }

  /** The cgroup of a running container, once its main process has started. */
  async #runningCgroup(operation: string): Promise<ContainerCgroup> {
    if (!this.#main) throw new ContainerStateError(`container ${this.id}: cannot ${operation} it before spawn()`);
    // The program may print before the helper's report reaches us: wait for the report.
    await this.#main.started.catch(() => undefined);
    if (!this.#main.running || !this.#cgroup) throw new ContainerStoppedError(this.id, operation);
    return this.#cgroup;
  }

  #oomKills(): number {
    try {
      return this.#cgroup?.oomKills() ?? 0;
    } catch {
      return 0;
    }
  }

  /** The whole container's usage, read from its cgroup as the main process exits. */
  #containerUsage(own: ProcessResources, wallMs: number): Usage {
    const fromProcess = processUsage(own, wallMs, false);
    if (!this.#cgroup) return fromProcess;
    try {
      const stats = this.#cgroup.stats();
      return {
        wallMs,
        cpuUserMs: Math.max(stats.cpu.userNs / 1e6, fromProcess.cpuUserMs),
        cpuSystemMs: Math.max(stats.cpu.systemNs / 1e6, fromProcess.cpuSystemMs),
        maxRssBytes: Math.max(stats.memory.peak, fromProcess.maxRssBytes),
        oomKilled: stats.memory.oomKills > 0,
      };
    } catch {
      return fromProcess;
    }
  }

  async #releaseWhenExecsExit(): Promise<void> {
    await Promise.all([...this.#execs].map((p) => p.wait().catch(() => undefined)));
    await this.#releaseCgroup();
  }

  #releaseCgroup(): Promise<void> {
    const cgroup = this.#cgroup;
    if (!cgroup) return Promise.resolve();
    this.#released ??= cgroup.remove().then(() => {
      liveCgroups.delete(cgroup);
    });
    return this.#released;
  }

  #reportError(argv: string[], report: HelperReport): Error {
    if (report.step === 'exec') return spawnError(argv, report.errno);
    return new ContainerSetupError(report.step, report.errno, setupHint(report.step, report.errno));
  }
}
