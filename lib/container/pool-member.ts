/**
 * One member of a warm pool (pool.ts): a container made ahead through the create transaction,
 * whose first process waits at its late gate (native/helper/late_gate.h) with namespaces,
 * cgroups, id maps, root and loopback in place. spawn() gives it argv, env, cwd, user, tty and
 * stdio; from there it is a container like any other, never given a second program.
 */
import type { ContainerOptions } from '../options/types';
import type { ExitWatcherHandle, HelperReport } from '../../types/native';
import { normalizeProcessOptions, type NormalizedProcessOptions } from '../options/validate';
import { native } from '../native/binding';
import { launchProcess, type ContainerProcess } from '../process/container-process';
import { checkStdio, resolveStdio } from '../process/stdio';
import { checkArgumentSize } from '../process/argument-limits';
import { liveProcesses } from '../process/live-processes';
import { releaseNamespaceHolds } from '../process/namespace-holds';
import type { ContainerDirectory, StateRecord } from '../state/container-directory';
import { Container, contextOf } from './container';
import type { ContainerContext } from './context';
import { followMain, makeMember } from './create';
import { lateSpec } from './plan';
import { reportError } from './report-error';
import { MainExitBookkeeping } from './exit-bookkeeping';
import { phaseTrace } from '../process/phase-trace';
import type { PoolSpawnOptions } from './pool-options';

/** A process of a pool: the ContainerProcess of its container's program, and that container. */
export type PooledProcess<P extends ContainerProcess = ContainerProcess> = P & { readonly container: Container };

/** Members that wait, in every pool of this process. */
const waiting = new Set<PoolMember>();
let exitHooked = false;

/**
 * When Node exits, its members are killed with its other containers (live-processes.ts) and
 * their cgroups and directories removed (exit-cleanup.ts): their watches end first, so that
 * none reports a death to a JavaScript that no longer runs.
 */
function closeWatchesOnExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const member of waiting) member.stopWatching();
  });
}

export class PoolMember {
  readonly container: Container;
  readonly #context: ContainerContext;
  /** Node's end of the late gate. */
  readonly #gate: number;
  readonly #pid: number;
  readonly #pidfd: number;
  /**
   * Its mount and network namespaces, held from Node (native/helper/namespace_hold.h) while it
   * waits; its process's report hands them on, and they are closed once its exit is seen.
   */
  #heldNamespaces: number[];
  /** While it waits: its exit, should it die there (killed, out of memory). */
  #watcher: ExitWatcherHandle | undefined;
  readonly #exited: Promise<void>;
  #dead = false;

