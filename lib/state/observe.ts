/**
 * A container's state as the kernel shows it now: the recorded pid counts only if the
 * process with that pid is the one that started at the recorded time; 'created' only while
 * the start FIFO is there; 'paused' only if its cgroup is frozen.
 */
import * as fs from 'node:fs';
import { ContainerCgroup } from '../cgroups/container-cgroup';
import type { ContainerState, ContainerStatus } from './types';
import { ContainerDirectory, RunRecord, StateRecord } from './container-directory';
import { isSameProcess } from './process-identity';
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

export function observe(directory: ContainerDirectory): Observed {
  const record = directory.readState();
  const run = directory.readRun();
  const pid = run?.pid || record.pid;
  const startTime = run?.pid ? run.startTime : record.startTime;
  const alive = !(run?.exited ?? false) && isSameProcess(pid, startTime);
  const monitorAlive = run !== undefined && run.monitorPid > 0 && isSameProcess(run.monitorPid, run.monitorStartTime);
  let status: ContainerStatus;
  if (record.phase === 'creating' && !makerAlive(record)) {
    // Its maker died before it was made: whatever runs of it is a leftover, not a container.
    status = 'stopped';
  } else if (alive) {
    if (fs.existsSync(directory.fifoPath)) status = 'created';
    else status = isFrozen(record) ? 'paused' : 'running';
  } else if (record.phase === 'creating' && makerAlive(record)) {
    status = 'creating';
  } else {
    status = 'stopped';
  }
  const startedAt = run?.startedAt ?? record.startedAt ?? directory.startedAt();
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
    monitor: monitorAlive && run ? { pid: run.monitorPid, startTime: run.monitorStartTime } : undefined,
  };
}
