/**
 * The public option shapes of ts-container. These are a contract: extend, never rename.
 */
import type { Readable, Writable, Stream } from 'node:stream';

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

export interface ContainerOptions {
  /** Container id: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}; default: random. */
  id?: string;
  /** Root filesystem directory; default: the host's / mounted read-only. */
  rootfs?: string;
  /** Mount the rootfs read-only (default true for the host's /, false for a rootfs directory). */
  readonly?: boolean;
  /** Default: the container's id. */
  hostname?: string;
  mounts?: Mount[];
  env?: Record<string, string>;
  cwd?: string;
  user?: User;
  /** 'none': own network namespace with only lo, up (default). 'host': the host's network. */
  network?: 'none' | 'host';
  /** Run a tiny init as PID 1 that reaps zombies and forwards signals to the program. */
  init?: boolean;
  /** New user namespace: true (container root = host uid 100000, 65536 ids) or explicit maps. */
  userns?: boolean | { uidMap: IdMapping[]; gidMap: IdMapping[] };
  /** New time namespace, optionally with clock offsets. */
  timens?: boolean | TimeNamespaceOptions;
  capabilities?: CapabilityOptions;
  rlimits?: Partial<Record<RlimitName, Rlimit | number>>;
}

export type StdioName = 'pipe' | 'inherit' | 'ignore';
export type StdioEntry = StdioName | number | Stream | null | undefined;
export type StdioOption = StdioName | StdioEntry[];

export interface ProcessOptions {
  stdio?: StdioOption;
  /** Merged over the container's env. */
  env?: Record<string, string>;
  cwd?: string;
  user?: User;
  signal?: AbortSignal;
  /** Milliseconds before killSignal is sent. */
  timeout?: number;
  killSignal?: NodeJS.Signals | number;
}

export interface ExitStatus {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessOutput extends ExitStatus {
  stdout: string;
  stderr: string;
}

export type { Readable, Writable };