  private constructor(container: Container, gate: number, report: HelperReport, onDeath: (member: PoolMember) => void) {
    this.container = container;
    this.#context = contextOf(container);
    this.#gate = gate;
    this.#pid = report.pid;
    this.#pidfd = report.pidfd;
    this.#heldNamespaces = report.heldNamespaceFds ?? [];
    // Killed with the rest when Node exits (live-processes.ts); its cgroup and directory go then too.
    liveProcesses.add(this.#pidfd);
    this.#exited = new Promise<void>((resolve) => {
      this.#watcher = native().watchExit(this.#pidfd, () => {
        this.#dead = true;
        this.#watcher = undefined;
        waiting.delete(this);
        resolve();
        onDeath(this);
      });
    });
    // A pool that waits does not keep Node running: its members die with Node as any container.
    this.#watcher?.unref?.();
    waiting.add(this);
    closeWatchesOnExit();
  }

  /** Ends the watch of its death while it waits (it is taken, or Node exits). */
  stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    waiting.delete(this);
  }

  /** Makes a member; rejects with the error a spawn of the same options would give. */
  static async make(options: ContainerOptions, onDeath: (member: PoolMember) => void): Promise<PoolMember> {
    const container = new Container(options);
    const [nodeEnd, memberEnd] = native().lateGatePair();
    let report: HelperReport;
    try {
      report = await makeMember(contextOf(container), memberEnd);
    } catch (error) {
      native().closeFd(nodeEnd);
      throw error;
    } finally {
      // The helper had its copy; from here only the member holds that end.
      native().closeFd(memberEnd);
    }
    if (!report.ok) {
      native().closeFd(nodeEnd);
      throw reportError(['pool-member'], report);
    }
    return new PoolMember(container, nodeEnd, report, onDeath);
  }

  get alive(): boolean {
    return !this.#dead;
  }

  /**
   * Gives the member its program. Bad options throw before the member is touched (it can
   * serve the next spawn); after that, the process and its container are the caller's.
   */
  spawn(argv: readonly string[], options: PoolSpawnOptions | undefined): PooledProcess {
    const context = this.#context;
    const { argv: args, process } = normalizeProcessOptions(argv, options, context.config, 'main');
    checkArgumentSize(args, process.env, context.config.rlimits);
    checkStdio(options?.stdio);
    const stdio = resolveStdio(process.tty ? 'ignore' : options?.stdio);
    phaseTrace?.mark(context.id, 'pool: options normalized');
    // The process's own watch takes over (it reaps); so does its entry among the live ones.
    this.stopWatching();
    liveProcesses.delete(this.#pidfd);
    const atExit = new MainExitBookkeeping(context);
    const main = launchProcess({
      argv: args,
      stdio,
      start: (fds) => this.#start(args, process, fds),
      reportError: (report) => reportError(args, report),
      usage: (own, wallMs) => atExit.usage(own, wallMs),
      exitBookkeeping: () => atExit.spec(),
      recorded: (written) => atExit.recorded(written),
      timeout: process.timeout,
      killSignal: process.killSignal,
      signal: process.signal,
      tty: process.tty,
    });
    followMain(context, main);
    // Used once: the container goes when its program has ended and its output was read.
    const destroy = (): void => void this.container.destroy().catch((error: Error) => globalThis.process.emitWarning(`container ${context.id}: ${error.message}`));
    main.once('close', destroy);
    main.once('spawn-failed', destroy);
    Object.defineProperty(main, 'container', { value: this.container, enumerable: true });
    return main as PooledProcess;
  }

  /** Sends the late spec and waits until the program runs or its setup failed. */
  async #start(args: string[], process: NormalizedProcessOptions, fds: [number, number, number]): Promise<HelperReport> {
    let outcome: Awaited<ReturnType<ReturnType<typeof native>['lateGateAwait']>>;
    try {
      native().lateGateSend(this.#gate, lateSpec(args, process), fds);
      phaseTrace?.mark(this.#context.id, 'pool: late spec sent');
      outcome = await native().lateGateAwait(this.#gate, this.#pid);
    } catch (error) {
      await this.#end();
      throw error;
    } finally {
      native().closeFd(this.#gate);
    }
    phaseTrace?.mark(this.#context.id, 'pool: gate passed');
    if (outcome.ok) {
      this.#recordStart(args);
      phaseTrace?.mark(this.#context.id, 'start recorded');
      // The process closes them once it has seen the exit.
      const heldNamespaceFds = this.#heldNamespaces.splice(0);
      return { ok: true, pid: this.#pid, pidfd: this.#pidfd, terminalFd: outcome.terminalFd, errno: 0, stepId: 0, step: '', heldNamespaceFds };
    }
    // It exits after saying what failed: reaped here, as the helper reaps a cold one that failed.
    await this.#end();
    return { ok: false, pid: this.#pid, pidfd: -1, terminalFd: -1, errno: outcome.errno, stepId: outcome.stepId, step: outcome.step };
  }

  /** Kills (if need be) and reaps the process, which nobody else watches. */
  async #end(): Promise<void> {
    native().sendSignal(this.#pidfd, 9);
    await new Promise<void>((resolve) => native().watchExit(this.#pidfd, () => resolve()));
    native().closeFd(this.#pidfd);
    releaseNamespaceHolds(this.#heldNamespaces);
  }

  /** Started: shown by list() from now on, with its own command. */
  #recordStart(args: string[]): void {
    const directory = this.#context.directory as ContainerDirectory;
    const record = this.#context.record as StateRecord;
    delete record.pooled;
    record.command = args;
    record.phase = 'started';
    record.startedAt = Date.now();
    directory.writeState(record);
  }

  /** A member nobody will use (the pool closes, or it died waiting): nothing of it stays. */
  async discard(): Promise<void> {
    // Node waits for it: its watch was not keeping Node running while it waited.
    this.#watcher?.ref?.();
    if (!this.#dead) native().sendSignal(this.#pidfd, 9);
    await this.#exited;
    liveProcesses.delete(this.#pidfd);
    native().closeFd(this.#pidfd);
    native().closeFd(this.#gate);
    releaseNamespaceHolds(this.#heldNamespaces);
    await this.container.destroy();
  }
}
