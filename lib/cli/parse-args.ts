/**
 * Command-line parsing for `ts-container`. Pure: no I/O, no process state, no dependencies;
 * everything that depends on the caller (its cwd, its environment) comes in through `ParseContext`.
 *
 *   ts-container [--root DIR] run|create [FLAGS] [--] CMD [ARGS...]
 *   ts-container [--root DIR] start|exec|list|ps|stats|state|logs|kill|stop|pause|resume|delete ...
 *   ts-container --help | --version | COMMAND --help
 *
 * The commands that act on a container by id are parsed in parse-lifecycle.ts.
 */
import * as path from 'node:path';
import type { ContainerOptions, LogRotation, Mount, ResourceOptions } from '../options/types';
import type { RestartPolicy } from '../state/types';
import { parseByteSize } from '../options/sizes';
import { UsageError, type HelpTopic } from './usage-error';
import { parseContainerId, parseEnvAssignment, parseRestartPolicy, parseUserSpec } from './parse-values';
import { lifecycleCommandName, parseLifecycleCommand, type LifecycleCommand } from './parse-lifecycle';

export { UsageError, type HelpTopic } from './usage-error';

/** Exit statuses of the CLI itself, as docker and podman use them. */
export const EXIT_RUNTIME_ERROR = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export interface RunCommand {
  /** `create` makes the same container as `run -d` but leaves its program waiting for `start`. */
  kind: 'run' | 'create';
  /** Options for `new Container(...)` (with --name as id, --root as stateRoot, -d as detach). */
  options: ContainerOptions;
  /** The program and its arguments (never empty). */
  argv: string[];
  /** Print the usage report (cpu, memory peak, OOM) on stderr after the command. */
  printUsage?: boolean;
  /** -i: with a terminal (-t, options.tty), what is typed here goes to the command. */
  interactive?: boolean;
}

export type ParsedCommandLine =
  | { kind: 'help'; topic: HelpTopic }
  | { kind: 'version' }
  | RunCommand
  | LifecycleCommand;

export interface ParseContext {
  /** Base for relative --mount sources, --rootfs and --root; default '/'. */
  cwd?: string;
  /** Looked up by `-e NAME` (without `=`), as docker does; default: no variables. */
  env?: Record<string, string | undefined>;
  /**
   * The state directory given by --root; parseCommandLine fills it in. Without it the library
   * decides (TS_CONTAINER_STATE_ROOT, then its default), for the CLI as for any program.
   */
  stateRoot?: string;
}

export const MAIN_HELP = `Usage: ts-container [--root DIR] COMMAND [ARG...]
       ts-container --help | --version

Run Linux programs in containers (namespaces, mounts, capabilities), no image needed.

Commands:
  run       Run a command in a new container (-d: in the background)
  create    Create a container whose command waits for 'start'
  start     Start a created container, or run a stopped one again
  exec      Run a command in a running container
  list, ls  List containers
  ps        List the processes of a container
  stats     Show a container's CPU, memory, process and I/O use
  state     Print the OCI state of a container
  logs      Print the output of a detached container
  kill      Send a signal to a container's processes
  stop      Stop containers: SIGTERM, then SIGKILL after a timeout
  pause     Freeze every process of a container
  resume    Thaw a paused container
  delete    Delete containers and what they left behind

Options:
      --root DIR     Directory of container state (default: $TS_CONTAINER_STATE_ROOT,
                     else /run/ts-container for root, $XDG_RUNTIME_DIR/ts-container for others)
  -h, --help         Show this help
  -V, --version      Print the version

Run 'ts-container COMMAND --help' for the options of a command.
`;

