/**
 * What every operation on one container shares: its id and normalized config, its state
 * directory and record, its cgroup, its user-namespace id block, its processes, and whether
 * this process made it (owned) or found it in the state root (attached). The operations
 * (create.ts, start.ts, exec.ts, ...) are functions of this context; Container is their facade.
 */
import type { ContainerOptions, ExitStatus } from '../options/types';
import { ContainerConfig, normalizeContainerOptions } from '../options/validate';
import { fail } from '../options/option-error';
import { applyImage } from './image-rootfs';
import { native } from '../native/binding';
import type { ContainerProcess } from '../process/container-process';
import type { OutputLog } from '../process/output-log';
import { killLiveProcessesOnExit } from '../process/live-processes';
import type { ContainerCgroup } from '../cgroups/container-cgroup';
import type { ContainerDirectory, StateRecord } from '../state/container-directory';
import { NotifyBudget } from '../seccomp-notify/budget';
import { serveSeccompListener } from '../seccomp-notify/listener';
import { releaseIdBlock, type IdBlock } from '../userns/id-blocks';
import { prepareSeccomp, syscallName, type PreparedSeccomp } from './seccomp-setup';
import { liveCgroups, ownedDirectories } from './exit-cleanup';

/**
 * Where a container handle came from. Owned: made by this handle (spawn/create), which
 * removes what it made when the container ends. Attached: found in the state root (get()),
 * made by another process or an earlier run; what it holds is its owner's until destroy().
 */
export type Origin =
  | { readonly kind: 'owned' }
  | {
      readonly kind: 'attached';
      /** How the container, found stopped, last ended. */
      readonly recordedExit: ExitStatus | undefined;
      /** The run found ended whose end its reaper had not yet recorded: wait() reads it. */
      readonly unrecordedExitOf?: number;
    };

export class ContainerContext {
  readonly id: string;
  readonly config: ContainerConfig;
  /** The options as given: saved in the state directory, to restore the container from. */
  readonly options: ContainerOptions;
  readonly seccomp: PreparedSeccomp | null;
  origin: Origin = { kind: 'owned' };
  main: ContainerProcess | undefined;
  readonly execs = new Set<ContainerProcess>();
  /** A container that is not detached: what its main process's 'pipe' stdio passed through Node (c.logs()). */
  outputLog: OutputLog | undefined;
  /** Processes whose stdio may still be open; destroy() closes what is left. */
  readonly withOpenStdio = new Set<ContainerProcess>();
  cgroup: ContainerCgroup | undefined;
  /** The host ids of the container's user namespace, while this process owns them. */
  idBlock: IdBlock | undefined;
  directory: ContainerDirectory | undefined;
  record: StateRecord | undefined;
  destroyed = false;
  /** The main process's exit watcher wrote run.json (exit-bookkeeping.ts): JavaScript does not. */
  exitRecordWritten = false;
  /** The cgroup's removal, once begun: every caller waits for the same one. */
  #released: Promise<void> | undefined;
  /** One per container: its seccomp listeners share how much of a loop turn they may take. */
  readonly #notifyBudget = new NotifyBudget();

  constructor(options?: ContainerOptions) {
    this.config = applyImage(normalizeContainerOptions(options), options ?? {});
    this.options = options ?? {};
    this.id = this.config.id;
    if (this.config.lifecycle.detach && this.config.seccomp.notify) {
      fail('seccomp.notify', 'a detached container outlives the process that would answer its notifications; use detach: false');
    }
    // Compiled here (and cached by the compiler): a profile error is thrown now, not at spawn.
    this.seccomp = prepareSeccomp(this.config.seccomp, this.config.capabilities);
    // Load the addon now: a missing build is reported here, not at spawn.
    native();
    killLiveProcessesOnExit();
  }

  get detach(): boolean {
    return this.config.lifecycle.detach;
  }

  /** Keeps a process until its stdio closes, so that destroy() can close what nobody read. */
  trackStdio(p: ContainerProcess): void {
    this.withOpenStdio.add(p);
    p.once('close', () => this.withOpenStdio.delete(p));
  }

  /**
   * Removes the state directory; after a failure (`quietly`), a failure to remove it is not
   * the error to report. `deferred`: the id is free on return, the files go a moment later.
   */
  removeDirectory(quietly = false, deferred = false): void {
    const directory = this.directory;
    if (!directory) return;
    ownedDirectories.delete(directory);
    try {
      directory.remove(deferred);
    } catch (error) {
      if (!quietly) throw error;
    }
  }

  releaseIdBlock(): void {
    if (this.idBlock) releaseIdBlock(this.idBlock);
    this.idBlock = undefined;
  }

  /** Removes the cgroup (once), then frees the id block its processes held. */
  releaseCgroup(offThread = false): Promise<void> {
    const cgroup = this.cgroup;
    // Another owner's (or a monitor's) cgroups are theirs to remove, unless destroyed here.
    if (!cgroup || (this.origin.kind === 'attached' && !this.destroyed)) return Promise.resolve();
    this.#released ??= cgroup.remove(offThread).then(() => {
      liveCgroups.delete(cgroup);
      // No process of the container is left: its ids may go to another.
      this.releaseIdBlock();
    });
    return this.#released;
  }

  /** The cgroup's count of OOM kills; 0 when it cannot be read (gone, or none yet). */
  oomKills(): number {
    try {
      return this.cgroup?.oomKills() ?? 0;
    } catch {
      return 0;
    }
  }

  /** Serves a seccomp listener with the notify handler, when the profile notifies. */
  seccompListener(): ((fd: number) => void) | undefined {
    const notify = this.config.seccomp.notify;
    if (!notify || !this.seccomp?.compiled.notifies) return undefined;
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
}
