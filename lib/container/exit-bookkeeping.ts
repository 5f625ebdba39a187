/**
 * What the exit watcher of a container's main process does at its exit, before Node hears of it
 * (ExitBookkeeping, native/addon/exit_watcher.cc): it reads the cgroup's usage files, while the
 * cgroup surely exists, and writes run.json, in the same native call that reaps the process.
 * Node then only parses the figures. The same steps in JavaScript (three file reads, a directory
 * opened, locked and written through, each a separate call into the addon or fs) lay between the
 * exit and wait(): on a 2-core host, skipping them altogether made a spawn 0.05-0.10 ms
 * (usage) and 0.03-0.08 ms (run.json) shorter at the median.
 *
 * run.json is written so for a spawn and a pool member's program (pool-member.ts), whose start
 * time is recorded as they start; a create() that start() lets go (from any process) is
 * recorded at its exit as before (create.ts recordExit), which reads when it started.
 */
import type { ExitBookkeeping, ProcessResources } from '../../types/native';
import type { Usage } from '../options/types';
import type { ContainerContext } from './context';
import { containerUsage } from './container-usage';

export class MainExitBookkeeping {
  readonly #context: ContainerContext;
  /** The usage files the watcher reads, in the order of ProcessResources.files. */
  #readFiles: string[] | undefined;

  constructor(context: ContainerContext) {
    this.#context = context;
  }

  /** Asked for once the process runs (ProcessLaunch.exitBookkeeping): its cgroup and record exist then. */
  spec(): ExitBookkeeping | undefined {
    const { cgroup, directory, record, detach } = this.#context;
    try {
      this.#readFiles = cgroup?.usageFiles();
    } catch {
      // no hierarchy to read: the usage report is the process's own
      this.#readFiles = undefined;
    }
    const identity = directory?.identity;
    const runRecord =
      !detach && record && record.startedAt !== undefined && directory && identity
        ? { dir: directory.dir, identity, pid: record.pid, startTime: record.startTime, startedAt: record.startedAt }
        : undefined;
    return { readFiles: this.#readFiles, runRecord };
  }

  /** The usage report at the exit, from what the watcher read. */
  usage(own: ProcessResources, wallMs: number): Omit<Usage, 'setupMs'> {
    return containerUsage(this.#context.cgroup, own, wallMs, this.#readFiles);
  }

  /**
   * Whether the watcher wrote run.json: then the exit is not recorded again (create.ts
   * followMain). If it could not, JavaScript tries as it always did, and fails the same way
   * when the directory is gone or another.
   */
  recorded(written: boolean): void {
    if (written) this.#context.exitRecordWritten = true;
  }
}
