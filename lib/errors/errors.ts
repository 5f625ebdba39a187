/**
 * The errors ts-container throws: each says what failed and carries the code
 * a program can test, shaped like Node's own system errors where one fits.
 */
import * as os from 'node:os';

/** Name of an errno number ("EPERM"), or "E<n>" for one Node does not know. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(os.constants.errno)) {
    if (value === errno) return name;
  }
  return `E${errno}`;
}

/** A step of container setup failed inside the helper: "mount /proc: EPERM". */
export class ContainerSetupError extends Error {
  /** The failed step, e.g. "mount /work" or "pivot_root". */
  readonly step: string;
  /** The errno number. */
  readonly errno: number;
  /** The errno name, e.g. "EPERM". */
  readonly code: string;
  constructor(step: string, errno: number, hint?: string) {
    const code = errnoName(errno);
    super(`${step}: ${code} (${describeErrno(errno)})${hint ? `. ${hint}` : ''}`);
    this.name = 'ContainerSetupError';
    this.step = step;
    this.errno = errno;
    this.code = code;
  }
}

/** The program could not be executed (ENOENT, EACCES...), as child_process reports it. */
export interface SpawnError extends Error {
  errno: number;
  code: string;
  syscall: string;
  path: string;
  spawnargs: string[];
}

export function spawnError(argv: string[], errno: number): SpawnError {
  if (errno === os.constants.errno.E2BIG) return argumentsTooLongError(argv);
  const code = errnoName(errno);
  const error = new Error(`spawn ${argv[0]} ${code}`) as SpawnError;
  error.errno = -errno;
  error.code = code;
  error.syscall = `spawn ${argv[0]}`;
  error.path = argv[0];
  error.spawnargs = argv.slice(1);
  return error;
}

/**
 * The arguments and environment exceed what execve takes (E2BIG): shaped as Node's spawn()
 * throws it, `spawn E2BIG` with syscall 'spawn', whether found before the helper ran or by it.
 */
export function argumentsTooLongError(argv: string[]): SpawnError {
  const error = new Error('spawn E2BIG') as SpawnError;
  error.errno = -os.constants.errno.E2BIG;
  error.code = 'E2BIG';
  error.syscall = 'spawn';
  error.path = argv[0];
  error.spawnargs = argv.slice(1);
  return error;
}

/** An operation needs a running container, and its main process has exited. */
export class ContainerStoppedError extends Error {
  readonly code = 'ECONTAINERSTOPPED';
  constructor(id: string, operation: string) {
    super(`container ${id}: cannot ${operation}: its main process has exited`);
    this.name = 'ContainerStoppedError';
  }
}

/** A process was started twice, or an operation came in an impossible order. */
export class ContainerStateError extends Error {
  readonly code = 'ECONTAINERSTATE';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerStateError';
  }
}

/**
 * A copy into or out of a container (copyIn, copyOut, `ts-container cp`) failed. An errno
 * failure keeps the errno's name as `code` ("ENOENT": no such path in the container) with the
 * `step` that failed; a request that cannot be met as asked ("a directory onto a file") has
 * code ECONTAINERCOPY. `path` is the path it was about, in the container or on the host.
 */
export class ContainerCopyError extends Error {
  readonly code: string;
  readonly path: string;
  readonly errno: number | undefined;
  readonly step: string | undefined;
  constructor(message: string, path: string, options?: { code?: string; errno?: number; step?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ContainerCopyError';
    this.path = path;
    this.code = options?.code ?? 'ECONTAINERCOPY';
    this.errno = options?.errno;
    this.step = options?.step;
  }
}

/**
 * logs() of a container whose output was not recorded: not detached, and its main process's
 * stdout and stderr were not 'pipe' (so they went straight to the fds it was given).
 */
export class ContainerLogsError extends Error {
  readonly code = 'ENOCONTAINERLOGS';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerLogsError';
  }
}

/** A container of that id already exists in the state root (made by this or any process). */
export class ContainerExistsError extends Error {
  readonly code = 'ECONTAINEREXISTS';
  readonly id: string;
  constructor(id: string, stateRoot: string) {
    super(`container ${id} already exists in ${stateRoot}; delete it first (ts-container delete ${id}) or choose another id`);
    this.name = 'ContainerExistsError';
    this.id = id;
  }
}

/** No container of that id in the state root. */
export class ContainerNotFoundError extends Error {
  readonly code = 'ENOCONTAINER';
  readonly id: string;
  constructor(id: string, stateRoot: string) {
    super(`no such container: ${id} (state root ${stateRoot})`);
    this.name = 'ContainerNotFoundError';
    this.id = id;
  }
}