export const RUN_HELP = `Usage: ts-container run [OPTIONS] [--] COMMAND [ARG...]

Run COMMAND in a new container, with stdin, stdout and stderr inherited, and exit
with its status (128+N when it is killed by signal N).

By default the container's root is the host's / mounted read-only, with its own
pid, mount, uts, ipc, net and cgroup namespaces, only a loopback network, and
a fresh /proc, /dev and /tmp.

Options:
  -d, --detach                Run in the background: print the container's id and exit; its
                              output goes to 'ts-container logs ID'
      --name ID               The container's id (default: a random one)
      --restart POLICY        With -d: no (default), always, unless-stopped, on-failure[:N]
      --log-opt OPTS          With -d, how the log is capped: max-size=10m,max-file=3 (the
                              defaults; the log is rotated past max-size, max-file files kept)
      --rm                    Delete the container when it exits: what run without -d always
                              does (accepted for docker's sake); not with -d yet
      --rootfs DIR            Root filesystem directory (default: the host's /, read-only)
      --mount SRC:DST[:ro|rw] Bind-mount host path SRC at DST (repeatable; alias -v)
      --tmpfs DST[:OPTS]      Mount a tmpfs at DST; OPTS: size=64m,mode=1777,ro (repeatable);
                              at /tmp, /run or /dev/shm it replaces the runtime's own
      --shm-size BYTES        Size of /dev/shm (default 64m; /tmp gets 1g, /run 64m)
      --network none|host     'none': own network namespace with only lo (default)
      --hostname NAME         Hostname inside the container (default: the container's id)
  -e, --env KEY=VALUE         Set an environment variable; '-e KEY' copies it from here (repeatable)
  -w, --workdir DIR           Working directory inside the container
      --readonly              Mount the rootfs read-only (default for the host's /)
      --no-readonly           Mount the rootfs read-write (default for --rootfs DIR)
  -u, --user UID[:GID]        Run as this numeric user id and group id
      --init                  Run a tiny init as PID 1 that reaps zombies and forwards signals
  -m, --memory BYTES          Memory limit, e.g. 512m (the container is OOM-killed past it)
      --memory-swap BYTES     Memory plus swap limit; -1 for unlimited swap
      --cpus N                CPU time as a number of CPUs, e.g. 1.5
      --cpu-weight N          Relative CPU share, 1-10000
      --cpuset-cpus LIST      CPUs the container may use, e.g. 0-1
      --pids-limit N          Most processes and threads at once (default 2048 where the
                              host has the pids controller; -1: unlimited)
      --usage                 After the command, print its resource usage on stderr
  -t, --tty                   Give COMMAND a terminal of this terminal's size (stderr goes to it too)
  -i, --interactive           With -t, type into COMMAND's terminal (for a shell: -it); without
                              -t, stdin is passed as it is anyway
  -h, --help                  Show this help

Exit status: the command's own; 125 when ts-container itself fails (bad option,
container setup); 126 when COMMAND cannot be executed; 127 when it is not found.

Examples:
  ts-container run -- sh -c 'echo hello from $(hostname)'
  ts-container run --mount "$PWD:/repo:ro" --tmpfs /scratch -w /repo -- ls -l
  ts-container run --rootfs ./rootfs --hostname box -e FOO=bar -- /bin/sh
`;

type Handler = (value: string, flag: string) => void;

interface FlagSpec {
  /** Spellings, e.g. ['-e', '--env']. */
  names: string[];
  takesValue: boolean;
}

const RUN_FLAGS: Record<string, FlagSpec> = {
  detach: { names: ['-d', '--detach'], takesValue: false },
  name: { names: ['--name'], takesValue: true },
  restart: { names: ['--restart'], takesValue: true },
  logOpt: { names: ['--log-opt'], takesValue: true },
  rm: { names: ['--rm'], takesValue: false },
  rootfs: { names: ['--rootfs'], takesValue: true },
  mount: { names: ['--mount', '-v', '--volume'], takesValue: true },
  tmpfs: { names: ['--tmpfs'], takesValue: true },
  shmSize: { names: ['--shm-size'], takesValue: true },
  network: { names: ['--network', '--net'], takesValue: true },
  hostname: { names: ['--hostname'], takesValue: true },
  env: { names: ['-e', '--env'], takesValue: true },
  workdir: { names: ['-w', '--workdir', '--cwd'], takesValue: true },
  readonly: { names: ['--readonly', '--read-only'], takesValue: false },
  noReadonly: { names: ['--no-readonly', '--no-read-only'], takesValue: false },
  user: { names: ['-u', '--user'], takesValue: true },
  init: { names: ['--init'], takesValue: false },
  memory: { names: ['-m', '--memory'], takesValue: true },
  memorySwap: { names: ['--memory-swap'], takesValue: true },
  cpus: { names: ['--cpus'], takesValue: true },
  cpuWeight: { names: ['--cpu-weight', '--cpu-shares-weight'], takesValue: true },
  cpusetCpus: { names: ['--cpuset-cpus'], takesValue: true },
  pidsLimit: { names: ['--pids-limit'], takesValue: true },
  usage: { names: ['--usage'], takesValue: false },
  tty: { names: ['-t', '--tty'], takesValue: false },
  interactive: { names: ['-i', '--interactive'], takesValue: false },
  help: { names: ['-h', '--help'], takesValue: false },
};

