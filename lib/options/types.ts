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
import type { ALL_CAPABILITIES } from './defaults';

/** A size in bytes, or a string with a k/m/g suffix ("64m"). */
export type ByteSize = number | string;

/** A host file or directory seen inside the container, as `docker run --mount type=bind`. */
export interface BindMount {
  type: 'bind';
  /** Host path (absolute); it must exist (else a ContainerSetupError, ENOENT). */
  source: string;
  /**
   * Absolute path inside the container, made when missing; resolved inside the rootfs, never
   * following a symlink out of it.
   */
  target: string;
  /** Mount it read-only (default false: writable, as the source's permissions allow). */
  readonly?: boolean;
  /** Bring the source's submounts along (default true). */
  recursive?: boolean;
}

/** A fresh memory filesystem at `target`, gone with the container. */
export interface TmpfsMount {
  type: 'tmpfs';
  /** Absolute path inside the container, made when missing. */
  target: string;
  /** Size limit; default: the kernel's (half of RAM). */
  size?: ByteSize;
  /** Octal mode of the tmpfs root, as a number (0o1777) or a string ("1777"); default 0o755. */
  mode?: number | string;
  /** Mount it read-only (default false). */
  readonly?: boolean;
}

/**
 * A named volume (lib/volumes): the directory <dataRoot>/volumes/NAME, made on first use and
 * kept after the container is deleted (Volume.remove() deletes it). The path inside the
 * container is `target`, or `destination` as docker's --mount names it.
 */
export type VolumeMount = {
  type: 'volume';
  /**
   * The volume's name: a letter or digit, then letters, digits, '_', '.', '-'. Without it the
   * volume is anonymous, as docker's: a random name, removed once the container is deleted.
   */
  source?: string;
  readonly?: boolean;
} & ({ target: string; destination?: never } | { destination: string; target?: never });

/** One entry of `mounts`: mounted in order, after the runtime's own (/proc, /dev, /tmp...). */
export type Mount = BindMount | TmpfsMount | VolumeMount;