/** A container's state directory holds a file that cannot be read (truncated, corrupt, foreign). */
export class ContainerStateFileError extends Error {
  readonly code = 'ECONTAINERSTATEFILE';
  readonly id: string;
  constructor(id: string, problem: string) {
    super(`container ${id}: unreadable state: ${problem}; \`ts-container delete -f ${id}\` removes it`);
    this.name = 'ContainerStateFileError';
    this.id = id;
  }
}

/**
 * A file operation in the state root failed (ENOSPC, EROFS, EMFILE, EACCES...): Node's `code`,
 * `errno` and `syscall` are kept, and `step` and `path` say what was being done where.
 */
export class ContainerStateIOError extends Error {
  readonly code: string;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  /** What was being done, e.g. "write state.json". */
  readonly step: string;
  readonly path: string;
  constructor(step: string, path: string, cause: NodeJS.ErrnoException) {
    const code = cause.code ?? 'EIO';
    super(`${step} (${path}): ${code}${cause.errno ? ` (${describeErrno(-cause.errno)})` : ''}`, { cause });
    this.name = 'ContainerStateIOError';
    this.code = code;
    this.errno = cause.errno;
    this.syscall = cause.syscall;
    this.step = step;
    this.path = path;
  }
}

/**
 * The state root (or a directory above it) could be changed by another user, who could then plant
 * a state record naming any process or a config to be run: it is refused, never trusted.
 */
export class UntrustedStateRootError extends Error {
  readonly code = 'EUNTRUSTEDSTATEROOT';
  /** The state root that was refused. */
  readonly stateRoot: string;
  /** The directory (or link) that failed the check. */
  readonly path: string;
  constructor(stateRoot: string, path: string, problem: string) {
    super(
      `state root ${stateRoot} is not safe: ${path} ${problem}; use a state root that only you can write ` +
        `(owned by you, not writable by group or others, in directories that only you or root can change)`,
    );
    this.name = 'UntrustedStateRootError';
    this.stateRoot = stateRoot;
    this.path = path;
  }
}

/** No local image answers to a reference (the library never pulls implicitly). */
export class ImageNotFoundError extends Error {
  readonly code = 'ENOIMAGE';
  /** The reference, id or digest that was looked up. */
  readonly reference: string;
  constructor(reference: string, detail?: string) {
    super(`no such image: ${reference}${detail ? ` (${detail})` : ''}`);
    this.name = 'ImageNotFoundError';
    this.reference = reference;
  }
}

/** An image (or a layer of it) is used by a container that still exists: remove that first. */
export class ImageInUseError extends Error {
  readonly code = 'EIMAGEINUSE';
  /** The ids of the containers that use it. */
  readonly containers: string[];
  constructor(reference: string, containers: string[]) {
    super(`image ${reference} is used by container${containers.length === 1 ? '' : 's'} ${containers.join(', ')}; delete ${containers.length === 1 ? 'it' : 'them'} first, or remove with { force: true } to drop the reference alone`);
    this.name = 'ImageInUseError';
    this.containers = containers;
  }
}

/**
 * A registry refused or failed a request (401, 404, 5xx after the retries, a reply that breaks
 * the distribution spec, a connection that failed for good).
 */
export class RegistryError extends Error {
  readonly code = 'EREGISTRY';
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryError';
    this.status = status;
  }
}

/** An image archive, manifest or layer is malformed or hostile: refused, never sanitized. */
export class ImageArchiveError extends Error {
  readonly code = 'EIMAGEARCHIVE';
  /** What was refused: a path inside the archive or layer, or a blob's digest. */
  readonly entry: string;
  constructor(entry: string, problem: string, options?: { cause?: unknown }) {
    super(`${entry}: ${problem}`, options);
    this.name = 'ImageArchiveError';
    this.entry = entry;
  }
}

/** No network of this name in the data root. */
export class NetworkNotFoundError extends Error {
  readonly code = 'ENONETWORK';
  readonly network: string;
  constructor(network: string, message?: string) {
    super(message ?? `no such network: ${network} (make it with Network.create({ name: ${JSON.stringify(network)} }))`);
    this.name = 'NetworkNotFoundError';
    this.network = network;
  }
}

