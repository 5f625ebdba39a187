/**
 * The flags of `run` and `create`: each becomes one option of `new Container(options)`, or
 * one of the few things the command line decides itself (--rm, --usage, -i).
 * The flags run and exec share (-e, -u, -w) are made by the same functions, so that they are
 * spelled and converted alike.
 */
import type { FlagDef } from './flag';
import * as v from './values';
import { HEALTH_FLAGS } from './health-flags';

type Scope = 'container' | 'process';

export function envFlag(scope: Scope): FlagDef {
  return {
    names: ['-e', '--env'],
    value: 'KEY=VALUE',
    help: "Set an environment variable; '-e KEY' copies it from here (repeatable)",
    target: `${scope}:env{}`,
    convert: v.envAssignment,
  };
}

export function userFlag(scope: Scope): FlagDef {
  return {
    names: ['-u', '--user'],
    value: 'NAME[:GROUP]',
    help: "Run as this user (and group): names of the container's own /etc/passwd and /etc/group, or numeric UID[:GID]",
    target: `${scope}:user`,
    convert: v.userSpec,
  };
}

export function workdirFlag(scope: Scope): FlagDef {
  return {
    names: ['-w', '--workdir'],
    aliases: ['--cwd'],
    value: 'DIR',
    help: 'Working directory inside the container',
    target: `${scope}:cwd`,
    convert: v.text,
  };
}

/** -d, --rm and --usage: what create refuses (a created container is always detached). */
export const DETACH_FLAG: FlagDef = {
  names: ['-d', '--detach'],
  help: "Run in the background: print the container's id and exit; its output goes to 'ts-container logs ID'",
  target: 'container:detach',
};

export const RM_FLAG: FlagDef = {
  names: ['--rm'],
  help: "Delete the container when its program exits (with -d: once it stops; not with --restart). Without it the container stays, stopped, until 'ts-container delete ID'",
  target: 'cli:rm',
};

export const USAGE_FLAG: FlagDef = {
  names: ['--usage'],
  help: 'After the command, print its resource usage on stderr',
  target: 'cli:printUsage',
};

