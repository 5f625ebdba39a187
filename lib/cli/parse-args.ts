/**
 * Command-line parsing for `ts-container`. Pure: no I/O, no process state, no dependencies;
 * everything that depends on the caller (its cwd, its environment) comes in through `ParseContext`.
 *
 *   ts-container run [FLAGS] [--] CMD [ARGS...]
 *   ts-container --help | --version | run --help
 */
import * as path from 'node:path';
import type { ContainerOptions, Mount, ResourceOptions } from '../options/types';
import { parseByteSize } from '../options/sizes';

/** Exit statuses of the CLI itself, as docker and podman use them. */
export const EXIT_RUNTIME_ERROR = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

/** A bad command line. `flag` names the offending flag when there is one. */
export class UsageError extends Error {
  readonly flag: string | undefined;
  /** Which help text would have helped: the general one or `run --help`. */
  readonly topic: 'main' | 'run';
  constructor(message: string, flag?: string, topic: 'main' | 'run' = 'run') {
    super(message);
    this.name = 'UsageError';
    this.flag = flag;
    this.topic = topic;
  }
}

export interface RunCommand {
  kind: 'run';
  /** Options for `new Container(...)`. */
  options: ContainerOptions;
  /** The program and its arguments (never empty). */
  argv: string[];
  /** Print the usage report (cpu, memory peak, OOM) on stderr after the command. */
  printUsage?: boolean;
}

export type ParsedCommandLine =
  | { kind: 'help'; topic: 'main' | 'run' }
  | { kind: 'version' }
  | RunCommand;

export interface ParseContext {
  /** Base for relative --mount sources and --rootfs; default '/'. */
  cwd?: string;
  /** Looked up by `-e NAME` (without `=`), as docker does; default: no variables. */
  env?: Record<string, string | undefined>;
}

export const MAIN_HELP = `Usage: ts-container [--help] [--version] COMMAND

Run Linux programs in containers (namespaces, mounts, capabilities), no image needed.

Commands:
  run       Run a command in a new container

Options:
  -h, --help     Show this help
  -V, --version  Print the version

Run 'ts-container run --help' for the options of run.
`;

export const RUN_HELP = `Usage: ts-container run [OPTIONS] [--] COMMAND [ARG...]

Run COMMAND in a new container, with stdin, stdout and stderr inherited, and exit
with its status (128+N when it is killed by signal N).

By default the container's root is the host's / mounted read-only, with its own
pid, mount, uts, ipc, net and cgroup namespaces, only a loopback network, and
a fresh /proc, /dev and /tmp.

Options:
      --rootfs DIR            Root filesystem directory (default: the host's /, read-only)
      --mount SRC:DST[:ro|rw] Bind-mount host path SRC at DST (repeatable; alias -v)
      --tmpfs DST[:OPTS]      Mount a tmpfs at DST; OPTS: size=64m,mode=1777,ro (repeatable)
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
      --pids-limit N          Most processes and threads at once
      --usage                 After the command, print its resource usage on stderr
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
  rootfs: { names: ['--rootfs'], takesValue: true },
  mount: { names: ['--mount', '-v', '--volume'], takesValue: true },
  tmpfs: { names: ['--tmpfs'], takesValue: true },
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
  help: { names: ['-h', '--help'], takesValue: false },
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ID = /^(0|[1-9][0-9]*)$/;
const MAX_ID = 0xfffffffe; // (uid_t)-1 is "no id"

/** Parses the whole command line after `node cli.js` (i.e. process.argv.slice(2)). */
export function parseCommandLine(args: readonly string[], ctx: ParseContext = {}): ParsedCommandLine {
  let i = 0;
  while (i < args.length) {
    const a = args[i];
    if (a === '-h' || a === '--help' || a === 'help') {
      // `ts-container help run` is the same as `ts-container run --help`.
      if (a === 'help' && args[i + 1] === 'run') return { kind: 'help', topic: 'run' };
      return { kind: 'help', topic: 'main' };
    }
    if (a === '-V' || a === '--version' || a === 'version') return { kind: 'version' };
    if (a === 'run') return parseRun(args.slice(i + 1), ctx);
    if (a.startsWith('-')) throw new UsageError(`unknown flag '${a}'`, a, 'main');
    throw new UsageError(`unknown command '${a}' (the only command is 'run')`, undefined, 'main');
  }
  throw new UsageError('no command given (try: ts-container run -- sh -c "echo hi")', undefined, 'main');
}

/**
 * Parses the arguments of `run` (after the word `run`). Flags come first; `--` or the first
 * argument that is not a flag starts the command, and everything after it belongs to the command.
 */
export function parseRun(args: readonly string[], ctx: ParseContext = {}): ParsedCommandLine {
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

  const handlers: Record<keyof typeof RUN_FLAGS, Handler> = {
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
      const eq = v.indexOf('=');
      const name = eq === -1 ? v : v.slice(0, eq);
      if (!ENV_NAME.test(name)) {
        throw new UsageError(`${flag}: expected KEY=VALUE with KEY a variable name, got '${v}'`, flag);
      }
      if (eq === -1) {
        // docker's `-e NAME`: pass the variable through from the caller, if it has one.
        const value = env[name];
        if (value === undefined) return;
        containerEnv[name] = value;
      } else {
        containerEnv[name] = v.slice(eq + 1);
      }
      envSet = true;
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
      const m = /^([^:]*)(?::(.*))?$/.exec(v)!;
      const uid = parseId(m[1], flag, 'UID', v);
      const user: { uid: number; gid?: number } = { uid };
      if (m[2] !== undefined) user.gid = parseId(m[2], flag, 'GID', v);
      options.user = user;
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
      resources.pids = parseCount(v, flag, 1, 4194304);
    },
    usage() {
      printUsage = true;
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
    } else if (a.length > 2) {
      // Short flag with its value attached: -eFOO=bar, -w/work, -u1000.
      name = a.slice(0, 2);
      inline = a.slice(2);
    }
    const key = byName.get(name);
    if (key === undefined) throw new UsageError(`unknown flag '${name}'`, name);
    const spec = RUN_FLAGS[key];
    if (key === 'help') {
      if (inline !== undefined) throw new UsageError(`unknown flag '${a}'`, a);
      return { kind: 'help', topic: 'run' };
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
    throw new UsageError('run: no command given (usage: ts-container run [OPTIONS] [--] COMMAND [ARG...])');
  }
  if (command[0] === '') throw new UsageError('run: the command is an empty string');

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
  return { kind: 'run', options, argv: command, ...(printUsage ? { printUsage } : {}) };
}

function parseSize(v: string, flag: string): string | number {
  if (parseByteSize(v) === undefined || parseByteSize(v) === 0) {
    throw new UsageError(`${flag}: expected bytes or a size like 512m, got '${v}'`, flag);
  }
  return v;
}

function parseCount(v: string, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got '${v}'`, flag);
  return n;
}

function parseId(s: string, flag: string, what: string, whole: string): number {
  if (!ID.test(s) || Number(s) > MAX_ID) {
    throw new UsageError(`${flag}: expected UID[:GID] as numbers, got '${whole}' (${what} '${s}' is not a numeric id)`, flag);
  }
  return Number(s);
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
