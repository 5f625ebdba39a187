/**
 * The addon's surface (build/Release/ts_container.node), typed so that lib/
 * never handles `any` from native code.
 */

/** What the helper reported after cloning (or failing to clone) a process. */
export interface HelperReport {
  ok: boolean;
  /** Host pid of the cloned process; -1 when nothing was cloned. */
  pid: number;
  /** pidfd of the cloned process when ok, else -1 (a failed process is already reaped). */
  pidfd: number;
  /** errno of the failed step (0 when ok). */
  errno: number;
  /** The failed step, e.g. "mount /proc" or "exec". */
  step: string;
}

/** One struct seccomp_notif, as received from the listener. */
export interface RawSeccompNotification {
  id: bigint;
  pid: number;
  nr: number;
  arch: number;
  instructionPointer: bigint;
  args: bigint[];
}

/** getrusage-style figures of a reaped process (and the children it reaped). */
export interface ProcessResources {
  userMicros: number;
  systemMicros: number;
  maxRssKib: number;
}

export interface ExitWatcherHandle {
  close(): void;
}

export interface NativeBinding {
  /**
   * Starts the helper (synchronously) and resolves with its report. A seccomp listener fd goes
   * to onSeccompListener as soon as it arrives, before the report: the program's own execve may
   * already wait on it.
   */
  startHelper(
    helperPath: string,
    plan: Buffer,
    stdio: [number, number, number],
    joinPidfd: number,
    onSeccompListener?: (fd: number) => void,
  ): Promise<HelperReport>;
  /** Calls back once when the process behind pidfd exits, after reaping it. */
  watchExit(
    pidfd: number,
    callback: (exitCode: number | null, signal: number | null, resources: ProcessResources) => void,
  ): ExitWatcherHandle;
  /** false when the process has already exited. */
  sendSignal(pidfd: number, signal: number): boolean;
  /** [readFd, writeFd], close-on-exec. */
  createPipe(): [number, number];
  closeFd(fd: number): void;
  /** Watches a seccomp listener; onClose once every process under the filter has exited. */
  watchSeccomp(fd: number, onNotification: (n: RawSeccompNotification) => void, onClose: () => void): ExitWatcherHandle;
  /** Answers a notification; false when its process has gone. */
  respondSeccomp(fd: number, id: bigint, error: number, value: bigint, continueSyscall: boolean): boolean;
  /** Whether the notification's process still waits (so memory read before this check was its). */
  seccompIdValid(fd: number, id: bigint): boolean;
  /** Non-blocking exclusive flock: true when taken, false when another process holds it. */
  tryLock(fd: number): boolean;
}
