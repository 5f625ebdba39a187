/**
 * The public shapes of container state: what `Container.list()`, `c.state()` and `c.logs()`
 * return. A contract, as lib/options/types.ts is: extend, never rename.
 */
import type { ContainerHealth } from '../health/health-state';

/**
 * Where a container is in its life, read from the kernel, never trusted from a file:
 * - creating: its maker is still setting it up;
 * - created: everything is made and its main process waits for start();
 * - running: its main process runs (or the monitor is about to restart it);
 * - paused: its cgroup is frozen;
 * - stopped: its main process has exited, or its maker died before it was made.
 */
export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** Docker's restart policies; 'on-failure:N' restarts at most N times. */
export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`;

/** The OCI runtime state of a container, plus when it started and how its last run ended. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  /** Host pid of the main process while created, running or paused; 0 when stopped. */
  pid: number;
  /** The container's state directory (the runtime has no separate bundle directory). */
  bundle: string;
  annotations: Record<string, string>;
  /** ISO 8601 time of create. */
  created: string;
  /** When the main process was last started (exec'd the program); absent before start. */
  startedAt?: string;
  /** When the last run's main process exited. */
  finishedAt?: string;
  /** The last run's exit code; null when it was killed by a signal, absent while it runs. */
  exitCode?: number | null;
  /** The signal that ended the last run, if one did. */
  signal?: string | null;
  /** How many times the monitor restarted it. */
  restartCount: number;
  /** Whether it outlives the process that made it (a monitor process watches it). */
  detached: boolean;
  restart: RestartPolicy;
  /** The main process's command line. */
  command: string[];
  /** The rootfs directory, or null for the host's own root. */
  rootfs: string | null;
  /** Its health checks' results (see Container.health()), once a check is configured and the container started. */
  health?: ContainerHealth;
}

/** One entry of `Container.list()`: a state, or why the state directory could not be read. */
export type ContainerListEntry =
  | (ContainerState & { error?: undefined })
  | { id: string; bundle: string; status: 'unknown'; error: string };

/**
 * One chunk of a container's output: as a detached container's monitor logged it, or as Node
 * read it from an attached container's 'pipe' stdio.
 */
export interface LogRecord {
  /** 'dropped': the monitor could not write some output here (e.g. a full disk); `data` is empty. */
  stream: 'stdout' | 'stderr' | 'dropped';
  /** When the monitor (or Node) read it. */
  time: Date;
  data: Buffer;
  /** For a 'dropped' record: how many bytes of output were lost at this point. */
  droppedBytes?: number;
}

export interface LogOptions {
  /** Keep reading as the container writes more, until it stops for good (or `signal` aborts). */
  follow?: boolean;
  /** Only records from this time on: a Date, or milliseconds since the epoch. */
  since?: Date | number;
  /** Only the last N lines (stdout and stderr together) of what there is when reading begins; then, with follow, all that comes. */
  tail?: number;
  /**
   * As docker logs --timestamps: every record carries its `time` (ms since the epoch) whether this
   * is set or not; `ts-container logs -t` prints it before each line. Default false.
   */
  timestamps?: boolean;
  /** Stops reading (a follow ends; the iterator returns). */
  signal?: AbortSignal;
}

export interface StopOptions {
  /** Seconds between SIGTERM and SIGKILL; default 10, as docker stop. */
  timeout?: number;
  /** The first signal; default SIGTERM. */
  signal?: NodeJS.Signals | number;
}

export interface StateRootOptions {
  /**
   * Default: /run/ts-container for root, $XDG_RUNTIME_DIR/ts-container otherwise (else
   * ~/.local/state/ts-container). It must be the caller's own and not writable by others.
   */
  stateRoot?: string;
}