/** Parses the whole command line after `node cli.js` (i.e. process.argv.slice(2)). */
export function parseCommandLine(args: readonly string[], ctx: ParseContext = {}): ParsedCommandLine {
  // As runc's: --root comes before the command, and every command uses it.
  let rootFlag: string | undefined;
  let i = 0;
  while (i < args.length) {
    const a = args[i];
    if (a === '-h' || a === '--help' || a === 'help') {
      // `ts-container help run` is the same as `ts-container run --help`.
      if (a === 'help' && args[i + 1] !== undefined) return { kind: 'help', topic: helpTopicOf(args[i + 1]) };
      return { kind: 'help', topic: 'main' };
    }
    if (a === '-V' || a === '--version' || a === 'version') return { kind: 'version' };
    if (a === '--root' || a.startsWith('--root=')) {
      const value = a === '--root' ? args[i + 1] : a.slice('--root='.length);
      if (value === undefined) throw new UsageError('--root: requires a directory', '--root', 'main');
      if (value === '') throw new UsageError('--root: expected a directory, got an empty string', '--root', 'main');
      rootFlag = value;
      i += a === '--root' ? 2 : 1;
      continue;
    }
    const withRoot: ParseContext = rootFlag === undefined ? ctx : { ...ctx, stateRoot: path.resolve(ctx.cwd ?? '/', rootFlag) };
    if (a === 'run' || a === 'create') return parseRun(args.slice(i + 1), withRoot, a);
    if (lifecycleCommandName(a) !== undefined) return parseLifecycleCommand(a, args.slice(i + 1), withRoot);
    if (a.startsWith('-')) throw new UsageError(`unknown flag '${a}'`, a, 'main');
    throw new UsageError(`unknown command '${a}'`, undefined, 'main');
  }
  throw new UsageError('no command given (try: ts-container run -- sh -c "echo hi")', undefined, 'main');
}

/** The help text `help WORD` asks for: a command's (aliases included), else the general one. */
function helpTopicOf(word: string): HelpTopic {
  if (word === 'run' || word === 'create') return word;
  return lifecycleCommandName(word) ?? 'main';
}

/**
 * Parses the arguments of `run` (after the word `run`), or of `create` which takes the same.
 * Flags come first; `--` or the first argument that is not a flag starts the command, and
 * everything after it belongs to the command.
 */
