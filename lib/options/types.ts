/**
 * The public option shapes of ts-container. These are a contract: extend, never rename.
 */
import type { Container } from '../container/container';
import type { Pod } from '../pods/pod';
import type { Readable, Writable, Stream } from 'node:stream';
import type { SeccompOption } from '../seccomp/types';
import type { SeccompNotifyOptions } from '../seccomp-notify/types';
import type { RestartPolicy } from '../state/types';
import type { ImageStore } from '../images/image-store';
import type { HealthcheckOptions } from '../health/healthcheck-options';

/** A size in bytes, or a string with a k/m/g suffix ("64m"). */
export type ByteSize = number | string;

export interface BindMount {
  type: 'bind';
  /** Host path. */
  source: string;
  /** Path inside the container; resolved inside the rootfs, never following a symlink out of it. */
  target: string;
  readonly?: boolean;
  /** Bring the source's submounts along (default true). */
  recursive?: boolean;
}

export interface TmpfsMount {
  type: 'tmpfs';
  target: string;
  /** Size limit; default: the kernel's (half of RAM). */
  size?: ByteSize;
  /** Octal mode of the tmpfs root, as a number (0o1777) or a string ("1777"). */
  mode?: number | string;
  readonly?: boolean;
}

export type Mount = BindMount | TmpfsMount;

export interface User {
  uid: number;
  gid?: number;
  /** Supplementary groups; default none. */
  groups?: number[];
}

/**
 * Who the program runs as: ids ({ uid, gid?, groups? }; gid defaults to uid), or text as
 * docker's --user takes it: 'name', 'name:group', 'uid' or 'uid:gid', resolved by the helper in
 * the container's own /etc/passwd and /etc/group (never the host's) before the program runs,
 * with the supplementary groups that list the user there and its home as HOME (unless env sets
 * one). A uid not in /etc/passwd runs with gid 0, as docker's; an unknown name fails the spawn
 * with a ContainerSetupError (code ENOENT) before the program runs.
 */
export type UserOption = User | string;

export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

export type Capability = string; // 'CAP_NET_ADMIN' or 'NET_ADMIN' (case-insensitive); 'ALL' in drop/add

export interface CapabilityOptions {
  add?: Capability[];
  drop?: Capability[];
}

export type RlimitName =
  | 'as' | 'core' | 'cpu' | 'data' | 'fsize' | 'locks' | 'memlock' | 'msgqueue'
  | 'nice' | 'nofile' | 'nproc' | 'rss' | 'rtprio' | 'rttime' | 'sigpending' | 'stack';

export interface Rlimit {
  soft: number;
  hard: number;
}

export interface TimeNamespaceOptions {
  /** Seconds added to CLOCK_MONOTONIC inside the container. */
  monotonicOffset?: number;
  /** Seconds added to CLOCK_BOOTTIME inside the container. */
  boottimeOffset?: number;
}

export interface DeviceRate {
  /** A block device path, e.g. "/dev/vda". */
  device: string;
  /** Bytes per second ("10m") for *Bps, operations per second for *Iops. */
  rate: ByteSize;
}

export interface ResourceOptions {
  /** Hard memory limit: bytes or "256m". */
  memory?: ByteSize;
  /** Memory plus swap, as Docker's --memory-swap; equal to memory: no swap; -1: unlimited swap. */
  memorySwap?: ByteSize | -1;
  /** CPU time as a number of CPUs (quota over a 100 ms period), e.g. 1.5. */
  cpus?: number;
  /** Relative CPU share, 1-10000 (cgroup v2 weight; mapped to v1 shares). */
  cpuWeight?: number;
  /** CPUs the container may run on, e.g. "0-1". */
  cpuset?: string;
  /** Memory nodes, e.g. "0". */
  cpusetMems?: string;
  /**
   * Most processes and threads at once. Default 2048 where the host has the pids controller
   * (skipped where it has none); -1 or "unlimited": no limit.
   */
  pids?: number | -1 | 'unlimited';
  io?: {
    weight?: number;
    readBps?: DeviceRate[];
    writeBps?: DeviceRate[];
    readIops?: DeviceRate[];
    writeIops?: DeviceRate[];
  };
}

/** A terminal's size in character cells. */
export interface TerminalSize {
  /** 1-65535. */
  columns: number;
  /** 1-65535. */
  rows: number;
}

/** How a detached container's log is capped, as docker's `--log-opt max-size=10m,max-file=3`. */
export interface LogRotation {
  /** The log file is rotated before it grows past this (default "10m"; at least "64k"). */
  maxSize?: ByteSize;
  /** Files kept, the current one included (default 3); the oldest is removed. */
  maxFiles?: number;
}

