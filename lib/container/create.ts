/**
 * spawn() and create(): the create transaction. Its steps make, in order, the state
 * directory, the cgroup, the id block and start FIFO, then ask the helper to make the
 * namespaces, mounts and process, and record the result. Each step that makes something
 * pushes its undo; a failure before the container is recorded unmakes everything (undo-list.ts),
 * so bad input or a full disk leaves no directory, cgroup, ids or process behind.
 */
import * as fs from 'node:fs';
import type { ProcessOptions } from '../options/types';
import type { HelperReport, HelperReservation } from '../../types/native';
import { type ContainerConfig, type NormalizedProcessOptions, normalizeProcessOptions } from '../options/validate';
import { fail } from '../options/option-error';
import { helperPath, native } from '../native/binding';
import { launchProcess, type ContainerProcess } from '../process/container-process';
import { checkStdio, closeChildEnds, resolveStdio, type ResolvedStdio } from '../process/stdio';
import { recordOutput } from '../process/output-log';
import { releaseNamespaceHolds } from '../process/namespace-holds';
import { checkArgumentSize } from '../process/argument-limits';
import { toSignalNumber } from '../process/signals';
import { watchRecordedExit } from '../process/recorded-exit';
import { ContainerCgroup, type CgroupRecord } from '../cgroups/container-cgroup';
import { endCgroupsNamed, removeStaleCgroups } from '../cgroups/stale-cgroups';
import { DEFAULT_PIDS_LIMIT } from '../options/defaults';
import { ContainerDirectory, type StateRecord } from '../state/container-directory';
import { processStartTime } from '../state/process-identity';
import { clearIfAbandoned, sweepStateRoot } from '../state/sweep';
import { verifyStateRoot } from '../state/state-root';
import { pauseForTest } from '../state/test-hook';
import { stateStep } from '../state/state-io';
import { homesSharedWith } from '../state/spread-homes';
import { allocateIdBlock } from '../userns/id-blocks';
import { lifecycleEntries, runPlan, type Entry } from './plan';
import { healthMonitorEntries } from '../health/health-plan';
import { makeStartFifo, openStartGate } from './start-gate';
import { CgroupGate } from './cgroup-gate';
import { savedConfig } from './saved-config';
import type { ContainerContext } from './context';
import { canSpawn } from './status';
import { UndoList } from './undo-list';
import { makeRootfsLayer, writableLayerRoot } from './rootfs-overlay';
import { runCreateHooks } from './create-hooks';
import { liveCgroups, ownedDirectories } from './exit-cleanup';
import { commitToMonitor } from './monitor';
import { reportError } from './report-error';
import { sharedNamespaceEntries } from './shared-namespaces';
import { networkAttachment } from '../options/namespace-sharing';
import { MainExitBookkeeping } from './exit-bookkeeping';
import { removeOnExitEntries } from './auto-remove';
import { phaseTrace } from '../process/phase-trace';
import { holdBackgroundWork } from '../state/quiet-moment';

/** Starts the main process; with `waitForStart` (create()), its program waits for start(). */
export function spawnMain(
  context: ContainerContext,
  argv: readonly string[] | undefined,
  options: ProcessOptions | undefined,
  waitForStart: boolean,
): ContainerProcess {
  const config = context.config;
  const command = argv ?? config.lifecycle.command ?? config.image?.command ?? undefined;
  if (!command) fail('argv', `expected the program and its arguments (or the command option${config.image ? "; the image names no Entrypoint or Cmd" : ''})`);
  const { argv: args, process } = normalizeProcessOptions(command, options, config, 'main');
  checkArgumentSize(args, process.env, config.rlimits);
  const detach = context.detach;
  if (detach && options?.stdio !== undefined) {
    fail('stdio', "a detached container's output goes to its log (c.logs()); leave stdio unset");
  }
  checkStdio(options?.stdio);
  canSpawn(context);
  phaseTrace?.mark(context.id, 'options normalized');
  // Until the helper has all it waits for, no removal wakes a pool thread (quiet-moment.ts).
  const handedOver = holdBackgroundWork();
  let main: ContainerProcess;
  try {
    main = startMain(context, args, process, options, waitForStart, handedOver);
  } catch (error) {
    handedOver();
    throw error;
  }
  // Whichever comes first of the hand-over and the end of the start (an abort before it, too).
  main.once('spawn', handedOver).once('spawn-failed', handedOver);
  followMain(context, main);
  return main;
}