/** Network.create() with a name the data root already holds. */
export class NetworkExistsError extends Error {
  readonly code = 'ENETWORKEXISTS';
  readonly network: string;
  constructor(network: string, message?: string) {
    super(message ?? `network ${network} already exists`);
    this.name = 'NetworkExistsError';
    this.network = network;
  }
}

/** remove() of a network that containers are still attached to. */
export class NetworkInUseError extends Error {
  readonly code = 'ENETWORKINUSE';
  readonly network: string;
  /** The ids of the attached containers. */
  readonly containers: string[];
  constructor(network: string, containers: string[]) {
    super(`network ${network} is used by container${containers.length === 1 ? '' : 's'} ${containers.join(', ')}; destroy ${containers.length === 1 ? 'it' : 'them'} first, or remove with { force: true }`);
    this.name = 'NetworkInUseError';
    this.network = network;
    this.containers = containers;
  }
}

/** A subnet that is malformed, too big or small, overlaps another network or a host route, or none is free. */
export class SubnetError extends Error {
  readonly code = 'ESUBNET';
  readonly subnet: string | undefined;
  constructor(message: string, subnet?: string) {
    super(message);
    this.name = 'SubnetError';
    this.subnet = subnet;
  }
}

/** A CNI plugin failed (or is missing): its name, the CNI error code and its message. */
export class CniPluginError extends Error {
  readonly code = 'ECNIPLUGIN';
  /** The plugin binary's name ("bridge", "portmap"...). */
  readonly plugin: string;
  /** The CNI error code the plugin reported (spec: 1-99 well known, 100+ its own); 0 when it said none. */
  readonly cniCode: number;
  /** The plugin's own message ("msg" and "details"). */
  readonly msg: string;
  /** The CNI command that failed. */
  readonly command: string;
  constructor(plugin: string, command: string, cniCode: number, msg: string) {
    super(`CNI plugin ${plugin} failed (${command}, code ${cniCode}): ${msg}`);
    this.name = 'CniPluginError';
    this.plugin = plugin;
    this.command = command;
    this.cniCode = cniCode;
    this.msg = msg;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  EINVAL: 'invalid argument',
  ENOSYS: 'not supported by this kernel',
  ELOOP: 'symbolic link not allowed here',
  EXDEV: 'path escapes the root',
  EBUSY: 'device or resource busy',
  ESRCH: 'no such process',
  ENOSPC: 'no space left on device',
  EMFILE: 'too many open files',
  ENOTEMPTY: 'directory not empty',
};

function describeErrno(errno: number): string {
  return ERRNO_TEXT[errnoName(errno)] ?? `errno ${errno}`;
}


/** No pod of that name in the data root (or its pause process has exited: the pod is gone). */
export class PodNotFoundError extends Error {
  readonly code = 'ENOPOD';
  readonly pod: string;
  constructor(name: string, dataRoot: string, why = '') {
    super(`no such pod: ${name} (data root ${dataRoot})${why ? `: ${why}` : ''}`);
    this.name = 'PodNotFoundError';
    this.pod = name;
  }
}

/** A pod of that name already exists in the data root. */
export class PodExistsError extends Error {
  readonly code = 'EPODEXISTS';
  readonly pod: string;
  constructor(name: string, dataRoot: string) {
    super(`pod ${name} already exists in ${dataRoot}; remove it first (ts-container pod rm ${name}) or choose another name`);
    this.name = 'PodExistsError';
    this.pod = name;
  }
}

/** A pod cannot be removed while containers of it run (unless { force: true }). */
export class PodInUseError extends Error {
  readonly code = 'EPODINUSE';
  readonly pod: string;
  /** The ids of the running members. */
  readonly containers: string[];
  constructor(name: string, containers: string[]) {
    super(`pod ${name} has running containers (${containers.join(', ')}); stop them first, or force the removal (remove({ force: true }), pod rm -f) to kill them`);
    this.name = 'PodInUseError';
    this.pod = name;
    this.containers = containers;
  }
}

/** waitFor() ran out of time before its condition held. */
export class WaitForTimeoutError extends Error {
  readonly code = 'EWAITFORTIMEOUT';
  readonly id: string;
  /** What it waited for, as said in the message: 'log /ready/', 'port 5432', ... */
  readonly condition: string;
  readonly timeout: number;
  constructor(id: string, condition: string, timeout: number) {
    super(`container ${id}: waited ${timeout} ms for ${condition}, in vain`);
    this.name = 'WaitForTimeoutError';
    this.id = id;
    this.condition = condition;
    this.timeout = timeout;
  }
}