/** Who the program runs as, by number (the container's /etc/passwd is not read). */
export interface User {
  /** User id inside the container (0-4294967294). */
  uid: number;
  /** Group id; default the same number as uid. */
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

/** A range of ids of a user namespace map: `size` ids from `containerId` inside are `hostId` on. */
export interface IdMapping {
  /** First id inside the container. */
  containerId: number;
  /** The host id it is. */
  hostId: number;
  /** How many consecutive ids. */
  size: number;
}

/** A Linux capability's name without its prefix: 'NET_ADMIN', 'SYS_PTRACE', ... (Linux 6.x's 41). */
export type CapabilityName = (typeof ALL_CAPABILITIES)[number] extends `CAP_${infer Name}` ? Name : never;

/**
 * A capability as `add` and `drop` take it: with or without the `CAP_` prefix, in upper or lower
 * case ('CAP_NET_ADMIN', 'NET_ADMIN', 'net_admin', as docker's --cap-add), or 'ALL'. The runtime
 * also takes mixed case; an unknown name is a TypeError naming it.
 */
export type Capability =
  | CapabilityName
  | `CAP_${CapabilityName}`
  | Lowercase<CapabilityName | `CAP_${CapabilityName}`>
  | 'ALL'
  | 'all';

/**
 * Changes to the capabilities root keeps in the container: Docker's 14 defaults
 * (DEFAULT_CAPABILITIES), plus `add`, minus `drop`; `drop: ['ALL']` starts from none.
 * A user other than root gets none in its permitted and effective sets either way.
 */
export interface CapabilityOptions {
  /** Capabilities given beyond the defaults ('ALL': every one). Default none. */
  add?: readonly Capability[];
  /** Capabilities taken from the defaults ('ALL': every one, then `add` gives some back). Default none. */
  drop?: readonly Capability[];
}

export type RlimitName =
  | 'as' | 'core' | 'cpu' | 'data' | 'fsize' | 'locks' | 'memlock' | 'msgqueue'
  | 'nice' | 'nofile' | 'nproc' | 'rss' | 'rtprio' | 'rttime' | 'sigpending' | 'stack';

/** A resource limit as setrlimit takes it; soft may not exceed hard. */
export interface Rlimit {
  /** The limit the kernel enforces; the process may raise it up to hard. */
  soft: number | 'unlimited';
  /** The ceiling for soft; only a privileged process raises it. */
  hard: number | 'unlimited';
}

export interface TimeNamespaceOptions {
  /** Seconds added to CLOCK_MONOTONIC inside the container (default 0). */
  monotonicOffset?: number;
  /** Seconds added to CLOCK_BOOTTIME inside the container (default 0). */
  boottimeOffset?: number;
}

export interface DeviceRate {
  /** A block device path, e.g. "/dev/vda". */
  device: string;
  /** Bytes per second ("10m") for *Bps, operations per second for *Iops. */
  rate: ByteSize;
}

/** The container's cgroup limits; every one is optional and, unset, unlimited (pids excepted). */
export interface ResourceOptions {
  /** Hard memory limit: bytes or "256m" (at least 6m, as docker); past it the OOM killer acts. Default none. */
  memory?: ByteSize;
  /** Memory plus swap, as Docker's --memory-swap; equal to memory: no swap; -1: unlimited swap. Default: the host's. */
  memorySwap?: ByteSize | -1;
  /** CPU time as a number of CPUs (quota over a 100 ms period), e.g. 1.5; at most the CPUs Node may use. Default none. */
  cpus?: number;
  /** Relative CPU share, 1-10000 (cgroup v2 weight; mapped to v1 shares). Default 100, as every cgroup. */
  cpuWeight?: number;
  /** CPUs the container may run on, e.g. "0-1"; they must be online. Default: all of the parent's. */
  cpuset?: string;
  /** Memory nodes, e.g. "0". Default: all of the parent's. */
  cpusetMems?: string;
  /**
   * Most processes and threads at once. Default 2048 where the host has the pids controller
   * (skipped where it has none); -1 or "unlimited": no limit.
   */
  pids?: number | -1 | 'unlimited';
  /** Block I/O: a relative weight (1-10000) and per-device rates. Default none. */
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
  /** Container id: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, unique in the state root; default: random. */
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
  /** The container's hostname (its own UTS namespace), at most 64 characters. Default: the container's id. */
  hostname?: string;
  /** Bind and tmpfs mounts, made in order inside the container's own mount namespace. Default none. */
  mounts?: Mount[];
  /**
   * The environment of every process: over the defaults PATH, HOSTNAME and HOME (and an
   * image's Env); the host's is not inherited. `process.env` may be passed: a variable whose
   * value is undefined is left out, as child_process does.
   */
  env?: Record<string, string | undefined>;
  /** The working directory of every process (absolute; it must exist). Default '/' (or an image's WorkingDir). */
  cwd?: string;
  /** Who every process runs as. Default root: uid 0, gid 0 (or an image's User). */
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
   * network and hostname are the pod's: leave `network` and `hostname` unset. Default none.
   */
  pod?: Pod | string;
  /**
   * Host ports forwarded to the container (needs a network): reachable at the host's addresses
   * and 127.0.0.1. Each host port is bound on the host for the container's life, so a taken
   * one fails the spawn with EADDRINUSE before the program runs. Default none.
   */
  ports?: PortMapping[];
  /**
   * Run a tiny init as PID 1 that reaps zombies and forwards signals to the program, as
   * docker's --init. Default false: the program is PID 1 (and ignores signals it has no handler for).
   */
  init?: boolean;
  /**
   * New user namespace: true (container ids 0-65535 are a block of host ids of ts-container's
   * own /etc/subuid and /etc/subgid range, free of every other container's) or explicit maps.
   * The host's / (no rootfs) always runs in such a block; explicit maps need a rootfs.
   * Default false (but always for the host's /): container root is host root, as docker's.
   */
  userns?: boolean | { uidMap: IdMapping[]; gidMap: IdMapping[] };
  /** New time namespace, optionally with clock offsets. Default false: the host's clocks. */
  timens?: boolean | TimeNamespaceOptions;
  /** Capabilities added to or dropped from Docker's 14 defaults (see CapabilityOptions). */
  capabilities?: CapabilityOptions;
  /**
   * Resource limits (setrlimit) of every process, by name: a number or 'unlimited' for soft and
   * hard alike, or { soft, hard } ({ nofile: 1024, nproc: { soft: 100, hard: 200 } }).
   * Default: the limits Node runs with.
   */
  rlimits?: Partial<Record<RlimitName, Rlimit | number | 'unlimited'>>;
  /** Cgroup limits; the container always gets its own cgroup. Default: none but pids (2048). */
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
   * Default false. spawn()'s types see only its own `tty`: give it there too for a null-typed stderr.
   */
  tty?: boolean | TerminalSize;
  /**
   * Outlive the Node process that made it: a monitor process outside the container reaps
   * it, logs its output (c.logs()) and applies the restart policy. Default false: the
   * container ends with its maker. The main process then has no stdio streams (null, whatever
   * spawn()'s types say): its output is read with c.logs().
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
  /**
   * Where the container's state directory lives, for any process to find it. Default:
   * $TS_CONTAINER_STATE_ROOT, else /run/ts-container for root, $XDG_RUNTIME_DIR/ts-container otherwise.
   */
  stateRoot?: string;
  /** Free-form labels, kept in the container's state (OCI annotations). Default none. */
  annotations?: Record<string, string>;
  /** The main process's program and arguments, when create() or spawn() is given none (default: an image's Entrypoint + Cmd). */
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

/** 'pipe': a stream in Node (p.stdout...); 'inherit': Node's own fd; 'ignore': /dev/null. */
export type StdioName = 'pipe' | 'inherit' | 'ignore';
/** One of stdin, stdout, stderr: a name, an fd of Node's, or a stream (null and undefined mean 'pipe'). */
export type StdioEntry = StdioName | number | Stream | null | undefined;
/** One name for all three, or [stdin, stdout, stderr] (missing entries are 'pipe'). */
export type StdioOption = StdioName | readonly StdioEntry[];

/** The options of one process: spawn() (the main process) or exec(). */
export interface ProcessOptions {
  /**
   * The program's stdin, stdout and stderr, as child_process takes them. Default 'pipe':
   * `p.stdin`, `p.stdout` and `p.stderr` are streams (and typed so); 'inherit' and 'ignore' make them null.
   */
  stdio?: StdioOption;
  /** Merged over the container's env; undefined values are left out, so `process.env` may be passed. */
  env?: Record<string, string | undefined>;
  /** The working directory (absolute). Default: the container's `cwd`. */
  cwd?: string;
  /** Who the process runs as. Default: the container's `user`. */
  user?: UserOption;
  /** Aborting it sends killSignal (SIGKILL 2 s later if the process is still there) and rejects wait() with an AbortError. */
  signal?: AbortSignal;
  /** Milliseconds before killSignal is sent (then SIGKILL 2 s later); 0 or unset: no timeout. */
  timeout?: number;
  /** The signal of `timeout` and `signal`. Default 'SIGTERM'. */
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