export function parseRun(args: readonly string[], ctx: ParseContext = {}, verb: 'run' | 'create' = 'run'): ParsedCommandLine {
  const cwd = ctx.cwd ?? '/';
  const env = ctx.env ?? {};
  const options: ContainerOptions = {};
  const mounts: Mount[] = [];
  const containerEnv: Record<string, string> = {};
  let envSet = false;
  let readonly: boolean | undefined;
  let readonlyFlag: string | undefined;
  const resources: ResourceOptions = {};
  let printUsage = false;
  let detachFlag: string | undefined;
  let restart: { policy: RestartPolicy; flag: string } | undefined;
  let rmFlag: string | undefined;
  let tty = false;
  let interactive = false;

  const handlers: Record<keyof typeof RUN_FLAGS, Handler> = {
    detach(_v, flag) {
      detachFlag = flag;
    },
    name(v, flag) {
      options.id = parseContainerId(v, flag, verb, flag);
    },
    restart(v, flag) {
      restart = { policy: parseRestartPolicy(v, flag, verb), flag };
    },
    logOpt(v, flag) {
      options.log = { ...options.log, ...parseLogOpt(v, flag) };
    },
    rm(_v, flag) {
      rmFlag = flag;
    },
    rootfs(v, flag) {
      if (v === '') throw new UsageError(`${flag}: expected a directory, got an empty string`, flag);
      options.rootfs = path.resolve(cwd, v);
    },
    mount(v, flag) {
      mounts.push(parseMountSpec(v, flag, cwd));
    },
    tmpfs(v, flag) {
      mounts.push(parseTmpfsSpec(v, flag));
    },
    shmSize(v, flag) {
      options.tmpfsSizes = { ...options.tmpfsSizes, '/dev/shm': parseSize(v, flag) };
    },
    network(v, flag) {
      if (v !== 'none' && v !== 'host') {
        throw new UsageError(`${flag}: expected 'none' or 'host', got '${v}'`, flag);
      }
      options.network = v;
    },
    hostname(v, flag) {
      // The kernel's limit (HOST_NAME_MAX) and RFC 1123 labels: what sethostname and resolvers accept.
      if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(v) || v.length > 64) {
        throw new UsageError(`${flag}: '${v}' is not a valid hostname (letters, digits, '-' and '.', at most 64 characters)`, flag);
      }
      options.hostname = v;
    },
    env(v, flag) {
      if (parseEnvAssignment(v, flag, env, containerEnv, verb)) envSet = true;
    },
    workdir(v, flag) {
      if (!v.startsWith('/')) throw new UsageError(`${flag}: expected an absolute path inside the container, got '${v}'`, flag);
      options.cwd = v;
    },
    readonly(_v, flag) {
      readonly = true;
      readonlyFlag = flag;
    },
    noReadonly(_v, flag) {
      readonly = false;
      readonlyFlag = flag;
    },
    user(v, flag) {
      options.user = parseUserSpec(v, flag, verb);
    },
    init() {
      options.init = true;
    },
    memory(v, flag) {
      resources.memory = parseSize(v, flag);
    },
    memorySwap(v, flag) {
      resources.memorySwap = v === '-1' ? -1 : parseSize(v, flag);
    },
    cpus(v, flag) {
      const n = Number(v);
      if (!/^\d*\.?\d+$/.test(v) || !(n >= 0.01)) throw new UsageError(`${flag}: expected a number of CPUs like 1.5, got '${v}'`, flag);
      resources.cpus = n;
    },
    cpuWeight(v, flag) {
      resources.cpuWeight = parseCount(v, flag, 1, 10000);
    },
    cpusetCpus(v, flag) {
      if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new UsageError(`${flag}: expected a CPU list like 0-1,3, got '${v}'`, flag);
      resources.cpuset = v;
    },
    pidsLimit(v, flag) {
      resources.pids = v === '-1' ? -1 : parseCount(v, flag, 1, 4194304);
    },
    usage() {
      printUsage = true;
    },
    tty() {
      tty = true;
    },
    interactive() {
      interactive = true;
    },
    help() {
      /* handled in the loop */
    },
  };

  const byName = new Map<string, keyof typeof RUN_FLAGS>();
  for (const key of Object.keys(RUN_FLAGS) as (keyof typeof RUN_FLAGS)[]) {
    for (const n of RUN_FLAGS[key].names) byName.set(n, key);
  }

  let i = 0;
  let command: string[] | undefined;
  while (i < args.length) {
    const a = args[i];
    if (a === '--') {
      command = args.slice(i + 1);
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      command = args.slice(i);
      break;
    }
    let name = a;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq !== -1) {
        name = a.slice(0, eq);
        inline = a.slice(eq + 1);
      }
    } else if (isShortFlagGroup(a, byName)) {
      // Short flags that take no value, together, as docker takes them: -it, -dt.
      for (const letter of a.slice(1)) handlers[byName.get(`-${letter}`)!]('', `-${letter}`);
      i += 1;
      continue;
    } else if (a.length > 2) {
      // Short flag with its value attached: -eFOO=bar, -w/work, -u1000.
      name = a.slice(0, 2);
      inline = a.slice(2);
    }
    const key = byName.get(name);
    if (key === undefined) throw new UsageError(`unknown flag '${name}'`, name);
    const spec = RUN_FLAGS[key];
    if (key === 'help') {
      if (inline !== undefined) throw new UsageError(`unknown flag '${a}'`, a, verb);
      return { kind: 'help', topic: verb };
    }
    let value = '';
    if (spec.takesValue) {
      if (inline !== undefined) {
        value = inline;
        i += 1;
      } else {
        if (i + 1 >= args.length) throw new UsageError(`${name}: requires a value`, name);
        value = args[i + 1];
        i += 2;
      }
    } else {
      if (inline !== undefined) {
        // A boolean flag: `--init=x` or `-hx` (short flags do not combine).
        throw new UsageError(`${name}: takes no value, got '${a}'`, name);
      }
      i += 1;
    }
    handlers[key](value, name);
  }

  if (command === undefined || command.length === 0) {
    throw new UsageError(`${verb}: no command given (usage: ts-container ${verb} [OPTIONS] [--] COMMAND [ARG...])`, undefined, verb);
  }
  if (command[0] === '') throw new UsageError(`${verb}: the command is an empty string`, undefined, verb);

  if (readonly !== undefined) {
    options.readonly = readonly;
    if (readonly === false && options.rootfs === undefined) {
      throw new UsageError(
        `${readonlyFlag}: the default rootfs is the host's /, which is always read-only; use it with --rootfs DIR`,
        readonlyFlag,
      );
    }
  }
  if (mounts.length > 0) options.mounts = mounts;
  if (Object.keys(resources).length > 0) options.resources = resources;
  if (envSet) options.env = containerEnv;
  if (tty) options.tty = true;
  applyLifecycleFlags(options, verb, { detachFlag, restart, rmFlag, printUsage }, ctx);
  return { kind: verb, options, argv: command, ...(printUsage ? { printUsage } : {}), ...(interactive ? { interactive } : {}) };
}