export interface ContainerOptions {
  /** Container id: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}; default: random. */
  id?: string;
  /**
   * Root filesystem directory; default: the host's / mounted read-only, its files reached as
   * their permissions allow others (see userns). A path that is the host's / means the same.
   */
  rootfs?: string;
  /**
   * An image of the image store ("alpine:3.20", an id or a digest): the rootfs is its layers,
   * shared and read-only, under a private writable layer. Never pulled here (ImageNotFoundError).
   * Its Entrypoint + Cmd are the program when spawn() gets none; its Env, WorkingDir and User
   * are defaults that env, cwd and user override. Not together with rootfs.
   */
  image?: string;
  /** The image store `image` comes from: an ImageStore, or its root; default the one of dataRoot. */
  imageStore?: ImageStore | string;
  /** Mount the rootfs read-only (default true for the host's /, false for a rootfs directory). */
  readonly?: boolean;
  /**
   * A rootfs directory stays untouched: the container sees it through an overlay, with a
   * private writable layer of its own (under the data root) that goes away with the container.
   * Default true; false writes straight into the directory. A read-only rootfs has no
   * writable layer. Needs a kernel with overlayfs (see the README).
   */
  rootfsOverlay?: boolean;
  /**
   * Where persistent data lives: a container's writable layer, images. Default: $TS_CONTAINER_DATA_ROOT,
   * else /var/lib/ts-container for root, $XDG_DATA_HOME/ts-container (or ~/.local/share/ts-container) otherwise.
   */
  dataRoot?: string;
  /** Default: the container's id. */
  hostname?: string;
  mounts?: Mount[];
  env?: Record<string, string>;
  cwd?: string;
  user?: UserOption;
  /**
   * 'none': own network namespace with only lo, up (default). 'host': the host's network.
   * A network's name (Network.create()), or { name, aliases }: its own namespace with an
   * interface (eth0) on that network; the other members reach it by id, hostname and aliases.
   * { container }: the network namespace of another running container (a Container or its id,
   * in this container's state root), as docker's --network container:ID; nothing else is shared.
   */
  network?: 'none' | 'host' | string | NetworkAttachmentOptions | { container: Container | string };
  /**
   * A pod (a Pod or its name, in `dataRoot`): the container joins the network, uts and ipc
   * namespaces its pause process holds, and reaches the other members on localhost. Its
   * network and hostname are the pod's: leave `network` and `hostname` unset.
   */
  pod?: Pod | string;
  /**
   * Host ports forwarded to the container (needs a network): reachable at the host's addresses
   * and 127.0.0.1. Each host port is bound on the host for the container's life, so a taken
   * one fails the spawn with EADDRINUSE before the program runs.
   */
  ports?: PortMapping[];
  /** Run a tiny init as PID 1 that reaps zombies and forwards signals to the program. */
  init?: boolean;
  /**
   * New user namespace: true (container ids 0-65535 are a block of host ids of ts-container's
   * own /etc/subuid and /etc/subgid range, free of every other container's) or explicit maps.
   * The host's / (no rootfs) always runs in such a block; explicit maps need a rootfs.
   */
  userns?: boolean | { uidMap: IdMapping[]; gidMap: IdMapping[] };
  /** New time namespace, optionally with clock offsets. */
  timens?: boolean | TimeNamespaceOptions;
  capabilities?: CapabilityOptions;
  rlimits?: Partial<Record<RlimitName, Rlimit | number>>;
  /** Cgroup limits; the container always gets its own cgroup. */
  resources?: ResourceOptions;
  /**
   * The cgroup the container's cgroup is made in, relative to each hierarchy's
   * root (e.g. "/ci-jobs"); default: "ts-container" below this process's own cgroup.
   */
  cgroupParent?: string;
  /**
   * The seccomp profile: 'default' (Docker's default profile; the default), 'unconfined', an
   * OCI `linux.seccomp` object or a Docker/Podman JSON profile; or { profile, notify } to hand
   * some system calls to a callback.
   */
  seccomp?: SeccompOption | { profile?: SeccompOption; notify?: SeccompNotifyOptions };
  /**
   * Give the main process (spawn) a pseudo-terminal, as `docker run -t`: true (80x24) or its
   * size. Its stdin and stdout are the terminal (stderr is merged into stdout, as on any
   * terminal), /dev/console is the same terminal, and `resize()` changes its size. The
   * `stdio` option must then be left unset or be 'pipe'. spawn()'s own `tty` option wins.
   */
  tty?: boolean | TerminalSize;
  /**
   * Outlive the Node process that made it: a monitor process outside the container reaps
   * it, logs its output (c.logs()) and applies the restart policy. Default false: the
   * container ends with its maker.
   */
  detach?: boolean;
  /**
   * A detached container's log: rotated and capped; default { maxSize: '10m', maxFiles: 3 }. Another
   * container's output recorded for logs() (its 'pipe' stdio) keeps at most maxSize x maxFiles bytes.
   */
  log?: LogRotation;
  /**
   * Sizes of the tmpfs mounts the runtime makes on its own, by path: '/tmp' and '/var/tmp'
   * (default 1 GiB each), '/run', '/var/run' and '/dev/shm' (64 MiB each); -1 for the
   * kernel's default (half of RAM). A mount of your own at one of these paths replaces it.
   */
  tmpfsSizes?: Partial<Record<'/tmp' | '/var/tmp' | '/run' | '/var/run' | '/dev/shm', ByteSize | -1>>;
  /** Docker's restart policies, applied by the monitor of a detached container. Default 'no'. */
  restart?: RestartPolicy;
  /** The state directory root; see resolveStateRoot. Default /run/ts-container for root. */
  stateRoot?: string;
  /** Free-form labels, kept in the container's state (OCI annotations). */
  annotations?: Record<string, string>;
  /** The main process's program and arguments, when create() or spawn() is given none. */
  command?: string[];
  /**
   * A check run inside the container, as docker's HEALTHCHECK: its status is `health()` and each
   * change a 'health' event. Default: the image's Healthcheck, if any; `{ test: ['NONE'] }` turns that off.
   * A detached container's checks run in its monitor, so any process sees its health.
   */
  healthcheck?: HealthcheckOptions;
  /**
   * As docker's --privileged: every capability, no seccomp filter (unless `seccomp` names one),
   * no masked or read-only /proc paths, no device rules, and /sys writable. The user namespace
   * of the host's / stays (its capabilities are the namespace's). Default false.
   */
  privileged?: boolean;
  /** The signal stop() sends first, as docker's --stop-signal; default SIGTERM. stop()'s own `signal` wins. */
  stopSignal?: NodeJS.Signals | number;
  /** Seconds stop() waits before SIGKILL, as docker's --stop-timeout; default 10. stop()'s own `timeout` wins. */
  stopTimeout?: number;
}

