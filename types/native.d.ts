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
  /** The master of the process's terminal when it has one (tty); -1 when none. */
  terminalFd: number;
  /** errno of the failed step (0 when ok). */
  errno: number;
  /** The failed step's id (Step in lib/protocol/generated/steps.ts): what a failure is classified by. */
  stepId: number;
  /** The failed step as the user reads it, e.g. "mount /proc" or "exec". */
  step: string;
  /** The control channel, when kept open (startHelper's keepChannel); else -1. */
  channelFd?: number;
  /**
   * Fds of the process's mount and network namespaces, which its reaper holds until its exit
   * is seen, so that their teardown is not on the exit's path (empty on failure).
   */
  heldNamespaceFds?: number[];
  /**
   * The helper's own phase marks, when its plan asked for the phase trace (phase_trace): one
   * "name<TAB>microseconds" line per step, on CLOCK_MONOTONIC (as process.hrtime), in order.
   */
  phaseMarks?: string;
}

/** A worker asked for before its plan (reserveHelper): its control channel's Node end and the server asked. */
export interface HelperReservation {
  fd: number;
  serverPid: number;
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
  /** With ExitBookkeeping's readFiles: each file's text as read once the process was reaped, or null. */
  files?: (string | null)[];
  /** With ExitBookkeeping's runRecord: whether run.json was written. */
  recorded?: boolean;
}

/**
 * What watchExit does once it has reaped the process, before its callback: reads small files
 * (a cgroup's usage figures, while the cgroup still exists) and writes run.json into the state
 * directory `dir`, if that is still the directory of `identity` ("dev:ino").
 */
export interface ExitBookkeeping {
  readFiles?: string[];
  runRecord?: { dir: string; identity: string; pid: number; startTime: string; startedAt: number };
}

/** A watched seccomp listener: paused, its notifications wait in the kernel until resume(). */
export interface SeccompWatcherHandle {
  close(): void;
  pause(): void;
  resume(): void;
}

export interface ExitWatcherHandle {
  close(): void;
  /** Whether the watch keeps Node's event loop alive (it does at first). */
  ref?(): void;
  unref?(): void;
}

export interface TerminalReaderHandle {
  /** Stops reading until resume() (whoever takes the data is behind). */
  pause(): void;
  resume(): void;
  close(): void;
}

/** One entry for the layer applier (lib/images/layer-ops.ts builds them from tar headers). */
export interface NativeLayerEntry {
  kind: number;
  /** Relative to the layer directory, normalized; '' is the directory itself. */
  path: string;
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  mtimeNsec?: number;
  devMajor?: number;
  devMinor?: number;
  /** A regular file's whole size; `data` may hold its first bytes only (Data entries bring the rest). */
  size?: number;
  xattrs?: Array<[string, Buffer]>;
  data?: Uint8Array[];
}

/** Writes a layer's entries under its directory fd (native/addon/layer_applier.cc). */
export interface NativeLayerApplier {
  /**
   * Applies a batch on the thread pool, one batch at a time; the Buffers must stay unchanged
   * until it settles. Rejects with an Error carrying `entry`, `errno`, `code` and `step`.
   */
  apply(entries: NativeLayerEntry[]): Promise<void>;
  /**
   * Directory modes and mtimes, after the last batch. `lowerDirs` (top first): the layers below,
   * for an applier made with lowersAtFinish (the left-out directories take their attributes then).
   */
  finish(lowerDirs?: string[]): Promise<void>;
  /** Releases the directory fds; not while a batch runs. */
  close(): void;
}

/** A running SHA-256 hashed on the thread pool (native/addon/stream_hash.cc). */
/**
 * Stops a removeDirectories call: once cancel() returns, none of its rmdirs runs or will. It
 * returns each path's outcome so far (0 or an errno; ECANCELED: not tried), or [] before the call.
 */
export interface NativeRemovalCanceller {
  cancel(): number[];
}

export interface NativeStreamHash {
  /** Hashes the chunks on the thread pool, one update at a time; they must stay unchanged until it settles. */
  update(chunks: Uint8Array[]): Promise<void>;
  /** The lowercase hex digest of everything hashed; ends the hash. Not while an update runs. */
  digest(): string;
}