/** spawnMain's state directory and launch; `handedOver` ends its hold on background work. */
function startMain(
  context: ContainerContext,
  args: string[],
  process: NormalizedProcessOptions,
  options: ProcessOptions | undefined,
  waitForStart: boolean,
  handedOver: () => void,
): ContainerProcess {
  const detach = context.detach;
  const undo = new UndoList();
  // Made now: an id in use is an error of this call, not a later event.
  const directory = makeDirectory(context, args, options);
  phaseTrace?.mark(context.id, 'state directory made');
  undo.push(() => context.removeDirectory(true));
  let stdio: ResolvedStdio;
  try {
    stdio = resolveStdio(detach || process.tty ? 'ignore' : options?.stdio);
  } catch (error) {
    // Out of fds for the pipes: the directory made for it goes too (now: the undo does not wait).
    void undo.rollback();
    throw error;
  }
  const atExit = new MainExitBookkeeping(context);
  return launchProcess({
    argv: args,
    stdio,
    start: async (fds) => {
      try {
        const report = await makeContainer(context, directory, undo, args, process, fds, waitForStart, undefined, handedOver);
        // A setup step failed in the helper: its error is the report's, and nothing may stay.
        if (!report.ok) await undo.rollback();
        return report;
      } catch (error) {
        // Out of space, fds or ids: nothing of it may stay, and the error reported is this one.
        await undo.rollback();
        throw error;
      }
    },
    reportError: (report) => reportError(args, report),
    usage: (own, wallMs) => atExit.usage(own, wallMs),
    exitBookkeeping: () => atExit.spec(),
    recorded: (written) => atExit.recorded(written),
    watchExit: detach ? watchRecordedExit(directory) : undefined,
    outlivesNode: detach,
    timeout: process.timeout,
    killSignal: process.killSignal,
    signal: process.signal,
    // A detached container's terminal is its monitor's.
    tty: detach ? null : process.tty,
  });
}

/** Makes `main` the container's main process: its output log, its exit record and the cgroup's release. */
export function followMain(context: ContainerContext, main: ContainerProcess): void {
  const { config, detach } = context;
  context.main = main;
  phaseTrace?.follow(context.id, main);
  if (!detach) context.outputLog = recordOutput(main, config.lifecycle.log);
  context.trackStdio(main);
  main.once('spawn-failed', () => void context.releaseCgroup());
  // PID 1's exit ends every process of the container: its cgroup goes then.
  main.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
    // A turn of the event loop later, once wait() has resolved and its caller has gone on: the
    // removal's start (a mark, a pool thread woken, which took a core at Node's priority) is not
    // on the way from the exit to wait(). A destroy() called meanwhile removes it as it asks.
    // A make of the same name meanwhile begins it at once and waits for it (removalInProgress).
    const release = (): Promise<void> => releaseWhenExecsExit(context);
    if (context.cgroup) context.cgroup.removeAfterThisTurn(release);
    else setImmediate(() => void release());
    if (!detach && !context.exitRecordWritten) recordExit(context, code, signal);
    phaseTrace?.mark(context.id, 'exit recorded');
    if (!detach) void runCreateHooks('stopped', { context, config, undo: new UndoList() })?.catch((error: Error) => globalThis.process.emitWarning(`container ${context.id}: ${error.message}`));
  });
}

/**
 * A pool member (pool.ts): the create transaction up to the late gate, where the first process
 * waits for pool.spawn()'s argv, env, cwd, user, tty and stdio (native/helper/late_gate.h);
 * `gateFd` is the gate's member end. Recorded 'created' and `pooled` (hidden from list()).
 * Resolves with the helper's report; a failure leaves nothing behind.
 */
export async function makeMember(context: ContainerContext, gateFd: number): Promise<HelperReport> {
  // Never run: the late spec replaces it.
  const args = ['pool-member'];
  const { process } = normalizeProcessOptions(args, undefined, context.config, 'main');
  canSpawn(context);
  const undo = new UndoList();
  const directory = makeDirectory(context, args, undefined, true);
  undo.push(() => context.removeDirectory(true));
  let stdio: ResolvedStdio | undefined;
  try {
    stdio = resolveStdio('ignore');
    const report = await makeContainer(context, directory, undo, args, process, stdio.childFds, true, gateFd);
    if (!report.ok) await undo.rollback();
    return report;
  } catch (error) {
    await undo.rollback();
    throw error;
  } finally {
    if (stdio) closeChildEnds(stdio);
  }
}