export type StdioName = 'pipe' | 'inherit' | 'ignore';
export type StdioEntry = StdioName | number | Stream | null | undefined;
export type StdioOption = StdioName | StdioEntry[];

export interface ProcessOptions {
  stdio?: StdioOption;
  /** Merged over the container's env. */
  env?: Record<string, string>;
  cwd?: string;
  user?: UserOption;
  signal?: AbortSignal;
  /** Milliseconds before killSignal is sent. */
  timeout?: number;
  killSignal?: NodeJS.Signals | number;
  /**
   * Give the process a pseudo-terminal of its own, as `docker exec -t`: true (80x24) or its
   * size. Default for exec(): none; for spawn(): the container's `tty` option. Its stdin and
   * stdout are the terminal (stderr merged into stdout; `stderr` is null); `stdio` must then
   * be left unset or be 'pipe'.
   */
  tty?: boolean | TerminalSize;
}

/** What a process (or, for the main process, the whole container) used. */
export interface Usage {
  /**
   * From the program's start (the helper's report that it exec'd, or for create(), that it
   * waits at its start gate) to its exit, as Node saw it. The setup before is `setupMs`: an
   * `echo` reports a fraction of a millisecond here and several milliseconds there.
   */
  wallMs: number;
  /**
   * From the spawn() or exec() call to the program's start: the helper's work (namespaces,
   * mounts, cgroups, for the main process; joining them, for exec) and launching it.
   */
  setupMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Peak resident memory: the container cgroup's peak for the main process, the process's own for exec. */
  maxRssBytes: number;
  /** The kernel's OOM killer killed a process in the container's cgroup while this process ran. */
  oomKilled: boolean;
}

export interface ExitStatus {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  usage?: Usage;
  /**
   * A signal was sent with kill(), or by a timeout or an abort. With `init: true` a signal
   * ends the program, and init exits with 128 + its number: `signal` is then null, `killed` says it.
   */
  killed?: boolean;
  /** The `timeout` ran out and killSignal was sent. */
  timedOut?: boolean;
}

export interface ProcessOutput extends ExitStatus {
  stdout: string;
  stderr: string;
  /**
   * A process the program left behind still held its stdout or stderr at its exit: output()
   * stopped reading 2 s after (reading time) and resolved with what had come.
   */
  stdioOpenAfterExit?: boolean;
}

export type { Readable, Writable };

/** A container's place on a network (the `network` option). */
export interface NetworkAttachmentOptions {
  name: string;
  /** More names the other members resolve to this container. */
  aliases?: string[];
}

/** A published port: `host` (on `hostIp`, default every address) forwarded to `container`. */
export interface PortMapping {
  host: number;
  container: number;
  /** Default 'tcp'. */
  protocol?: 'tcp' | 'udp';
  /** An IPv4 address of the host, e.g. '127.0.0.1'; default all. */
  hostIp?: string;
}
