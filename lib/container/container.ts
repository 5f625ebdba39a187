/**
 * A container: one main process isolated by namespaces, mounts, capabilities
 * and its own cgroup, more processes exec'd into it, and nothing left once it
 * is destroyed. The setup itself runs in the native helper (native/helper/main.cc).
 *
 * Every container has a state directory in the state root (lib/state), so that any
 * process can list it, find it with Container.get() and manage it. A detached container
 * outlives its maker: the helper stays outside it as its monitor.
 */
import * as fs from 'node:fs';
import type { ContainerOptions, ExitStatus, ProcessOptions, ResourceOptions, Usage } from '../options/types';
import type { HelperReport, ProcessResources } from '../../types/native';
import { ContainerConfig, normalizeContainerOptions, normalizeProcessOptions } from '../options/validate';
import { fail } from '../options/option-error';
import {
  ContainerNotFoundError,
  ContainerSetupError,
  ContainerStateError,
  ContainerStateFileError,
  ContainerStoppedError,
  spawnError,
} from '../errors/errors';
import { helperPath, native } from '../native/binding';
import { ContainerProcess } from '../process/container-process';
import { checkStdio, resolveStdio, type ResolvedStdio } from '../process/stdio';
import { checkArgumentSize } from '../process/argument-limits';
import { toSignalNumber } from '../process/signals';
import { killLiveProcessesOnExit } from '../process/live-processes';
import { processUsage } from '../process/usage';
import { watchRecordedExit } from '../process/recorded-exit';
import { ContainerCgroup } from '../cgroups/container-cgroup';
import { endCgroupsNamed, isHelperProcess, removeStaleCgroups } from '../cgroups/stale-cgroups';
import { normalizeResources } from '../cgroups/resources';
import { DEFAULT_PIDS_LIMIT } from '../options/defaults';
import type { CgroupStats } from '../cgroups/stats';
import { ContainerDirectory, type SavedConfig, type StateRecord } from '../state/container-directory';
import { observe, observeAsync, type Observed } from '../state/observe';
import { openRecordedProcess, processStartTime, isSameProcess } from '../state/process-identity';
import { clearIfAbandoned, killAndRemoveCgroups, sweepStateRoot } from '../state/sweep';
import { resolveStateRoot, verifyStateRoot } from '../state/state-root';
import { readLog } from '../state/log-file';
import { pauseForTest } from '../state/test-hook';
import { stateStep } from '../state/state-io';
import type { ContainerListEntry, ContainerState, LogOptions, LogRecord, StateRootOptions, StopOptions } from '../state/types';
import { execPlan, lifecycleEntries, runPlan } from './plan';
import { prepareSeccomp, syscallName, type PreparedSeccomp } from './seccomp-setup';
import { makeStartFifo, openStartGate } from './start-gate';
import { savedConfig } from './saved-config';
import { NotifyBudget } from '../seccomp-notify/budget';
import { serveSeccompListener } from '../seccomp-notify/listener';
import { setupHint } from './setup-hints';
import { allocateIdBlock, releaseIdBlock, type IdBlock } from '../userns/id-blocks';
import '../polyfills';

const ESRCH = 3;
const DEFAULT_STOP_TIMEOUT_S = 10;
/** How often destroy() and stop() look for a detached container's monitor to finish. */
const MONITOR_POLL_MS = 10;
const MONITOR_WAIT_MS = 5000;
/** How many containers list() reads at once. */
const LIST_BATCH = 64;