/**
 * The steps after the state directory, run when the process starts. Returns the helper's
 * report; the caller rolls back a report that is not ok (a setup step failed in the helper)
 * and a throw; once the container is recorded, there is nothing left to roll back.
 */
async function makeContainer(
  context: ContainerContext,
  directory: ContainerDirectory,
  undo: UndoList,
  args: string[],
  process: NormalizedProcessOptions,
  fds: [number, number, number],
  waitForStart: boolean,
  lateGateFd?: number,
  /** Called once the helper has all it waits for from this process (quiet-moment.ts). */
  handedOver?: () => void,
): Promise<HelperReport> {
  const detach = context.detach;
  // A container whose start this call waits for gets its cgroups and writable layer while the
  // helper clones it (native/helper/cgroup_gate.h). A pool member's are made first (it waits
  // anyway), and a detached container's too: its monitor takes the cgroup's lock fd with the plan.
  const beside = lateGateFd === undefined && !detach;
  // Its worker is asked for first: cloned, and started, while the plan is made here.
  const early = beside ? reserveWorker(fds) : undefined;
  const cgroupGate = early?.gate;
  let prepared: PreparedContainer;
  try {
    prepared = await prepareContainer(context, directory, undo, args, process, waitForStart, beside, lateGateFd);
  } catch (error) {
    if (early) await letWorkerGo(early);
    throw error;
  }
  const { plan, ownerFds, config } = prepared;
  let cgroup = prepared.cgroup;
  let reported: Promise<HelperReport>;
  try {
    reported = early
      ? native().planHelper(early.reservation, plan, context.seccompListener(), detach)
      : native().startHelper(helperPath(), plan, fds, -1, context.seccompListener(), ownerFds, detach);
  } catch (error) {
    cgroupGate?.close();
    throw error;
  }
  phaseTrace?.mark(context.id, 'helper launched');
  if (cgroupGate) {
    try {
      // Where planned() said (test/cgroups-unit: planned() equals create().plan()).
      makeRootfsLayerTraced(context, config, undo);
      cgroup = await makeRecordedCgroup(context, directory, undo, prepared.primaryCgroup);
    } catch (error) {
      // The helper sees end of file and ends what it cloned; once it has reported, nothing of it runs.
      cgroupGate.close();
      await reported.catch(() => undefined);
      throw error;
    }
    cgroupGate.open();
  }
  handedOver?.();
  return finishContainer(context, config, directory, undo, cgroup as ContainerCgroup, reported, waitForStart, gatedFor(waitForStart, lateGateFd, config));
}

/** A container's first process's plan, and what its making needs next. */
interface PreparedContainer {
  plan: Buffer;
  /** Made already, unless they are made beside the helper. */
  cgroup: ContainerCgroup | undefined;
  /** Made beside the helper but for their primary (cgroup2) directory, made already (createPrimary). */
  primaryCgroup: ContainerCgroup | undefined;
  /** For startHelper (a reserved worker has its cgroup gate already). */
  ownerFds: number[];
  /** The container's config with its id block, if it takes one. */
  config: ContainerConfig;
}

