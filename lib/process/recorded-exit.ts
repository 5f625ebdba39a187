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
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const readRecord = (since: number): void => {
      if (closed) return;
      let run;
      try {
        run = directory.readRun();
      } catch {
        run = undefined;
      }
      if (run && run.pid === pid && run.exited) {
        onExit(run.exitCode, run.signal, NO_RESOURCES);
      } else if (Date.now() - since > RECORD_WAIT_MS || !directory.exists()) {
        onExit(null, null, NO_RESOURCES);
      } else {
        timer = setTimeout(() => readRecord(since), RECORD_POLL_MS);
      }
    };
    const watcher = native().watchExit(pidfd, () => readRecord(Date.now()), false);
    // The process is not this one's: Node may exit while it runs, unless someone waits.
    watcher.unref?.();
    return {
      close() {
        closed = true;
        if (timer) clearTimeout(timer);
        watcher.close();
      },
      ref: () => watcher.ref?.(),
      unref: () => watcher.unref?.(),
    };
  };
}
