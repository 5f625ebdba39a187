/**
 * The exit of a container's main process that this Node process does not reap: a detached
 * container's (its monitor reaps it) or one made by another Node process. Its pidfd says
 * when it exited; how it ended is read from run.json, which its reaper writes right after.
 */
import type { ExitWatcherHandle, ProcessResources } from '../../types/native';
import { native } from '../native/binding';
import type { ContainerDirectory } from '../state/container-directory';

/** How long to wait for the reaper's record; a reaper that died leaves none. */
const RECORD_WAIT_MS = 3000;
const RECORD_POLL_MS = 5;

const NO_RESOURCES: ProcessResources = { userMicros: 0, systemMicros: 0, maxRssKib: 0 };

export type ExitCallback = (code: number | null, signal: number | null, resources: ProcessResources) => void;

export function watchRecordedExit(directory: ContainerDirectory) {
  return (pidfd: number, pid: number, onExit: ExitCallback): ExitWatcherHandle => {
    const stopReading = new AbortController();
    const watcher = native().watchExit(
      pidfd,
      () => void readRecordedExit(directory, pid, stopReading.signal).then((exit) => exit && onExit(exit.code, exit.signal, NO_RESOURCES)),
      false,
    );
    // The process is not this one's: Node may exit while it runs, unless someone waits.
    watcher.unref?.();
    return {
      close() {
        stopReading.abort();
        watcher.close();
      },
      ref: () => watcher.ref?.(),
      unref: () => watcher.unref?.(),
    };
  };
}

/**
 * How run `pid` ended, once its reaper (the monitor, or the Node process that made it) has
 * written it: the process may be gone a moment before its record says so. Nulls when no
 * record comes (the reaper died, or the container was deleted); undefined once aborted.
 */
export async function readRecordedExit(
  directory: ContainerDirectory,
  pid: number,
  abort?: AbortSignal,
): Promise<{ code: number | null; signal: number | null } | undefined> {
  const since = Date.now();
  for (;;) {
    if (abort?.aborted) return undefined;
    let run;
    try {
      run = directory.readRun();
    } catch {
      run = undefined;
    }
    if (run && run.pid === pid && run.exited) return { code: run.exitCode, signal: run.signal };
    if (Date.now() - since > RECORD_WAIT_MS || !directory.exists()) return { code: null, signal: null };
    await new Promise((resolve) => setTimeout(resolve, RECORD_POLL_MS));
  }
}
