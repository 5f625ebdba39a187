/**
 * A container's state as the kernel shows it now: the recorded pid counts only if the
 * process with that pid is the one that started at the recorded time; 'created' only while
 * the start FIFO is there; 'paused' only if its cgroup is frozen.
 */
import * as fs from 'node:fs';
import { ContainerCgroup, cgroupFrozenAsync } from '../cgroups/container-cgroup';
import type { ContainerState, ContainerStatus } from './types';
import { ContainerDirectory, RunRecord, StateRecord } from './container-directory';
import { isSameProcess, isSameProcessAsync } from './process-identity';
import { signalName } from '../process/signals';

/** The OCI runtime spec version this state follows. */
export const OCI_VERSION = '1.2.0';

export interface Observed {
  state: ContainerState;
  record: StateRecord;
  run: RunRecord | undefined;
  /** The live main process (pid and start time), if there is one. */
  main: { pid: number; startTime: string } | undefined;
  /** The monitor of a detached container, while it lives. */
  monitor: { pid: number; startTime: string } | undefined;
}

function isFrozen(record: StateRecord): boolean {
  if (!record.cgroup) return false;
  try {
    return ContainerCgroup.attach(record.cgroup).isFrozen();
  } catch {
    return false;
  }
}

/** Whether the Node process that is making the container still lives. */
export function makerAlive(record: StateRecord): boolean {
  return isSameProcess(record.makerPid, record.makerStartTime);
}

/** What observe() reads from the state directory, /proc and the cgroup. */
interface Facts {
  record: StateRecord;
  run: RunRecord | undefined;
  /** The recorded main process (pid, start time) and whether it still is that process. */
  pid: number;
  startTime: string;
  alive: boolean;
  monitorAlive: boolean;
  makerAlive: boolean;
  fifo: boolean;
  frozen: () => boolean | Promise<boolean>;
  startedAt: () => number | undefined | Promise<number | undefined>;
}

function mainOf(record: StateRecord, run: RunRecord | undefined): { pid: number; startTime: string } {
  return { pid: run?.pid || record.pid, startTime: run?.pid ? run.startTime : record.startTime };
}

export function observe(directory: ContainerDirectory): Observed {
  const record = directory.readState();
  const run = directory.readRun();
  const { pid, startTime } = mainOf(record, run);
  return build(directory, {
    record,
    run,
    pid,
    startTime,
    alive: !(run?.exited ?? false) && isSameProcess(pid, startTime),
    monitorAlive: run !== undefined && run.monitorPid > 0 && isSameProcess(run.monitorPid, run.monitorStartTime),
    makerAlive: makerAlive(record),
    fifo: fs.existsSync(directory.fifoPath),
    frozen: () => isFrozen(record),
    startedAt: () => directory.startedAt(),
  }) as Observed;
}

/** observe() without blocking the event loop: no synchronous I/O (list() observes many). */
export async function observeAsync(directory: ContainerDirectory): Promise<Observed> {
  const record = await directory.readStateAsync();
  const run = await directory.readRunAsync();
  const { pid, startTime } = mainOf(record, run);
  const [alive, monitorAlive, maker, fifo] = await Promise.all([
    !(run?.exited ?? false) && isSameProcessAsync(pid, startTime),
    run !== undefined && run.monitorPid > 0 && isSameProcessAsync(run.monitorPid, run.monitorStartTime),
    isSameProcessAsync(record.makerPid, record.makerStartTime),
    fs.promises.access(directory.fifoPath).then(() => true, () => false),
  ]);
  return build(directory, {
    record,
    run,
    pid,
    startTime,
    alive,
    monitorAlive,
    makerAlive: maker,
    fifo,
    frozen: () => (record.cgroup ? cgroupFrozenAsync(record.cgroup) : false),
    startedAt: () => directory.startedAtAsync(),
  });
}

/** The state from the facts; frozen and startedAt are read only when needed (sync or not, as given). */
function build(directory: ContainerDirectory, facts: Facts): Observed | Promise<Observed> {
  const { record, run, pid, startTime, alive } = facts;
  const finish = (status: ContainerStatus, startedAt: number | undefined): Observed => {
    const state: ContainerState = {
      ociVersion: OCI_VERSION,
      id: record.id,
      status,
      pid: alive && status !== 'stopped' ? pid : 0,
      bundle: directory.dir,
      annotations: record.annotations ?? {},
      created: record.created,
      restartCount: run?.restartCount ?? 0,
      detached: record.detached,
      restart: record.restart,
      command: record.command,
      rootfs: record.rootfs,
    };
    if (startedAt) state.startedAt = new Date(startedAt).toISOString();
    if (run?.exited) {
      if (run.finishedAt) state.finishedAt = new Date(run.finishedAt).toISOString();
      state.exitCode = run.exitCode;
      state.signal = run.signal === null ? null : signalName(run.signal);
    }
    return {
      state,
      record,
      run,
      main: alive && status !== 'stopped' ? { pid, startTime } : undefined,
      monitor: facts.monitorAlive && run ? { pid: run.monitorPid, startTime: run.monitorStartTime } : undefined,
    };
  };
  const withStartedAt = (status: ContainerStatus): Observed | Promise<Observed> => {
    const recorded = run?.startedAt ?? record.startedAt;
    if (recorded) return finish(status, recorded);
    const read = facts.startedAt();
    return read instanceof Promise ? read.then((at) => finish(status, at)) : finish(status, read);
  };
  if (record.phase === 'creating' && !facts.makerAlive) {
    // Its maker died before it was made: whatever runs of it is a leftover, not a container.
    return withStartedAt('stopped');
  }
  if (alive) {
    if (facts.fifo) return withStartedAt('created');
    const frozen = facts.frozen();
    return frozen instanceof Promise
      ? frozen.then((f) => withStartedAt(f ? 'paused' : 'running'))
      : withStartedAt(frozen ? 'paused' : 'running');
  }
  return withStartedAt(record.phase === 'creating' && facts.makerAlive ? 'creating' : 'stopped');
}