/** `-it`: two or more short flags, each of them one that takes no value (and not -h). */
function isShortFlagGroup(arg: string, byName: Map<string, keyof typeof RUN_FLAGS>): boolean {
  if (!/^-[A-Za-z]{2,}$/.test(arg)) return false;
  return [...arg.slice(1)].every((letter) => {
    const key = byName.get(`-${letter}`);
    return key !== undefined && key !== 'help' && !RUN_FLAGS[key].takesValue;
  });
}

/**
 * The flags of run that decide what outlives the command: -d, --restart, --rm, and the global
 * --root. A created container is always detached: the CLI that made it exits before `start`.
 */
function applyLifecycleFlags(
  options: ContainerOptions,
  verb: 'run' | 'create',
  flags: { detachFlag?: string; restart?: { policy: RestartPolicy; flag: string }; rmFlag?: string; printUsage: boolean },
  ctx: ParseContext,
): void {
  if (verb === 'create' && flags.detachFlag !== undefined) {
    throw new UsageError(`${flags.detachFlag}: not a flag of create: a created container is always detached`, flags.detachFlag, verb);
  }
  const detach = verb === 'create' || flags.detachFlag !== undefined;
  if (detach) options.detach = true;
  if (flags.restart !== undefined && flags.restart.policy !== 'no') {
    // The monitor of a detached container restarts it; without -d nothing outlives this command.
    if (!detach) throw new UsageError(`${flags.restart.flag}: needs -d (--detach): only a detached container is restarted`, flags.restart.flag, verb);
    if (flags.rmFlag !== undefined) throw new UsageError(`${flags.rmFlag}: conflicts with --restart: a restarted container is not deleted when it exits`, flags.rmFlag, verb);
  }
  if (flags.restart !== undefined) options.restart = flags.restart.policy;
  if (flags.rmFlag !== undefined && detach) {
    throw new UsageError(`${flags.rmFlag}: not supported with ${verb === 'create' ? 'create' : '-d'} yet; delete the container with 'ts-container delete ID' once it has stopped`, flags.rmFlag, verb);
  }
  if (flags.printUsage && detach) {
    throw new UsageError(`--usage: needs a foreground run: the usage is printed when the command exits`, '--usage', verb);
  }
  if (ctx.stateRoot !== undefined) options.stateRoot = ctx.stateRoot;
}