/** The plan of a container's first process, and what is made before it (all but cgroups made beside). */
async function prepareContainer(
  context: ContainerContext,
  directory: ContainerDirectory,
  undo: UndoList,
  args: string[],
  process: NormalizedProcessOptions,
  waitForStart: boolean,
  beside: boolean,
  lateGateFd: number | undefined,
): Promise<PreparedContainer> {
  const detach = context.detach;
  // First: a container or pod to share namespaces with that is gone fails before anything is made.
  const shared = await sharedNamespaceEntries(context.id, context.config, undo);
  const cgroup = beside ? undefined : await makeRecordedCgroup(context, directory, undo);
  // On a hybrid host the cgroup2 directory comes first, for the process to be cloned into;
  // the v1 ones are made beside the helper (native/helper/cgroup_join.h).
  const cgroup2First = beside && ContainerCgroup.makesCgroup2First();
  const primaryCgroup = cgroup2First ? await makeCgroup(context, true) : undefined;
  if (primaryCgroup) undo.push(() => context.releaseCgroup().catch(() => undefined));
  const config = withIdBlock(context);
  // Taken before the cgroups, the ids need an undo of their own, run after the cgroups' (which
  // frees them too, once the cgroups are gone); taken after, the cgroups' undo frees them.
  if (beside) undo.push(() => context.releaseIdBlock());
  phaseTrace?.mark(context.id, 'id block');
  // Made beside the helper too when its cgroups are: the helper waits for both at its gate
  // before it mounts the rootfs (native/helper/cgroup_gate.h).
  if (!beside) makeRootfsLayerTraced(context, config, undo);
  const gated = gatedFor(waitForStart, lateGateFd, config);
  if (gated) stateStep('make the start FIFO', directory.fifoPath, () => makeStartFifo(directory.fifoPath));
  const hookFds: number[] = [];
  await runCreateHooks('beforeNamespaces', { context, config, undo, ownerFds: hookFds });
  const cgroupPlan = cgroup ? cgroup.plan() : ContainerCgroup.planned(context.id, config.cgroupParent);
  const plan = runPlan(args, process, config, cgroupPlan, context.seccomp, [
    ...lifecycleEntries(config, directory, cgroup?.directories() ?? [], gated),
    ...removeOnExitEntries(context),
    ...healthMonitorEntries(config, cgroupPlan, context.seccomp),
    ...shared,
    ...lateGateEntries(lateGateFd),
    ...(beside ? ([['cgroup.gate', 0]] as Entry[]) : []),
    ...(cgroup2First ? ([['cgroup.gate_v1_only', true]] as Entry[]) : []),
  ]);
  const ownerFds =
    lateGateFd !== undefined
      ? [lateGateFd]
      : detach
        ? [directory.ownerLockFd, cgroup?.ownerLockFd ?? -1, context.idBlock?.lockFd ?? -1, ...hookFds].filter((fd) => fd >= 0)
        : [];
  phaseTrace?.mark(context.id, 'plan built');
  return { plan, cgroup, primaryCgroup, ownerFds, config };
}

/**
 * A container on a network waits at the start gate even from spawn(): its program must not
 * run before CNI ADD (an 'afterNamespaces' hook) gave it its interface and address.
 */
function gatedFor(waitForStart: boolean, lateGateFd: number | undefined, config: ContainerConfig): boolean {
  return lateGateFd === undefined && (waitForStart || networkAttachment(config.network) !== null);
}

/** A worker asked for before its plan (native reserveHelper), holding the read end of its cgroup gate. */
interface ReservedWorker {
  reservation: HelperReservation;
  /** Opened once the cgroups exist. */
  gate: CgroupGate;
}

function reserveWorker(fds: [number, number, number]): ReservedWorker {
  // The worker's end of the gate is its only owner fd.
  const gate = CgroupGate.make();
  try {
    return { reservation: native().reserveHelper(helperPath(), fds, [gate.workerEnd]), gate };
  } catch (error) {
    gate.close();
    throw error;
  } finally {
    gate.closeWorkerEnd();
  }
}

/**
 * A reserved worker whose plan will not come: it exits and is reaped. Resolves once it is
 * gone, so that a spawn that rejects leaves no process of its own behind.
 */
async function letWorkerGo(worker: ReservedWorker): Promise<void> {
  worker.gate.close();
  // Its report (that it got no plan) says nothing the caller's error does not.
  await native()
    .releaseHelper(worker.reservation)
    .catch(() => undefined);
}

/** From the helper's report to the container recorded as started (or created). */
async function finishContainer(
  context: ContainerContext,
  config: ContainerConfig,
  directory: ContainerDirectory,
  undo: UndoList,
  made: ContainerCgroup,
  reported: Promise<HelperReport>,
  waitForStart: boolean,
  gated: boolean,
): Promise<HelperReport> {
  const detach = context.detach;
  const report = await reported;
  phaseTrace?.mark(context.id, 'helper report');
  if (report.phaseMarks !== undefined) phaseTrace?.markHelper(context.id, report.phaseMarks);
  if (!report.ok) return report;
  pauseForTest('helper-reported');
  // The program runs (or waits at its FIFO): until recorded, no process could find it, so
  // a failure from here must end it.
  undo.push(() => endUnrecorded(report, made, detach));
  await runCreateHooks('afterNamespaces', { context, config, undo, pid: report.pid });
  recordStart(context, report.pid, waitForStart);
  phaseTrace?.mark(context.id, 'start recorded');
  // Recorded: any process can find it now, and it is the container's to end (destroy()).
  undo.commit();
  if (detach) {
    // The monitor holds copies of both locks now: it owns the container.
    directory.releaseOwnership();
    made.handOver();
    context.releaseIdBlock();
    liveCgroups.delete(made);
    commitToMonitor(report.channelFd ?? -1);
  }
  if (gated && !waitForStart) await letGo(directory, report.pid);
  pauseForTest('created');
  return report;
}

