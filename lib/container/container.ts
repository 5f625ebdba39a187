/**
 * A container: one main process isolated by namespaces, mounts and
 * capabilities, more processes exec'd into it, and nothing left once it is
 * destroyed. The setup itself runs in the native helper (cpp/helper_main.cc).
 */
import type { ContainerOptions, ExitStatus, ProcessOptions } from '../options/types';
import type { HelperReport } from '../../types/native';
import { ContainerConfig, normalizeContainerOptions, normalizeProcessOptions } from '../options/validate';
import { ContainerSetupError, ContainerStateError, ContainerStoppedError, spawnError } from '../errors/errors';
import { helperPath, native } from '../native/binding';
import { ContainerProcess } from '../process/container-process';
import { checkStdio, resolveStdio } from '../process/stdio';
import { toSignalNumber } from '../process/signals';
import { killLiveProcessesOnExit } from '../process/live-processes';
import { execPlan, runPlan } from './plan';
import { setupHint } from './setup-hints';

const ESRCH = 3;

export class Container {
  readonly id: string;
  readonly #config: ContainerConfig;
  #main: ContainerProcess | undefined;
  readonly #execs = new Set<ContainerProcess>();
  #destroyed = false;

  constructor(options?: ContainerOptions) {
    this.#config = normalizeContainerOptions(options);
    this.id = this.#config.id;
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
    const plan = runPlan(args, process, this.#config);
    const main = new ContainerProcess({
      argv: args,
      stdio: resolveStdio(options?.stdio),
      start: (fds) => native().startHelper(helperPath(), plan, fds, -1),
      reportError: (report) => this.#reportError(args, report),
      timeout: process.timeout,
      killSignal: process.killSignal,
      signal: process.signal,
    });
    this.#main = main;
    return main;
  }

  /** Runs another process inside the running container: its namespaces, user, capabilities. */
  exec(argv: string[], options?: ProcessOptions): ContainerProcess {
    const { argv: args, process } = normalizeProcessOptions(argv, options, this.#config);
    checkStdio(options?.stdio);
    if (this.#destroyed) throw new ContainerStateError(`container ${this.id} has been destroyed`);
    const main = this.#main;
    if (!main) throw new ContainerStateError(`container ${this.id} has no main process yet; call spawn() first`);
    const plan = execPlan(args, process, this.#config);
    const child = new ContainerProcess({
      argv: args,
      stdio: resolveStdio(options?.stdio),
      start: async (fds) => {
        await main.started.catch(() => undefined);
        if (!main.running) throw new ContainerStoppedError(this.id, 'exec');
        return native().startHelper(helperPath(), plan, fds, main.pidfd);
      },
      reportError: (report) =>
        report.step === 'join namespaces' && report.errno === ESRCH
          ? new ContainerStoppedError(this.id, 'exec')
          : this.#reportError(args, report),
      timeout: process.timeout,
      killSignal: process.killSignal,
      signal: process.signal,
    });
    this.#execs.add(child);
    child.once('exit', () => this.#execs.delete(child));
    child.once('spawn-failed', () => this.#execs.delete(child));
    return child;
  }

  /** The main process's exit status. */
  async wait(): Promise<ExitStatus> {
    if (!this.#main) throw new ContainerStateError(`container ${this.id} has no main process; call spawn() first`);
    return this.#main.wait();
  }

  /** Sends a signal (default SIGTERM) to the main process; its exit ends the container. */
  kill(signal?: NodeJS.Signals | number): boolean {
    toSignalNumber(signal, 15);
    return this.#main ? this.#main.kill(signal) : false;
  }

  /** Kills whatever still runs and waits until every process is reaped. Idempotent. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const processes = [...(this.#main ? [this.#main] : []), ...this.#execs];
    await Promise.all(
      processes.map(async (p) => {
        p.kill('SIGKILL');
        await p.wait().catch(() => undefined);
      }),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  #reportError(argv: string[], report: HelperReport): Error {
    if (report.step === 'exec') return spawnError(argv, report.errno);
    return new ContainerSetupError(report.step, report.errno, setupHint(report.step, report.errno));
  }
}