/** gunzip of a layer on the thread pool into buffers the caller reuses (native/addon/layer_inflate.cc). */
export interface NativeLayerInflater {
  /**
   * Inflates `input` into `out` until the input is used up or `out` is full: `consumed` input
   * bytes (over all chunks), `produced` bytes at the start of `out`. `last`: no input follows,
   * so a stream cut inside a gzip member fails (code Z_BUF_ERROR). Corrupt data fails with
   * zlib's message and code (Z_DATA_ERROR). One call at a time; both buffers stay unchanged until it settles.
   */
  inflate(input: Uint8Array[], out: Uint8Array, last: boolean): Promise<{ consumed: number; produced: number; ended: boolean }>;
}

/** What a CNI command did (native/common/cni_exec.h). */
export interface CniOutcome {
  ok: boolean;
  /** ADD: the chain's result (JSON); CHECK: the stored one. */
  result: string;
  /** The plugin that failed first. */
  plugin: string;
  /** Its exit status; -1 when it could not be run (missing binary, unreadable record). */
  exitCode: number;
  /** Its stdout: the CNI error JSON. */
  output: string;
  /** Its stderr, or why it could not run. */
  diagnostics: string;
}

export interface NativeBinding {
  /**
   * Runs a CNI command ("ADD", "DEL", "CHECK") for the attachment record at `record` in the
   * network namespace `netns` (a path; '' when it is gone), on the libuv pool.
   */
  cniRun(record: string, command: 'ADD' | 'DEL' | 'CHECK', netns: string): Promise<CniOutcome>;
  /** A bind mount in this process's mount namespace; throws an errno error. */
  bindMount(source: string, target: string): void;
  /** Unmounts (lazily); false when nothing was mounted there. */
  unmount(target: string): boolean;
  /** A new running SHA-256 whose updates run on the thread pool. */
  StreamHash: new () => NativeStreamHash;
  /** A new gzip stream inflated on the thread pool (layer unpacks). */
  LayerInflater: new () => NativeLayerInflater;
  /** Opens a layer directory for unpacking into it. */
  LayerApplier: new (
    directory: string,
    /**
     * lowerDirs: the layers below, top first: a directory the archive leaves out takes its attributes from them.
     * root: a copy into a container: `directory` is resolved inside this root (openat2 RESOLVE_IN_ROOT), and
     * owners are the container's ids, written as the host ids of uidMap/gidMap. replaceDirectories (default
     * true): whether a non-directory entry may replace a directory that is there. lowersAtFinish: the layers
     * below come with finish() instead (they are not unpacked yet).
     */
    options?: {
      opaqueXattr?: string;
      privileged?: boolean;
      lowerDirs?: string[];
      lowersAtFinish?: boolean;
      root?: string;
      uidMap?: { containerId: number; hostId: number; size: number }[];
      gidMap?: { containerId: number; hostId: number; size: number }[];
      replaceDirectories?: boolean;
    },
  ) => NativeLayerApplier;
  /** This process's setup server (the helper started once, see README), or -1 before the first container or exec. */
  helperServerPid(): number;
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
    /** Flocks a detached container's monitor keeps while it lives. */
    ownerFds?: number[],
    /** Keep the control channel open on success (channelFd): a detached container's monitor waits on it. */
    keepChannel?: boolean,
  ): Promise<HelperReport>;
  /**
   * startHelper in two steps: asks for the worker now, with its stdio and owner fds (the caller
   * may close its copies), so that the clone and the worker's start overlap the making of the
   * plan; planHelper then sends the plan and resolves with the report. A reservation whose plan
   * never comes must be let go with releaseHelper (the worker exits and is reaped).
   */
  reserveHelper(helperPath: string, stdio: [number, number, number], ownerFds?: number[]): HelperReservation;
  planHelper(reservation: HelperReservation, plan: Buffer, onSeccompListener?: (fd: number) => void, keepChannel?: boolean): Promise<HelperReport>;
  /** Settles once the worker has exited and been reaped. */
  releaseHelper(reservation: HelperReservation): Promise<unknown>;
  /**
   * Calls back once when the process behind pidfd exits, after reaping it. With reap false
   * (a process whose parent is another), only says that it exited: code and signal are null.
   */
  watchExit(
    pidfd: number,
    callback: (exitCode: number | null, signal: number | null, resources: ProcessResources) => void,
    reap?: boolean,
    bookkeeping?: ExitBookkeeping,
  ): ExitWatcherHandle;
  /**
   * An OFD write lock on byte `index` of fd's file, without waiting: true when fd's open file
   * description now holds it (until its last fd closes), false when another one does.
   */
  tryLockByte(fd: number, index: number): boolean;
  /** pidfd_open: a pidfd (close-on-exec), or -1 when no such process exists. */
  pidfdOpen(pid: number): number;
  /** mkfifo with exactly this mode (the umask does not apply). */
  makeFifo(path: string, mode: number): void;
  /** Sets an extended attribute on an open fd or a path (not following a final symlink). */
  setXattr(target: number | string, name: string, value: string): void;
  /** An extended attribute's value; null when the file has none of that name (or is gone). */
  getXattr(target: number | string, name: string): string | null;
  /** Blocking exclusive flock. */
  lock(fd: number): void;
  /** false when the process has already exited. */
  sendSignal(pidfd: number, signal: number): boolean;
  /** [readFd, writeFd], close-on-exec. */
  createPipe(): [number, number];
  closeFd(fd: number): void;
  /** Watches a seccomp listener; onClose once every process under the filter has exited. */
  watchSeccomp(fd: number, onNotification: (n: RawSeccompNotification) => void, onClose: () => void): SeccompWatcherHandle;
  /** Answers a notification; false when its process has gone. */
  respondSeccomp(fd: number, id: bigint, error: number, value: bigint, continueSyscall: boolean): boolean;
  /** Whether the notification's process still waits (so memory read before this check was its). */
  seccompIdValid(fd: number, id: bigint): boolean;
  /** Non-blocking exclusive flock: true when taken, false when another process holds it. */
  tryLock(fd: number): boolean;
  /** openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode): an fd, or an errno error. */
  openAt(dirfd: number, name: string, flags: number, mode: number): number;
  /** The whole file `name` of the directory fd (never through a link) as UTF-8; undefined when missing. Throws an errno error. */
  readFileAt(dirfd: number, name: string): string | undefined;
  /**
   * Writes `data` into the new file `name` of the directory open as `dirfd` (never through a
   * link). With `temporary`, writes that new file and puts it in place of `name` whole: the two
   * are exchanged (renameat2; no disk flush on ext4, as a rename over a file has), or renamed
   * when `name` is new (the temporary removed again on failure). Throws an errno error (code, errno).
   */
  writeFileAt(dirfd: number, name: string, data: string, mode: number, temporary?: string): void;
  /**
   * In the state root open as rootFd, makes the directory `making` (mode) with a lock file made
   * as `unpublishedLock`, locked (flock) and renamed to `lock`, and each of `files` written new;
   * one call, every step relative to an fd. Nothing is published (renameAt does that). Throws
   * an errno error whose `step` names the step and `file` the name in `making` it failed on;
   * what it made stays for the caller to remove, the fds it opened are closed.
   */
  makeStateDirectory(rootFd: number, making: string, unpublishedLock: string, lock: string, files: [string, string][], mode: number): { lockFd: number; dev: number; ino: number };
  /** renameat(2) within the directory open as dirfd. Throws an errno error (code, errno). */
  renameAt(dirfd: number, from: string, to: string): void;
  /**
   * Sets ext4's "top of a directory hierarchy" flag (FS_TOPDIR_FL, chattr +T) on the directory
   * open as fd, so that its subdirectories are spread over the filesystem's block groups; false
   * when its filesystem has no such flag or it cannot be set (native/addon/directory_spread.h).
   */
  setTopDirectoryFlag(fd: number): boolean;
  /**
   * renameat2(2) of the path `from` to `to` in the directory open as toDirFd, with
   * RENAME_NOREPLACE. Throws an errno error (EEXIST when `to` is taken).
   */
  moveIntoPlace(from: string, toDirFd: number, to: string): void;
  /**
   * Writes a tar of the tree under `dir` to `fd` (every path resolved inside `dir`), on the
   * thread pool. With whiteouts, `dir` is an overlay upper layer: its whiteouts and opaque
   * directories become `.wh.` entries; with id maps (a user namespace's), owners are the
   * container's ids, not the host's. The root's own attributes go in a "./" entry, with
   * `baseRoot` only when they differ from that directory's (the root below). Rejects with an
   * Error carrying entry, code and step.
   */
  layerDiff(
    dir: string,
    fd: number,
    /** root: a copy out of a container: `dir` is a path inside this root, put in the tar under its own name. */
    options: { whiteouts: boolean; baseRoot?: string; root?: string; uidMap?: { containerId: number; hostId: number; size: number }[]; gidMap?: { containerId: number; hostId: number; size: number }[] },
  ): Promise<{ entries: number; bytes: number }>;
  /**
   * The directory `to` (a new upper layer's root) takes the xattrs (overlay's own aside) and
   * times of `from` (the top lower layer's root). Throws an Error with code, path and step.
   */
  inheritRootAttributes(from: string, to: string): void;
  /**
   * Reads a terminal's (non-blocking) master whenever it is readable, until it reads EIO (no
   * process holds the terminal any more: onEnd(0)) or fails (onEnd(errno)). close() stops
   * reading and leaves the fd open.
   */
  readTerminal(fd: number, onData: (data: Buffer) => void, onEnd: (errno: number) => void): TerminalReaderHandle;
  /** TIOCSWINSZ on a terminal's master: the program's foreground process group gets SIGWINCH. */
  setWindowSize(fd: number, columns: number, rows: number): void;
  /**
   * A pool member's late gate (native/helper/late_gate.h): [nodeEnd, memberEnd], a SEQPACKET
   * socket pair (close-on-exec) whose Node end names each message's sender.
   */
  lateGatePair(): [number, number];
  /** Sends the late spec (plan entries) with the program's three stdio fds; throws an errno error. */
  lateGateSend(fd: number, spec: Buffer, stdio: [number, number, number]): void;
  /**
   * On the thread pool: reads the gate until end of file (the program runs: ok) or the member's
   * failure message; its terminal's master comes as terminalFd (-1 without), taken only from
   * process `pid` (a failure may come from the program's process under a tiny init too).
   */
  lateGateAwait(fd: number, pid: number): Promise<{ ok: boolean; errno: number; stepId: number; step: string; terminalFd: number }>;
  /**
   * Removes an absolute path and all below it on the thread pool, in one piece of work, never
   * following a symbolic link (native/addon/remove_tree.h); a path already gone resolves.
   */
  removeTree(path: string): Promise<void>;
  /** Closes the fds, in order, on one thread of this process at the lowest priority (native/addon/background_close.h). */
  closeInBackground(fds: number[]): void;
  /** The kind of namespace an nsfs fd stands for (ioctl NS_GET_NSTYPE); null for any other fd. */
  namespaceType(fd: number): 'mnt' | 'net' | 'pid' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time' | null;
  /**
   * rmdir(2) of each path in order, on the thread pool: each one's outcome, 0 or its errno.
   * With `untilFailure`, those after the first failure (other than ENOENT) are not tried: ECANCELED.
   * A `canceller`'s cancel() stops the rmdirs not done yet (ECANCELED), waiting for one under way.
   */
  removeDirectories(paths: string[], untilFailure?: boolean, canceller?: NativeRemovalCanceller): Promise<number[]>;
  RemovalCanceller: new () => NativeRemovalCanceller;
  /**
   * Makes a container's cgroup in every hierarchy in one call (native/addon/cgroup_maker.h):
   * each of dirs made and marked (the first flocked before its mark), the cpuset ones given
   * their parent's CPUs and memory nodes, the devices list filled, pids.max written. Returns the
   * first one's fd, flocked (with `lockFirst: false`, none is flocked and it returns -1: the rest
   * of a make whose primary directory an earlier call made); on failure removes what it made and
   * throws an errno error whose `path` is the directory (EEXIST: exists, EAGAIN: another process
   * holds it, ENOENT: its parent is gone).
   */
  makeContainerCgroups(spec: {
    dirs: string[];
    mark: string;
    cpusets: string[];
    devices?: { dir: string; rules: string[] };
    pidsLimit?: { dir: string; limit: number };
    lockFirst?: boolean;
  }): number;
  /**
   * sync_file_range(SYNC_FILE_RANGE_WRITE) on the thread pool: starts writing a stretch of a
   * file to disk without waiting (native/addon/early_writeback.h); the fsync still guarantees.
   */
  startWriteback(fd: number, offset: number, length: number): Promise<void>;
}