/** Containers whose cgroups must go if Node exits before they are destroyed. */
const liveCgroups = new Set<ContainerCgroup>();
/** State directories of containers that end with this Node process (not detached). */
const ownedDirectories = new Set<ContainerDirectory>();
process.once('exit', () => {
  for (const cgroup of liveCgroups) {
    cgroup.signalAll(9);
    cgroup.removeNow();
  }
  for (const directory of ownedDirectories) {
    try {
      directory.remove();
    } catch {
      // the next run's sweep removes it
    }
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Tells a detached container's monitor that the container is recorded as made. Until then the
 * monitor kills it if this process dies: a container half made by a crashed maker must not live on.
 */
function commitToMonitor(channelFd: number): void {
  if (channelFd < 0) return;
  try {
    fs.writeSync(channelFd, 'committed');
  } catch {
    // EPIPE: the monitor is gone already, the container having ended: nothing left to keep.
  } finally {
    fs.closeSync(channelFd);
  }
}

/** stdio of a process this Node process only watches: it has none here. */
function noStdio(): ResolvedStdio {
  return { childFds: [-1, -1, -1], closeAfterStart: [], stdin: null, stdout: null, stderr: null };
}

export class Container {
  readonly id: string;
  readonly #config: ContainerConfig;
  readonly #options: ContainerOptions;
  #main: ContainerProcess | undefined;
  readonly #execs = new Set<ContainerProcess>();
  /** Processes whose stdio may still be open; destroy() closes what is left. */
  readonly #withOpenStdio = new Set<ContainerProcess>();
  #cgroup: ContainerCgroup | undefined;
  /** The host ids of the container's user namespace, while this process owns them. */
  #idBlock: IdBlock | undefined;
  #released: Promise<void> | undefined;
  #destroyed = false;
  readonly #seccomp: PreparedSeccomp | null;
  #directory: ContainerDirectory | undefined;
  #record: StateRecord | undefined;
  /** Found with get(): made by another process (or an earlier run of this one). */
  #foundInStateRoot = false;
  /** How a container found stopped last ended. */
  #recordedExit: ExitStatus | undefined;

  constructor(options?: ContainerOptions) {
    this.#config = normalizeContainerOptions(options);
    this.#options = options ?? {};
    this.id = this.#config.id;
    if (this.#config.lifecycle.detach && this.#config.seccomp.notify) {
      fail('seccomp.notify', 'a detached container outlives the process that would answer its notifications; use detach: false');
    }
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

  /** Every container in the state root, made by any process, with its status read from the kernel. */
  static async list(options?: StateRootOptions): Promise<ContainerListEntry[]> {
    const root = resolveStateRoot(options?.stateRoot);
    const ids = await ContainerDirectory.idsAsync(root);
    const entries: ContainerListEntry[] = [];
    // No synchronous I/O, and a bounded number of containers read at once (each holds fds).
    for (let i = 0; i < ids.length; i += LIST_BATCH) {
      const batch = await Promise.all(ids.slice(i, i + LIST_BATCH).map((id) => Container.#listEntry(root, id)));
      for (const entry of batch) if (entry) entries.push(entry);
    }
    return entries;
  }

  static async #listEntry(root: string, id: string): Promise<ContainerListEntry | null> {
    const directory = new ContainerDirectory(root, id);
    try {
      return (await observeAsync(directory)).state;
    } catch (error) {
      // Deleted while we looked: not a container any more.
      const exists = await fs.promises.access(directory.dir).then(() => true, () => false);
      if (!exists) return null;
      return { id, bundle: directory.dir, status: 'unknown', error: (error as Error).message };
    }
  }

  /**
   * A container of the state root, made by any process: exec, kill, stop, wait, stats,
   * pause, logs, state and destroy work on it as on one made here.
   */
  static async get(id: string, options?: StateRootOptions): Promise<Container> {
    const root = resolveStateRoot(options?.stateRoot);
    const directory = Container.#existing(root, id);
    const observed = observe(directory);
    const saved = directory.readConfig();
    const container = new Container({ ...saved.options, id, stateRoot: root });
    container.#attach(directory, observed, saved);
    return container;
  }

  /**
   * Makes a stopped (or lost: after a crash or reboot) container again from the config it
   * was made with, and starts it. Its state directory, logs and cgroups start afresh.
   */
  static async restore(id: string, options?: StateRootOptions): Promise<Container> {
    const root = resolveStateRoot(options?.stateRoot);
    const directory = Container.#existing(root, id);
    const observed = observe(directory);
    if (observed.main || observed.state.status === 'creating') {
      throw new ContainerStateError(`container ${id} is ${observed.state.status}; only a stopped container can be restored`);
    }
    const saved = directory.readConfig();
    const container = new Container({ ...saved.options, id, stateRoot: root });
    await killAndRemoveCgroups(observed.record, observed.run);
    directory.remove();
    // Nobody here reads what a restored container that is not detached writes.
    const stdio = container.#config.lifecycle.detach ? undefined : 'ignore';
    const main = container.spawn(saved.argv, { ...saved.process, ...(stdio ? { stdio } : {}) });
    await main.started;
    return container;
  }

  /**
   * Deletes a container by id, as get(id).destroy() does. With force, one whose state files
   * cannot be read goes too: what its run record still names (monitor, main process) is
   * killed, its cgroups are found by its name and ended, and its directory removed; and one
   * whose state directory is gone (deleted by hand) is still found and ended by its cgroups' name.
   */
  static async remove(id: string, options?: StateRootOptions & { force?: boolean }): Promise<void> {
    const root = resolveStateRoot(options?.stateRoot);
    const plainId = typeof id === 'string' && id !== '' && !id.startsWith('.') && !id.includes('/');
    if (options?.force && plainId && !new ContainerDirectory(root, id).exists()) {
      if (await endCgroupsNamed(id, undefined, { force: true })) return;
      throw new ContainerNotFoundError(id, root);
    }
    const directory = Container.#existing(root, id);
    try {
      await (await Container.get(id, { stateRoot: root })).destroy();
      return;
    } catch (error) {
      if (!(error instanceof ContainerStateFileError) || !options?.force) throw error;
    }
    let run;
    try {
      run = directory.readRun();
    } catch {
      run = undefined;
    }
    // Only a monitor that is ts-container's helper: the record may name any process.
    if (run && isSameProcess(run.monitorPid, run.monitorStartTime) && isHelperProcess(run.monitorPid)) process.kill(run.monitorPid, 'SIGKILL');
    let cgroupParent: string | undefined;
    try {
      cgroupParent = directory.readConfig().options.cgroupParent;
    } catch {
      cgroupParent = undefined;
    }
    await endCgroupsNamed(id, typeof cgroupParent === 'string' ? cgroupParent : undefined, { force: true });
    // Gone before this resolves, as with destroy().
    for (let waited = 0; waited < MONITOR_WAIT_MS && run && isSameProcess(run.monitorPid, run.monitorStartTime); waited += MONITOR_POLL_MS) {
      await sleep(MONITOR_POLL_MS);
    }
    directory.remove();
  }

  static #existing(root: string, id: string): ContainerDirectory {
    const directory = new ContainerDirectory(root, id);
    if (typeof id !== 'string' || id.startsWith('.') || id.includes('/') || !verifyStateRoot(root, false) || !directory.exists()) {
      throw new ContainerNotFoundError(String(id), root);
    }
    return directory;
  }

  #attach(directory: ContainerDirectory, observed: Observed, saved: SavedConfig): void {
    const { record, run, main, state } = observed;
    this.#directory = directory;
    this.#record = record;
    this.#foundInStateRoot = true;
    if (record.cgroup) this.#cgroup = ContainerCgroup.attach(record.cgroup);
    if (run?.exited) this.#recordedExit = { exitCode: run.exitCode, signal: (state.signal ?? null) as NodeJS.Signals | null };
    // A recorded pid is the container's only while it is in the container's own cgroup.
    if (main && this.#cgroup && !this.#cgroup.pids().includes(main.pid)) return;
    const pidfd = main ? openRecordedProcess(main.pid, main.startTime) : -1;
    if (pidfd < 0 || !main) return;
    this.#main = new ContainerProcess({
      argv: saved.argv,
      stdio: noStdio(),
      start: async () => ({ ok: true, pid: main.pid, pidfd, errno: 0, step: '', terminalFd: -1 }),
      reportError: () => new ContainerStoppedError(this.id, 'attach'),
      watchExit: watchRecordedExit(directory),
      outlivesNode: true,
      killSignal: 9,
    });
  }

  /** Starts the container's main process: PID 1 of its PID namespace (or the child of a tiny init). */
  spawn(argv?: string[], options?: ProcessOptions): ContainerProcess {
    return this.#startMain(argv, options, false);
  }

  /**
   * Makes everything (namespaces, mounts, cgroups, the process itself) and leaves the
   * program waiting to be started by start(), from this process or any other. Resolves
   * with the main process once it waits; rejects as spawn() would fail.
   */
  async create(argv?: string[], options?: ProcessOptions): Promise<ContainerProcess> {
    const main = this.#startMain(argv, options, true);
    await main.started;
    return main;
  }

  /** Lets a created container's program run. */
  async start(): Promise<void> {
    const directory = this.#directory;
    if (!directory) throw new ContainerStateError(`container ${this.id} has not been created; call create() first`);
    await this.#main?.started.catch(() => undefined);
    if (!directory.hasStartFifo()) {
      if (this.#main?.running) throw new ContainerStateError(`container ${this.id} has already been started`);
      throw new ContainerStoppedError(this.id, 'start');
    }
    const main = this.#main;
    // The program cannot go on before the FIFO is opened: this time is never after its start.
    const startedAt = Date.now();
    const started = await openStartGate(directory.fifoPath, () => main?.running ?? false);
    if (!started) throw new ContainerStoppedError(this.id, 'start');
    // The FIFO is what says "created": it goes first.
    directory.removeStartFifo();
    pauseForTest('start-gate-opened');
    directory.markStarted(startedAt);
    pauseForTest('started');
  }

  #startMain(argv: string[] | undefined, options: ProcessOptions | undefined, waitForStart: boolean): ContainerProcess {
    const command = argv ?? this.#config.lifecycle.command;
    if (!command) fail('argv', 'expected the program and its arguments (or the command option)');
    const { argv: args, process } = normalizeProcessOptions(command, options, this.#config, 'main');
    checkArgumentSize(args, process.env, this.#config.rlimits);
    const detach = this.#config.lifecycle.detach;
    if (detach && options?.stdio !== undefined) {
      fail('stdio', "a detached container's output goes to its log (c.logs()); leave stdio unset");
    }
    checkStdio(options?.stdio);
    if (this.#destroyed) throw new ContainerStateError(`container ${this.id} has been destroyed`);
    if (this.#main || this.#foundInStateRoot) throw new ContainerStateError(`container ${this.id} already has a main process; use exec()`);
    // Made now: an id in use is an error of this call, not a later event.
    const directory = this.#makeDirectory(args, options);
    let stdio: ResolvedStdio;
    try {
      stdio = resolveStdio(detach || process.tty ? 'ignore' : options?.stdio);
    } catch (error) {
      // Out of fds for the pipes: the directory made for it goes too.
      this.#removeDirectory(true);
      throw error;
    }
    const main = new ContainerProcess({
      argv: args,
      stdio,
      start: async (fds) => {
        let cgroup: ContainerCgroup;
        try {
          cgroup = await this.#makeCgroup();
        } catch (error) {
          this.#removeDirectory(true);
          throw error;
        }
        const record = this.#record as StateRecord;
        record.cgroup = cgroup.record();
        let report: HelperReport;
        let config: ContainerConfig;
        try {
          directory.writeState(record);
          pauseForTest('cgroup-made');
          config = this.#withIdBlock();
          if (waitForStart) stateStep('make the start FIFO', directory.fifoPath, () => makeStartFifo(directory.fifoPath));
          const plan = runPlan(args, process, config, cgroup.plan(), this.#seccomp, lifecycleEntries(config, directory, cgroup, waitForStart));
          const ownerFds = detach ? [directory.ownerLockFd, cgroup.ownerLockFd, this.#idBlock?.lockFd ?? -1].filter((fd) => fd >= 0) : [];
          report = await native().startHelper(helperPath(), plan, fds, -1, this.#seccompListener(), ownerFds, detach);
        } catch (error) {
          // Out of space, fds or ids before anything ran: nothing of it may stay, and the error
          // reported is this one, not one of the cleanup.
          await this.#releaseCgroup().catch(() => undefined);
          this.#releaseIdBlock();
          this.#removeDirectory(true);
          throw error;
        }
        if (!report.ok) {
          await this.#releaseCgroup();
          this.#removeDirectory(true);
          return report;
        }
        pauseForTest('helper-reported');
        try {
          this.#recordStart(report.pid, waitForStart);
        } catch (error) {
          await this.#endUnrecorded(report, cgroup, detach);
          throw error;
        }
        if (detach) {
          // The monitor holds copies of both locks now: it owns the container.
          directory.releaseOwnership();
          cgroup.handOver();
          this.#releaseIdBlock();
          liveCgroups.delete(cgroup);
          commitToMonitor(report.channelFd ?? -1);
        }
        pauseForTest('created');
        return report;
      },
      reportError: (report) => this.#reportError(args, report),
      usage: (own, wallMs) => this.#containerUsage(own, wallMs),
      watchExit: detach ? watchRecordedExit(directory) : undefined,
      outlivesNode: detach,
      timeout: process.timeout,
      killSignal: process.killSignal,
      signal: process.signal,
      // A detached container's terminal is its monitor's.
      tty: detach ? null : process.tty,
    });
    this.#main = main;
    this.#trackStdio(main);
    main.once('spawn-failed', () => void this.#releaseCgroup());
    // PID 1's exit ends every process of the container: its cgroup goes then.
    main.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      if (!detach) this.#recordExit(code, signal);
      void this.#releaseWhenExecsExit();
    });
    return main;
  }

  /**
   * The program runs but its start could not be recorded (a full or read-only state root): no
   * process may find it then, so it must not run. It is killed and reaped, and what it had goes.
   */
  async #endUnrecorded(report: HelperReport, cgroup: ContainerCgroup, detach: boolean): Promise<void> {
    // Without "committed" on its channel, a detached container's monitor ends it and exits.
    if (detach && (report.channelFd ?? -1) >= 0) fs.closeSync(report.channelFd as number);
    cgroup.signalAll(9);
    // Not detached, the program is this process's child: reaped here. Else its monitor reaps it.
    await new Promise<void>((resolve) => native().watchExit(report.pidfd, () => resolve(), !detach));
    native().closeFd(report.pidfd);
    if (report.terminalFd >= 0) native().closeFd(report.terminalFd);
    await this.#releaseCgroup().catch(() => undefined);
    this.#removeDirectory(true);
  }

  /** Makes the state directory, clearing an abandoned one of the same id first. */
  #makeDirectory(argv: string[], options: ProcessOptions | undefined): ContainerDirectory {
    const lifecycle = this.#config.lifecycle;
    // Checked before the sweep reads it: a record planted by another user names any process.
    verifyStateRoot(lifecycle.stateRoot, true);
    // Once per process and root, in the background: a spawn does not wait for it (its cost
    // grows with the number of containers), and its pending work keeps Node running until done.
    void sweepStateRoot(lifecycle.stateRoot);
    const record: StateRecord = {
      version: 1,
      id: this.id,
      created: new Date().toISOString(),
      phase: 'creating',
      detached: lifecycle.detach,
      restart: lifecycle.restart.text,
      annotations: lifecycle.annotations,
      command: argv,
      rootfs: this.#config.rootfs,
      cgroup: null,
      pid: 0,
      startTime: '',
      makerPid: process.pid,
      makerStartTime: processStartTime(process.pid) ?? '',
    };
    const directory = ContainerDirectory.create(lifecycle.stateRoot, this.id, record, savedConfig(this.#options, argv, options, this.#config.rootfs), clearIfAbandoned);
    this.#directory = directory;
    this.#record = record;
    if (!lifecycle.detach) ownedDirectories.add(directory);
    pauseForTest('directory-made');
    return directory;
  }

  #recordStart(pid: number, waitForStart: boolean): void {
    const directory = this.#directory as ContainerDirectory;
    const record = this.#record as StateRecord;
    record.pid = pid;
    record.startTime = processStartTime(pid) ?? '';
    record.phase = waitForStart ? 'created' : 'started';
    if (!waitForStart) record.startedAt = Date.now();
    directory.writeState(record);
  }

  /** run.json of a container this process reaps; the directory may be gone (destroyed elsewhere). */
  #recordExit(code: number | null, signal: NodeJS.Signals | null): void {
    const directory = this.#directory;
    const record = this.#record;
    if (!directory || !record || !directory.exists()) return;
    try {
      directory.writeRun({
        pid: record.pid,
        startTime: record.startTime,
        startedAt: record.startedAt ?? directory.startedAt() ?? null,
        finishedAt: Date.now(),
        exited: true,
        exitCode: code,
        signal: signal === null ? null : toSignalNumber(signal, 0),
        restartCount: 0,
        monitorPid: 0,
        monitorStartTime: '',
      });
    } catch {
      // removed meanwhile
    }
  }

  /** Removes the state directory; after a failure (`quietly`), a failure to remove it is not the error to report. */
  #removeDirectory(quietly = false): void {
    const directory = this.#directory;
    if (!directory) return;
    ownedDirectories.delete(directory);
    try {
      directory.remove();
    } catch (error) {
      if (!quietly) throw error;
    }
  }

  /** Runs another process inside the running container: its namespaces, cgroup, user, capabilities. */
  exec(argv: string[], options?: ProcessOptions): ContainerProcess {
    const { argv: args, process } = normalizeProcessOptions(argv, options, this.#config);
    checkArgumentSize(args, process.env, this.#config.rlimits);
    checkStdio(options?.stdio);
    if (this.#destroyed) throw new ContainerStateError(`container ${this.id} has been destroyed`);
    const main = this.#main;
    if (!main) {
      if (this.#foundInStateRoot) throw new ContainerStoppedError(this.id, 'exec');
      throw new ContainerStateError(`container ${this.id} has no main process yet; call spawn() first`);
    }
    let oomKillsAtStart = 0;
    const child = new ContainerProcess({
      argv: args,
      stdio: resolveStdio(process.tty ? 'ignore' : options?.stdio),
      start: async (fds) => {
        await main.started.catch(() => undefined);
        if (!main.running || !this.#cgroup) throw new ContainerStoppedError(this.id, 'exec');
        // As runc: a created container's first process waits at its start FIFO, in the
        // container but still in setup; nothing else runs beside it until start().
        const directory = this.#directory;
        if (directory && fs.existsSync(directory.fifoPath)) {
          throw new ContainerStateError(`container ${this.id} is created but not started; call start() before exec()`);
        }
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
      tty: process.tty,
    });
    this.#execs.add(child);
    this.#trackStdio(child);
    child.once('exit', () => this.#execs.delete(child));
    child.once('spawn-failed', () => this.#execs.delete(child));
    return child;
  }

  /** The main process's exit status, with the container's usage report. */
  async wait(): Promise<ExitStatus> {
    if (!this.#main) {
      if (this.#recordedExit) return this.#recordedExit;
      if (this.#foundInStateRoot) return { exitCode: null, signal: null };
      throw new ContainerStateError(`container ${this.id} has no main process; call spawn() first`);
    }
    return this.#main.wait();
  }

  /**
   * Sends a signal (default SIGKILL, as `docker kill`) to every process in the container's
   * cgroup. Like a stop, it keeps the restart policy from starting the container again.
   */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    const number = toSignalNumber(signal, 9);
    this.#directory?.requestStop();
    if (!this.#main?.running || !this.#cgroup) return this.#main ? this.#main.kill(number) : false;
    // The cgroup holds the main process too: one signal each, the main one included.
    this.#cgroup.signalAll(number);
    this.#main.killed = true;
    return true;
  }

  /**
   * Stops the container as `docker stop` does: the signal (SIGTERM) to its main process,
   * then SIGKILL to all of it after `timeout` seconds. No restart follows.
   */
  async stop(options?: StopOptions): Promise<void> {
    const timeout = options?.timeout ?? DEFAULT_STOP_TIMEOUT_S;
    if (typeof timeout !== 'number' || !(timeout >= 0)) fail('timeout', 'expected a number of seconds, 0 or more');
    const signal = toSignalNumber(options?.signal, 15);
    this.#directory?.requestStop();
    const main = this.#main;
    if (!main) return;
    await main.started.catch(() => undefined);
    if (!main.running) return;
    main.kill(signal);
    const exited = main.wait().then(() => true, () => true);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout * 1000)));
    const inTime = await Promise.race([exited, late]);
    // A container that stopped in time must not keep Node running until the grace period ends.
    clearTimeout(timer);
    if (!inTime) {
      if (this.#cgroup) this.#cgroup.signalAll(9);
      else main.kill(9);
      await exited;
    }
    await this.#monitorFinished();
  }

  /** The OCI state, read now from the kernel and the state directory. */
  async state(): Promise<ContainerState> {
    const directory = this.#directory;
    if (!directory) throw new ContainerStateError(`container ${this.id} has not been created; call create() or spawn() first`);
    if (!directory.exists()) throw new ContainerNotFoundError(this.id, directory.root);
    return observe(directory).state;
  }

  /**
   * A detached container's output, as its monitor logged it; with follow, what comes
   * later too, until the container has stopped for good.
   */
  logs(options?: LogOptions): AsyncIterable<LogRecord> {
    const directory = this.#directory;
    if (!directory) throw new ContainerStateError(`container ${this.id} has not been created`);
    if (!this.#config.lifecycle.detach) {
      throw new ContainerStateError(`container ${this.id} is not detached: its output went to the stdio it was given, not to a log`);
    }
    return readLog(directory.logPath, options ?? {}, () => {
      try {
        const observed = observe(directory);
        return observed.state.status === 'stopped' && !observed.monitor;
      } catch {
        return true;
      }
    });
  }

  /** The processes in the container's cgroup: host pids and command lines. */
  async processes(): Promise<{ pid: number; command: string }[]> {
    const cgroup = await this.#runningCgroup('list the processes of');
    return cgroup.pids().flatMap((pid) => {
      try {
        const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        return [{ pid, command }];
      } catch {
        return [];
      }
    });
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
   * and removes the cgroup and the state directory. Idempotent.
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    this.#directory?.requestStop();
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
    await this.#monitorFinished();
    await this.#releaseCgroup();
    const directory = this.#directory;
    if (directory?.exists()) {
      // What another owner (or a monitor that died) left: its processes and cgroups.
      try {
        const observed = observe(directory);
        await killAndRemoveCgroups(observed.record, observed.run);
      } catch {
        // unreadable state: nothing recorded to clean
      }
    }
    this.#removeDirectory();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /** Waits for a detached container's monitor to record the exit and remove the cgroups. */
  async #monitorFinished(): Promise<void> {
    const directory = this.#directory;
    if (!directory || !this.#config.lifecycle.detach) return;
    for (let waited = 0; waited < MONITOR_WAIT_MS; waited += MONITOR_POLL_MS) {
      let run;
      try {
        run = directory.readRun();
      } catch {
        return;
      }
      if (!run || !isSameProcess(run.monitorPid, run.monitorStartTime)) return;
      await sleep(MONITOR_POLL_MS);
    }
  }

  /** Serves a seccomp listener with the notify handler, when the profile notifies. */
  /** One per container: its listeners share how much of a loop turn they may take. */
  readonly #notifyBudget = new NotifyBudget();

  #seccompListener(): ((fd: number) => void) | undefined {
    const notify = this.#config.seccomp.notify;
    if (!notify || !this.#seccomp?.compiled.notifies) return undefined;
    return (fd) => {
      serveSeccompListener(
        fd,
        notify.handler,
        syscallName,
        (error) => process.emitWarning(`container ${this.id}: seccomp notify handler failed: ${error.message}`),
        this.#notifyBudget,
      );
    };
  }

  #trackStdio(p: ContainerProcess): void {
    this.#withOpenStdio.add(p);
    p.once('close', () => this.#withOpenStdio.delete(p));
  }

  /**
   * The config with the container's user namespace ids filled in: a block of ts-container's
   * subordinate ids when it asks for one (userns: true, or the host-root mode).
   */
  #withIdBlock(): ContainerConfig {
    if (this.#config.userns !== 'block') return this.#config;
    const block = allocateIdBlock();
    this.#idBlock = block;
    return { ...this.#config, userns: { uidMap: block.uidMap, gidMap: block.gidMap } };
  }

  #releaseIdBlock(): void {
    if (this.#idBlock) releaseIdBlock(this.#idBlock);
    this.#idBlock = undefined;
  }

  async #makeCgroup(): Promise<ContainerCgroup> {
    // The sweep of the parent once per process, in the background (as the state root's);
    // what an abandoned container of this id left is ended now, by its name.
    void removeStaleCgroups(this.#config.cgroupParent);
    await endCgroupsNamed(this.id, this.#config.cgroupParent);
    const cgroup = ContainerCgroup.create(this.id, this.#config.cgroupParent, this.#config.resources);
    if (this.#config.resources?.pids === undefined) {
      try {
        cgroup.setDefaultPidsLimit(DEFAULT_PIDS_LIMIT);
      } catch (error) {
        cgroup.removeNow();
        throw error;
      }
    }
    this.#cgroup = cgroup;
    liveCgroups.add(cgroup);
    return cgroup;
  }

  /** The cgroup of a running container, once its main process has started. */
  async #runningCgroup(operation: string): Promise<ContainerCgroup> {
    if (!this.#main) {
      if (this.#foundInStateRoot) throw new ContainerStoppedError(this.id, operation);
      throw new ContainerStateError(`container ${this.id}: cannot ${operation} it before spawn()`);
    }
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
  #containerUsage(own: ProcessResources, wallMs: number): Omit<Usage, 'setupMs'> {
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
    // Another owner's (or a monitor's) cgroups are theirs to remove, unless destroyed here.
    if (!cgroup || (this.#foundInStateRoot && !this.#destroyed)) return Promise.resolve();
    this.#released ??= cgroup.remove().then(() => {
      liveCgroups.delete(cgroup);
      // No process of the container is left: its ids may go to another.
      this.#releaseIdBlock();
    });
    return this.#released;
  }

  #reportError(argv: string[], report: HelperReport): Error {
    if (report.step === 'exec') return spawnError(argv, report.errno);
    return new ContainerSetupError(report.step, report.errno, setupHint(report.step, report.errno));
  }
}