/** The flags run and create share, in the order of their help. */
export const CONTAINER_FLAGS: readonly FlagDef[] = [
  { names: ['--name'], value: 'ID', help: "The container's id (default: a random one)", target: 'container:id', convert: v.text },
  {
    names: ['--restart'],
    value: 'POLICY',
    help: 'With -d: no (default), always, unless-stopped, on-failure[:N]',
    target: 'container:restart',
    convert: v.text,
  },
  {
    names: ['--log-opt'],
    value: 'OPTS',
    help: 'With -d, how the log is capped: max-size=10m,max-file=3 (the defaults; the log is rotated past max-size, max-file files kept)',
    target: 'container:log{}',
    convert: v.logOptions,
  },
  { names: ['--rootfs'], value: 'DIR', help: "Root filesystem directory (default: the host's /, read-only)", target: 'container:rootfs', convert: v.hostPath },
  {
    names: ['--rootfs-overlay'],
    value: 'true|false',
    help: 'With --rootfs DIR: false writes into DIR itself; true (default) gives the container a private writable layer over it',
    target: 'container:rootfsOverlay',
    convert: v.boolean,
  },
  {
    names: ['--pull'],
    value: 'POLICY',
    help: 'With IMAGE: missing (default: pull it when it is not in the store), always, never',
    target: 'cli:pull',
    convert: v.text,
  },
  {
    names: ['-v', '--volume'],
    value: 'SRC:DST[:ro|rw]',
    help: 'Bind-mount host path SRC at DST (repeatable)',
    target: 'container:mounts[]',
    convert: v.bindMountSpec,
  },
  {
    names: ['--mount'],
    value: 'type=TYPE,src=SRC,dst=DST[,readonly]',
    help: "A mount as docker's --mount: type=bind (src= a host path), tmpfs (tmpfs-size=, tmpfs-mode=) or volume (src= a volume's name); dst= the path inside; readonly. SRC:DST[:ro] as -v also works (repeatable)",
    target: 'container:mounts[]',
    convert: v.mountSpec,
  },
  {
    names: ['--tmpfs'],
    value: 'DST[:OPTS]',
    help: "Mount a tmpfs at DST; OPTS: size=64m,mode=1777,ro (repeatable); at /tmp, /run or /dev/shm it replaces the runtime's own",
    target: 'container:mounts[]',
    convert: v.tmpfsSpec,
  },
  {
    names: ['--shm-size'],
    value: 'BYTES',
    help: 'Size of /dev/shm (default 64m; /tmp gets 1g, /run 64m)',
    target: 'container:tmpfsSizes./dev/shm',
    convert: v.size,
  },
  {
    names: ['--network'],
    aliases: ['--net'],
    value: 'none|host|NAME|container:ID',
    help: "'none': own network namespace with only lo (default); 'host': the host's network; NAME: a network made with `network create`; 'container:ID': the network namespace of running container ID",
    target: 'container:network.name',
    convert: v.networkMode,
  },
  {
    names: ['--pod'],
    value: 'NAME',
    help: "Make the container in pod NAME (ts-container pod create): it shares the pod's network, hostname and ipc",
    target: 'container:pod',
    convert: v.text,
  },
  {
    names: ['--network-alias'],
    value: 'NAME',
    help: 'Another name the members of the network resolve to this container (repeatable)',
    target: 'container:network.aliases[]',
    convert: v.text,
  },
  {
    names: ['-p', '--publish'],
    value: '[IP:]HOST:CONTAINER[/udp]',
    help: "Forward a host port to the container (needs --network NAME); taken ports fail the run (repeatable)",
    target: 'container:ports[]',
    convert: v.publishSpec,
  },
  { names: ['--hostname'], value: 'NAME', help: "Hostname inside the container (default: the container's id)", target: 'container:hostname', convert: v.text },
  envFlag('container'),
  {
    names: ['--env-file'],
    value: 'FILE',
    help: "Set the variables of FILE: a KEY=VALUE a line, taken as written; KEY alone copies it from here; '#' lines skipped (repeatable; -e wins when given after it)",
    target: 'container:env{}',
    convert: v.envFile,
  },
  {
    names: ['--entrypoint'],
    value: 'PROGRAM',
    help: "Run PROGRAM instead of the image's Entrypoint, with the words after IMAGE as its arguments (the image's Cmd is not used)",
    target: 'cli:entrypoint',
    convert: v.text,
  },
  workdirFlag('container'),
  { names: ['--read-only'], aliases: ['--readonly'], help: "Mount the rootfs read-only (default for the host's /)", target: 'container:readonly' },
  {
    names: ['--no-read-only'],
    aliases: ['--no-readonly'],
    help: 'Mount the rootfs read-write (default for --rootfs DIR)',
    target: 'container:readonly',
    switchValue: false,
  },
  userFlag('container'),
  { names: ['--init'], help: 'Run a tiny init as PID 1 that reaps zombies and forwards signals', target: 'container:init' },
  {
    names: ['--cap-add'],
    value: 'CAP',
    help: "Add a capability to docker's default set: NET_ADMIN, SYS_PTRACE..., or ALL (repeatable)",
    target: 'container:capabilities.add[]',
    convert: v.text,
  },
  {
    names: ['--cap-drop'],
    value: 'CAP',
    help: 'Drop a capability from the default set, or ALL (repeatable)',
    target: 'container:capabilities.drop[]',
    convert: v.text,
  },
  {
    names: ['--privileged'],
    help: "Every capability, no seccomp filter, nothing of /proc masked, no device rules, /sys writable (the host's / keeps its user namespace); prints a warning",
    target: 'container:privileged',
  },
  {
    names: ['--ulimit'],
    value: 'NAME=SOFT[:HARD]',
    help: 'A resource limit of the process, e.g. nofile=1024:4096 (-1: unlimited; repeatable)',
    target: 'container:rlimits{}',
    convert: v.ulimit,
  },
  {
    names: ['--stop-signal'],
    value: 'SIGNAL',
    help: "The signal 'stop' sends first (default SIGTERM)",
    target: 'container:stopSignal',
    convert: v.signal,
  },
  {
    names: ['--stop-timeout'],
    value: 'SECONDS',
    help: "Seconds 'stop' waits for the container before SIGKILL (default 10)",
    target: 'container:stopTimeout',
    convert: v.seconds,
  },
  {
    names: ['-m', '--memory'],
    value: 'BYTES',
    help: 'Memory limit, e.g. 512m (the container is OOM-killed past it)',
    target: 'container:resources.memory',
    convert: v.size,
  },
  {
    names: ['--memory-swap'],
    value: 'BYTES',
    help: 'Memory plus swap limit; -1 for unlimited swap',
    target: 'container:resources.memorySwap',
    convert: v.size,
  },
  { names: ['--cpus'], value: 'N', help: 'CPU time as a number of CPUs, e.g. 1.5', target: 'container:resources.cpus', convert: v.decimal },
  {
    names: ['--cpu-weight'],
    aliases: ['--cpu-shares-weight'],
    value: 'N',
    help: 'Relative CPU share, 1-10000',
    target: 'container:resources.cpuWeight',
    convert: v.integer,
  },
  { names: ['--cpuset-cpus'], value: 'LIST', help: 'CPUs the container may use, e.g. 0-1', target: 'container:resources.cpuset', convert: v.text },
  {
    names: ['--pids-limit'],
    value: 'N',
    help: 'Most processes and threads at once (default 2048 where the host has the pids controller; -1: unlimited)',
    target: 'container:resources.pids',
    convert: v.integer,
  },
  {
    names: ['-t', '--tty'],
    help: "Give COMMAND a terminal of this terminal's size (stderr goes to it too)",
    target: 'container:tty',
  },
  {
    names: ['-i', '--interactive'],
    help: "With -t, type into COMMAND's terminal (for a shell: -it); without -t, stdin is passed as it is anyway",
    target: 'cli:interactive',
  },
  ...HEALTH_FLAGS,
];

/** run's flags: the container's, and what only a command that waits for its program has. */
export const RUN_FLAGS: readonly FlagDef[] = [DETACH_FLAG, ...CONTAINER_FLAGS.slice(0, 3), RM_FLAG, ...CONTAINER_FLAGS.slice(3), USAGE_FLAG];