function parseSize(v: string, flag: string): string | number {
  if (parseByteSize(v) === undefined || parseByteSize(v) === 0) {
    throw new UsageError(`${flag}: expected bytes or a size like 512m, got '${v}'`, flag);
  }
  return v;
}

/** docker's `--log-opt max-size=10m,max-file=3` (the two options the json-file driver caps with). */
function parseLogOpt(v: string, flag: string): LogRotation {
  const log: LogRotation = {};
  for (const opt of v.split(',')) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'max-size') log.maxSize = parseSize(value, `${flag} max-size`);
    else if (key === 'max-file') log.maxFiles = parseCount(value, `${flag} max-file`, 1, 100);
    else throw new UsageError(`${flag}: unknown log option '${opt}' (known: max-size=, max-file=)`, flag);
  }
  return log;
}

function parseCount(v: string, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got '${v}'`, flag);
  return n;
}

/** `SRC:DST[:ro|rw]`; SRC relative to the caller's cwd, DST absolute inside the container. */
export function parseMountSpec(spec: string, flag = '--mount', cwd = '/'): Mount {
  const parts = spec.split(':');
  let readonly = false;
  if (parts.length === 3) {
    const mode = parts[2];
    if (mode === 'ro') readonly = true;
    else if (mode !== 'rw') {
      throw new UsageError(`${flag}: expected SRC:DST[:ro|rw], got '${spec}' (unknown mode '${mode}')`, flag);
    }
  } else if (parts.length !== 2) {
    throw new UsageError(`${flag}: expected SRC:DST[:ro|rw], got '${spec}'`, flag);
  }
  const [source, target] = parts;
  if (source === '') throw new UsageError(`${flag}: expected SRC:DST[:ro|rw], got '${spec}' (empty source)`, flag);
  if (!target.startsWith('/')) {
    throw new UsageError(`${flag}: the target must be an absolute path inside the container, got '${target}' in '${spec}'`, flag);
  }
  const mount: Mount = { type: 'bind', source: path.resolve(cwd, source), target };
  if (readonly) mount.readonly = true;
  return mount;
}

/** `DST[:size=64m,mode=1777,ro]` (docker's syntax). */
export function parseTmpfsSpec(spec: string, flag = '--tmpfs'): Mount {
  const colon = spec.indexOf(':');
  const target = colon === -1 ? spec : spec.slice(0, colon);
  if (!target.startsWith('/')) {
    throw new UsageError(`${flag}: expected an absolute path inside the container, got '${target}'`, flag);
  }
  const mount: Mount = { type: 'tmpfs', target };
  if (colon !== -1) {
    for (const opt of spec.slice(colon + 1).split(',')) {
      if (opt === '' || opt === 'rw') continue;
      if (opt === 'ro') {
        mount.readonly = true;
        continue;
      }
      const eq = opt.indexOf('=');
      const key = eq === -1 ? opt : opt.slice(0, eq);
      const value = eq === -1 ? '' : opt.slice(eq + 1);
      if (key === 'size') {
        if (!/^[0-9]+[kKmMgG]?$/.test(value)) {
          throw new UsageError(`${flag}: size: expected bytes or a number with k, m or g (e.g. 64m), got '${value}'`, flag);
        }
        mount.size = /^[0-9]+$/.test(value) ? Number(value) : value.toLowerCase();
      } else if (key === 'mode') {
        if (!/^[0-7]{3,4}$/.test(value)) {
          throw new UsageError(`${flag}: mode: expected an octal mode such as 1777, got '${value}'`, flag);
        }
        mount.mode = value;
      } else {
        throw new UsageError(`${flag}: unknown tmpfs option '${opt}' (known: size=, mode=, ro, rw)`, flag);
      }
    }
  }
  return mount;
}