/** A pool member's late gate is its only owner fd (native/helper/late_gate.h). */
function lateGateEntries(lateGateFd: number | undefined): Entry[] {
  return lateGateFd === undefined ? [] : [['late.gate', 0]];
}

/** spawn() of a gated container: everything is ready, its program goes on now. */
async function letGo(directory: ContainerDirectory, pid: number): Promise<void> {
  const startedAt = Date.now();
  // Not reaped yet (the process is still being started): a dead one is a zombie. Its exit is
  // then seen as any other.
  const alive = (): boolean => {
    try {
      return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  if (!(await openStartGate(directory.fifoPath, alive))) return;
  directory.removeStartFifo();
  directory.markStarted(startedAt);
}

/**
 * The program runs but its start could not be recorded (a full or read-only state root): no
 * process may find it then, so it must not run. It is killed and reaped; the undos after
 * this one remove what it had.
 */
async function endUnrecorded(report: HelperReport, cgroup: ContainerCgroup, detach: boolean): Promise<void> {
  // Without "committed" on its channel, a detached container's monitor ends it and exits.
  if (detach && (report.channelFd ?? -1) >= 0) fs.closeSync(report.channelFd as number);
  cgroup.signalAll(9);
  // Not detached, the program is this process's child: reaped here. Else its monitor reaps it.
  await new Promise<void>((resolve) => native().watchExit(report.pidfd, () => resolve(), !detach));
  native().closeFd(report.pidfd);
  if (report.terminalFd >= 0) native().closeFd(report.terminalFd);
  releaseNamespaceHolds(report.heldNamespaceFds ?? []);
}

/** makeRootfsLayer (rootfs-overlay.ts), and the phase it ends. */
function makeRootfsLayerTraced(context: ContainerContext, config: ContainerConfig, undo: UndoList): void {
  makeRootfsLayer(context, config, undo);
  phaseTrace?.mark(context.id, 'writable layer made');
}

/** Makes the state directory, clearing an abandoned one of the same id first. */
function makeDirectory(context: ContainerContext, argv: string[], options: ProcessOptions | undefined, pooled = false): ContainerDirectory {
  const lifecycle = context.config.lifecycle;
  // Checked before the sweep reads it: a record planted by another user names any process.
  verifyStateRoot(lifecycle.stateRoot, true);
  // Once per process and root, in the background: a spawn does not wait for it (its cost
  // grows with the number of containers), and its pending work keeps Node running until done.
  void sweepStateRoot(lifecycle.stateRoot);
  const record: StateRecord = {
    version: 1,
    id: context.id,
    created: new Date().toISOString(),
    phase: 'creating',
    detached: lifecycle.detach,
    restart: lifecycle.restart.text,
    annotations: lifecycle.annotations,
    command: argv,
    rootfs: context.config.rootfs,
    dataRoot: writableLayerRoot(context.config),
    // Where its cgroups will be, when they are made while the helper works (makeContainer):
    // recorded now, so that no state write waits for them.
    cgroup: pooled || lifecycle.detach ? null : ContainerCgroup.plannedRecord(context.id, context.config.cgroupParent),
    pid: 0,
    startTime: '',
    makerPid: process.pid,
    makerStartTime: processStartTime(process.pid) ?? '',
    ...(pooled ? { pooled: true } : {}),
  };
  const saved = savedConfig(context.options, argv, options, context.config.rootfs);
  // In its data root's homes when they are on the state root's filesystem (spread-homes.ts).
  const homes = record.dataRoot === undefined ? null : homesSharedWith(lifecycle.stateRoot, record.dataRoot);
  const directory = ContainerDirectory.create(lifecycle.stateRoot, context.id, record, saved, clearIfAbandoned, homes);
  context.directory = directory;
  context.record = record;
  if (!lifecycle.detach) ownedDirectories.add(directory);
  pauseForTest('directory-made');
  return directory;
}

/**
 * Makes the container's cgroups (the rest of them, when the primary one was made first) and
 * records them in its state (their undo frees the id block after them).
 */
async function makeRecordedCgroup(context: ContainerContext, directory: ContainerDirectory, undo: UndoList, primaryMade?: ContainerCgroup): Promise<ContainerCgroup> {
  primaryMade?.finishCreate();
  const cgroup = primaryMade ?? (await makeCgroup(context));
  // With the cgroup go the ids its processes held: freed only once it is removed.
  undo.push(async () => {
    await context.releaseCgroup().catch(() => undefined);
    context.releaseIdBlock();
  });
  const record = context.record as StateRecord;
  const made = cgroup.record();
  if (!sameCgroupRecord(record.cgroup, made)) {
    record.cgroup = made;
    directory.writeState(record);
  }
  phaseTrace?.mark(context.id, 'cgroup made, state written');
  pauseForTest('cgroup-made');
  return cgroup;
}

function sameCgroupRecord(a: CgroupRecord | null, b: CgroupRecord): boolean {
  return a !== null && a.unified === b.unified && a.v1.length === b.v1.length && a.v1.every((dir, i) => dir === b.v1[i]);
}

/** Makes the container's cgroups; with `primaryOnly`, the first part of a make in two (ContainerCgroup.createPrimary). */
async function makeCgroup(context: ContainerContext, primaryOnly = false): Promise<ContainerCgroup> {
  const { id, config } = context;
  // The sweep of the parent once per process, in the background (as the state root's);
  // what an abandoned container of this id left is ended now, by its name.
  void removeStaleCgroups(config.cgroupParent);
  await endCgroupsNamed(id, config.cgroupParent);
  const defaultPids = config.resources?.pids === undefined ? DEFAULT_PIDS_LIMIT : undefined;
  const cgroup = primaryOnly
    ? ContainerCgroup.createPrimary(id, config.cgroupParent, config.resources, undefined, !config.privileged, defaultPids)
    : ContainerCgroup.create(id, config.cgroupParent, config.resources, undefined, !config.privileged, defaultPids);
  context.cgroup = cgroup;
  liveCgroups.add(cgroup);
  return cgroup;
}

/**
 * The config with the container's user namespace ids filled in: a block of ts-container's
 * subordinate ids when it asks for one (userns: true, or the host-root mode).
 */
function withIdBlock(context: ContainerContext): ContainerConfig {
  if (context.config.userns !== 'block') return context.config;
  const block = allocateIdBlock();
  context.idBlock = block;
  return { ...context.config, userns: { uidMap: block.uidMap, gidMap: block.gidMap } };
}

function recordStart(context: ContainerContext, pid: number, waitForStart: boolean): void {
  const directory = context.directory as ContainerDirectory;
  const record = context.record as StateRecord;
  record.pid = pid;
  record.startTime = processStartTime(pid) ?? '';
  record.phase = waitForStart ? 'created' : 'started';
  if (!waitForStart) record.startedAt = Date.now();
  directory.writeState(record);
}

/** run.json of a container this process reaps; the directory may be gone (destroyed elsewhere). */
function recordExit(context: ContainerContext, code: number | null, signal: NodeJS.Signals | null): void {
  const { directory, record } = context;
  if (!directory || !record) return;
  // A directory removed meanwhile (destroyed elsewhere) fails the write: caught below.
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

async function releaseWhenExecsExit(context: ContainerContext): Promise<void> {
  // With none left (as is usual), the removal below starts before this returns.
  const execs = [...context.execs].filter((p) => p.exitCode === null && p.signalCode === null);
  if (execs.length > 0) await Promise.all(execs.map((p) => p.wait().catch(() => undefined)));
  // After an exit of its own, off Node's thread: nine rmdirs on a hybrid host held up 'close'
  // by about 0.15 ms. One that destroy() caused, or that destroy() came before, is removed as
  // destroy() asks (delete.ts); this then only joins that removal.
  await context.releaseCgroup(!context.destroyed);
}
