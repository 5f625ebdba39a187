/**
 * A detached container's monitor (native/monitor/), seen from Node: the helper that stays
 * outside the container, reaps it, records its exit and removes its cgroups.
 */
import * as fs from 'node:fs';
import type { ContainerDirectory, RunRecord } from '../state/container-directory';
import { isSameProcess } from '../state/process-identity';

/** How often destroy(), stop() and remove() look for a detached container's monitor to finish. */
const MONITOR_POLL_MS = 10;
const MONITOR_WAIT_MS = 5000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Tells a detached container's monitor that the container is recorded as made. Until then the
 * monitor kills it if this process dies: a container half made by a crashed maker must not live on.
 */
export function commitToMonitor(channelFd: number): void {
  if (channelFd < 0) return;
  try {
    fs.writeSync(channelFd, 'committed');
  } catch {
    // EPIPE: the monitor is gone already, the container having ended: nothing left to keep.
  } finally {
    fs.closeSync(channelFd);
  }
}

/** Waits (a bounded time) while the monitor a run record names is still alive. */
export async function whileMonitorRuns(run: RunRecord | undefined): Promise<void> {
  for (let waited = 0; waited < MONITOR_WAIT_MS && run && isSameProcess(run.monitorPid, run.monitorStartTime); waited += MONITOR_POLL_MS) {
    await sleep(MONITOR_POLL_MS);
  }
}

/** Waits for a detached container's monitor to record the exit and remove the cgroups. */
export async function monitorFinished(directory: ContainerDirectory | undefined, detach: boolean): Promise<void> {
  if (!directory || !detach) return;
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
