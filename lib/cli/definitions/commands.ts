/**
 * One declaration per command of `ts-container`: its words, its help, its flags, and how its
 * flags and arguments become the parsed command. program.ts makes commander's parser from these,
 * help.ts the help texts; nothing else knows a command's flags.
 */
import type { ContainerOptions } from '../../options/types';
import type { CommandName } from '../usage-error';
import { UsageError } from '../usage-error';
import type { LogsCommand, ParsedCommand } from '../parsed';
import type { AppliedFlags } from './applied-flags';
import { FlagValueError, type FlagDef } from './flag';
import { CONTAINER_FLAGS, DETACH_FLAG, envFlag, RM_FLAG, RUN_FLAGS, USAGE_FLAG, userFlag, workdirFlag } from './run-flags';
import { IMAGE_COMMANDS } from './image-commands';
import { NETWORK_COMMAND } from './network-commands';
import * as v from './values';
import { COMMIT_COMMAND } from './commit-command';
import { CONTAINER_ID } from './container-id';
import { CP_COMMAND } from './cp-command';
import { POD_COMMAND } from './pod-command';
import { parsePsTemplate } from '../ps-template';


export interface CommandDef {
  name: CommandName;
  aliases?: readonly string[];
  /** One line in the general help's list of commands. */
  summary: string;
  /** What follows `ts-container NAME` in the usage line. */
  usage: string;
  /** The text under the usage line. */
  description: string;
  /** Text after the flags: exit statuses, examples. */
  footer?: string;
  flags: readonly FlagDef[];
  /**
   * Flags accepted only to say why not (create's -d), with the reason; not in the help.
   */
  refusedFlags?: readonly { flag: FlagDef; reason: string }[];
  /** Flags end at the first argument: what follows belongs to the program (run, exec) or is a signal (kill). */
  flagsEndAtPositional?: boolean;
  /** Which of the library's option checks the built options go through before anything runs. */
  checkedBy?: 'container' | 'process';
  /** `literal`: the arguments all came after a `--` that preceded every argument. */
  build(flags: AppliedFlags, args: string[], literal: boolean): ParsedCommand;
}

export const HELP_FLAG: FlagDef = { names: ['-h', '--help'], help: 'Show this help', target: 'cli:help' };

const ID_NOTE = `Containers are looked up in the state directory (global --root DIR, or
$TS_CONTAINER_STATE_ROOT). An unknown ID exits with status 1.`;

/** An id given as an argument: checked here, since it names a directory to look in. */
function containerId(command: CommandName, id: string): string {
  if (!CONTAINER_ID.test(id)) {
    throw new UsageError(
      `${command}: '${id}' is not a container id (1-64 letters, digits, '_', '.' or '-', starting with a letter or digit)`,
      undefined,
      command,
    );
  }
  return id;
}

function oneId(command: CommandName, args: string[]): string {
  if (args.length !== 1) {
    throw new UsageError(
      args.length === 0
        ? `${command}: no container id given (usage: ts-container ${command} ID)`
        : `${command}: expected one container id, got ${args.length}: ${args.join(' ')}`,
      undefined,
      command,
    );
  }
  return containerId(command, args[0]);
}

function someIds(command: CommandName, args: string[]): string[] {
  if (args.length === 0) throw new UsageError(`${command}: no container id given (usage: ts-container ${command} ID...)`, undefined, command);
  return args.map((id) => containerId(command, id));
}

/** The program to run, after run's flags or exec's id. */
function programArgv(command: CommandName, argv: string[], missing: string): string[] {
  if (argv.length === 0) throw new UsageError(missing, undefined, command);
  if (argv[0] === '') throw new UsageError(`${command}: the command is an empty string`, undefined, command);
  return argv;
}

/**
 * What the command line itself decides about run's and create's flags together: --rm ends
 * with the first exit, which a restart policy would not; --usage needs a command that waits for
 * its program. (Each value, and --restart with detach, is the library's to check.)
 */
function checkForeground(verb: 'run' | 'create', flags: AppliedFlags, detach: boolean): void {
  const rm = flags.spellingOf('cli:rm');
  if (rm !== undefined && flags.container.restart !== undefined && flags.container.restart !== 'no') {
    throw new UsageError(`${rm}: conflicts with --restart: a restarted container is not deleted when it exits`, rm, verb);
  }
  const usage = flags.spellingOf('cli:printUsage');
  if (usage !== undefined && detach) {
    throw new UsageError(`${usage}: needs a foreground run: the usage is printed when the command exits`, usage, verb);
  }
}

/**
 * run's and create's words, as docker reads them: IMAGE [COMMAND [ARG...]]. Without an image,
 * the container's root is the host's / or --rootfs DIR, and the command comes after `--`
 * (or, with --rootfs, is all the arguments).
 */
function imageAndArgv(verb: 'run' | 'create', flags: AppliedFlags, args: string[], literal: boolean): { image?: string; argv?: string[] } {
  const usage = `(usage: ts-container ${verb} [OPTIONS] IMAGE [COMMAND [ARG...]], or ${verb} [OPTIONS] -- COMMAND [ARG...])`;
  // --entrypoint PROGRAM: the program, and the words after the image (or all of them) its arguments.
  const entrypoint = flags.cli.entrypoint as string | undefined;
  if (entrypoint === '') throw new UsageError('--entrypoint: the program is an empty string', '--entrypoint', verb);
  if (entrypoint !== undefined && (literal || flags.container.rootfs !== undefined)) return { argv: [entrypoint, ...args] };
  if (literal || flags.container.rootfs !== undefined) return { argv: programArgv(verb, args, `${verb}: no command given ${usage}`) };
  const [image, ...rest] = args;
  if (image === undefined) throw new UsageError(`${verb}: no image or command given ${usage}`, undefined, verb);
  if (image === '') throw new UsageError(`${verb}: the image is an empty string`, undefined, verb);
  // `run IMAGE -- CMD` reads as `run IMAGE CMD`.
  const argv = rest[0] === '--' ? rest.slice(1) : rest;
  if (entrypoint !== undefined) return { image, argv: [entrypoint, ...argv] };
  return { image, ...(argv.length > 0 && { argv: programArgv(verb, argv, '') }) };
}

/** `--network container:ID`: the library's { container } (another container's network namespace). */
function joinedNetwork(verb: 'run' | 'create', options: ContainerOptions): void {
  const network = options.network as string | { name?: string; aliases?: string[] } | undefined;
  const name = typeof network === 'object' ? network.name : network;
  if (typeof name !== 'string' || !name.startsWith('container:')) return;
  if (typeof network === 'object' && network.aliases !== undefined) {
    throw new UsageError('--network-alias: needs --network NAME (a network; container:ID shares another container\'s)', '--network-alias', verb);
  }
  options.network = { container: name.slice('container:'.length) };
}

function buildRun(verb: 'run' | 'create', flags: AppliedFlags, args: string[], literal: boolean): ParsedCommand {
  const { image, argv } = imageAndArgv(verb, flags, args, literal);
  const options = flags.container as ContainerOptions & { image?: string };
  if (image !== undefined) options.image = image;
  // --network NAME alone is the plain option; with --network-alias it is { name, aliases }.
  const network = options.network;
  if (typeof network === 'object' && 'aliases' in network && network.name === undefined) {
    throw new UsageError('--network-alias: needs --network NAME', '--network-alias', verb);
  }
  if (typeof network === 'object' && 'name' in network && network.aliases === undefined) options.network = network.name;
  const pull = flags.cli.pull as string | undefined;
  if (pull !== undefined && pull !== 'missing' && pull !== 'always' && pull !== 'never') {
    throw new UsageError(`--pull: expected missing, always or never, got '${pull}'`, '--pull', verb);
  }
  if (pull !== undefined && image === undefined) throw new UsageError('--pull: needs an image (run [OPTIONS] IMAGE ...)', '--pull', verb);
  joinedNetwork(verb, options);
  // A created container is always detached: the CLI that made it exits before `start`.
  if (verb === 'create') options.detach = true;
  checkForeground(verb, flags, options.detach === true);
  return {
    kind: verb,
    options,
    ...(argv !== undefined && { argv }),
    ...(pull !== undefined && { pull: pull as 'missing' | 'always' | 'never' }),
    ...(flags.cli.rm === true ? { rm: true } : {}),
    ...(flags.cli.printUsage === true ? { printUsage: true } : {}),
    ...(flags.cli.interactive === true ? { interactive: true } : {}),
  };
}

const RUN_DESCRIPTION = `Run COMMAND in a new container, with stdin, stdout and stderr inherited, and
exit with its status (128+N when it is killed by signal N).

With IMAGE, the root is the image's layers plus a private writable layer, and
COMMAND defaults to the image's Entrypoint and Cmd; a missing image is pulled
first (--pull). Without one (run -- COMMAND), the root is the host's / mounted
read-only, or --rootfs DIR. The container has its own
pid, mount, uts, ipc, net and cgroup namespaces, only a loopback network, and
a fresh /proc, /dev and /tmp.

As docker's, the container stays once COMMAND exits, stopped, with its exit
status and writable layer (list, inspect, commit, start, and 'delete ID' to
remove it); --rm removes it then instead.`;

const EXEC_FLAGS: readonly FlagDef[] = [
  envFlag('process'),
  userFlag('process'),
  workdirFlag('process'),
  {
    names: ['-i', '--interactive'],
    help: 'Pass stdin to COMMAND (default: COMMAND reads an empty stdin); with -t, type into its terminal (for a shell: -it)',
    target: 'cli:interactive',
  },
  { names: ['-t', '--tty'], help: "Give COMMAND a terminal of this terminal's size (stderr goes to it too)", target: 'process:tty' },
];

/** A listing's output (list, images): a table, --json or -q ids; it takes no arguments. */
export function listFormat(command: 'list' | 'images', flags: AppliedFlags, args: string[]): 'table' | 'json' | 'ids' {
  if (args.length > 0) throw new UsageError(`${command}: takes no arguments, got '${args[0]}'`, undefined, command);
  if (flags.cli.json && flags.cli.quiet) throw new UsageError(`${command}: --json and -q do not go together: pick one output`, undefined, command);
  return flags.cli.json ? 'json' : flags.cli.quiet ? 'ids' : 'table';
}

const JSON_FLAG = (what: string): FlagDef => ({ names: ['--json'], help: what, target: 'cli:json' });

/** start, state, pause, resume: one id, no flags. */
function byId(name: 'start' | 'state' | 'pause' | 'resume', summary: string, description: string): CommandDef {
  return {
    name,
    summary,
    usage: 'ID',
    description,
    footer: ID_NOTE,
    flags: [],
    build: (_flags, args) => ({ kind: name, id: oneId(name, args) }),
  };
}

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'run',
    summary: 'Run a command in a new container (-d: in the background)',
    usage: '[OPTIONS] IMAGE [COMMAND [ARG...]]\n       ts-container run [OPTIONS] [--rootfs DIR] -- COMMAND [ARG...]',
    description: RUN_DESCRIPTION,
    footer: `Exit status: the command's own; 125 when ts-container itself fails (bad option,
container setup); 126 when COMMAND cannot be executed; 127 when it is not found.

Examples:
  ts-container run --rm alpine:3.20 cat /etc/os-release
  ts-container run -- sh -c 'echo hello from $(hostname)'
  ts-container run --mount "$PWD:/repo:ro" --tmpfs /scratch -w /repo -- ls -l
  ts-container run --rootfs ./rootfs --hostname box -e FOO=bar -- /bin/sh`,
    flags: RUN_FLAGS,
    flagsEndAtPositional: true,
    checkedBy: 'container',
    build: (flags, args, literal) => buildRun('run', flags, args, literal),
  },
  {
    name: 'create',
    summary: "Create a container whose command waits for 'start'",
    usage: '[OPTIONS] [--] COMMAND [ARG...]',
    description: `Create a detached container that runs COMMAND once 'ts-container start ID' is
given: its namespaces, mounts and cgroup are made now, and its program waits.
Prints the container's id.`,
    footer: `Example:
  id=$(ts-container create --name web -- sh -c 'echo started; sleep 1000')
  ts-container start "$id"`,
    flags: CONTAINER_FLAGS,
    refusedFlags: [
      { flag: DETACH_FLAG, reason: 'not a flag of create: a created container is always detached' },
      { flag: RM_FLAG, reason: "not supported with create yet; delete the container with 'ts-container delete ID' once it has stopped" },
      { flag: USAGE_FLAG, reason: 'needs a foreground run: the usage is printed when the command exits' },
    ],
    flagsEndAtPositional: true,
    checkedBy: 'container',
    build: (flags, args, literal) => buildRun('create', flags, args, literal),
  },
  byId('start', 'Start a created container, or run a stopped one again', `Start a created container. A stopped container is made again from the options
it was created with and started, as docker start does. Prints the id.`),
  {
    name: 'exec',
    summary: 'Run a command in a running container',
    usage: '[OPTIONS] ID COMMAND [ARG...]',
    description: `Run COMMAND in the running container ID (its namespaces, cgroup, rootfs and
user), with this terminal's stdout and stderr, and exit with its status.`,
    footer: `Exit status: COMMAND's own; 126 when it cannot be executed, 127 when it is not
found, 125 when ts-container fails, 1 when ID is unknown or not running.

Example:
  ts-container exec -it web sh`,
    flags: EXEC_FLAGS,
    flagsEndAtPositional: true,
    checkedBy: 'process',
    build(flags, args) {
      const [id, ...rest] = args;
      if (id === undefined) throw new UsageError('exec: no container id given (usage: ts-container exec [OPTIONS] ID COMMAND [ARG...])', undefined, 'exec');
      const checkedId = containerId('exec', id);
      const argv = programArgv('exec', rest, `exec: no command given after the container id '${id}'`);
      const p = flags.process as { env?: Record<string, string>; user?: string; cwd?: string };
      return {
        kind: 'exec',
        id: checkedId,
        argv,
        ...(p.env && { env: p.env }),
        ...(p.user && { user: p.user }),
        ...(p.cwd !== undefined && { cwd: p.cwd }),
        interactive: flags.cli.interactive === true,
        tty: flags.process.tty === true,
      };
    },
  },
  {
    name: 'list',
    aliases: ['ls'],
    summary: 'List containers',
    usage: '[OPTIONS]',
    description: `List the containers of the state directory, with their status: created,
running, paused, stopped (with the exit status), or unknown when the state
cannot be read.`,
    flags: [JSON_FLAG('Print the entries as a JSON array'), { names: ['-q', '--quiet'], help: 'Print only the ids', target: 'cli:quiet' }],
    build: (flags, args) => ({ kind: 'list', format: listFormat('list', flags, args) }),
  },
  {
    name: 'ps',
    summary: 'List running containers (-a: stopped ones too)',
    usage: '[OPTIONS]',
    description: `List the containers of the state directory as docker ps does: those not
stopped, or with -a all of them. 'list' shows all of them in its own columns.`,
    footer: `--format takes 'json' (one JSON object a line) or a template of these fields:
{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.CreatedAt}} {{.RunningFor}}
{{.Status}} {{.State}} {{.Ports}} {{.Pid}}; 'table' before it prints a header
and aligns the columns (\t separates them), as docker's does.

Examples:
  ts-container ps -a --format '{{.Names}} {{.Status}}'
  ts-container ps --format 'table {{.ID}}\t{{.Image}}\t{{.Ports}}'`,
    flags: [
      { names: ['-a', '--all'], help: 'Show stopped containers too', target: 'cli:all' },
      { names: ['-q', '--quiet'], help: 'Print only the ids', target: 'cli:quiet' },
      { names: ['--format'], value: 'FORMAT', help: "'json', or a template such as 'table {{.ID}}\t{{.Status}}'", target: 'cli:format', convert: v.text },
    ],
    build(flags, args) {
      if (args.length > 0) throw new UsageError(`ps: takes no arguments, got '${args[0]}' (the processes of a container: ts-container top ID)`, undefined, 'ps');
      const format = flags.cli.format as string | undefined;
      if (format !== undefined && flags.cli.quiet === true) throw new UsageError('ps: --format and -q do not go together: pick one output', undefined, 'ps');
      if (format === '') throw new UsageError('--format: expected json or a template, got an empty string', '--format', 'ps');
      if (format !== undefined && format !== 'json') {
        try {
          parsePsTemplate(format);
        } catch (err) {
          throw new UsageError(`--format: ${(err as Error).message}`, '--format', 'ps');
        }
      }
      return { kind: 'ps', all: flags.cli.all === true, quiet: flags.cli.quiet === true, ...(format !== undefined && { format }) };
    },
  },
  {
    name: 'top',
    summary: 'List the processes of a container',
    usage: '[OPTIONS] ID',
    description: 'List the processes of container ID (host pids and command lines).',
    footer: ID_NOTE,
    flags: [JSON_FLAG('Print a JSON array of { pid, command }')],
    build: (flags, args) => ({ kind: 'top', id: oneId('top', args), json: flags.cli.json === true }),
  },
  {
    name: 'stats',
    summary: "Show containers' CPU, memory, process and I/O use, live",
    usage: '[OPTIONS] [ID...]',
    description: `Show what running containers use, from their cgroups: CPU, memory against its
limit, processes against their limit, and block I/O. Without ID, every running
container. As docker stats, it prints a new reading each second until Ctrl-C
(on a terminal, in place); --no-stream prints one (CPU measured over half a
second) and exits.`,
    footer: ID_NOTE,
    flags: [
      { names: ['--no-stream'], help: 'Print one reading and exit', target: 'cli:noStream' },
      JSON_FLAG('Print a JSON array of { id, cpuPercent, stats } (stats as Container.stats()) per reading'),
    ],
    build: (flags, args) => ({
      kind: 'stats',
      ids: args.map((id) => containerId('stats', id)),
      json: flags.cli.json === true,
      stream: flags.cli.noStream !== true,
    }),
  },
  {
    name: 'wait',
    summary: 'Wait for containers to stop; print their exit codes',
    usage: 'ID...',
    description: `Wait until each container has stopped, and print its exit code, one line each
in the order given (128+N for a container killed by signal N), as docker wait.`,
    footer: ID_NOTE,
    flags: [],
    build: (_flags, args) => ({ kind: 'wait', ids: someIds('wait', args) }),
  },
  {
    name: 'info',
    summary: 'Show the runtime, the host and the roots it uses',
    usage: '[OPTIONS]',
    description: `Show the runtime's version, the kernel, the cgroup version, the state and data
roots (global --root and --data-root), and how many containers (running,
paused, stopped) and images they hold.`,
    flags: [JSON_FLAG('Print the same as one JSON object')],
    build(flags, args) {
      if (args.length > 0) throw new UsageError(`info: takes no arguments, got '${args[0]}'`, undefined, 'info');
      return { kind: 'info', json: flags.cli.json === true };
    },
  },
  byId('state', 'Print the OCI state of a container', `Print the state of container ID as JSON, as runc state does: ociVersion, id,
status, pid, bundle, annotations, and when it was created, started, finished.`),
  {
    name: 'logs',
    summary: 'Print the output of a detached container',
    usage: '[OPTIONS] ID',
    description: `Print what the detached container ID has written: its stdout on stdout, its
stderr on stderr. On a terminal, control characters are shown escaped (ESC as
\\x1b; newlines, tabs and \\r\\n line ends as they are), so the container's
output cannot drive the terminal; a pipe or file gets the bytes unchanged.`,
    footer: `${ID_NOTE}

Examples:
  ts-container logs --tail 20 -t web
  ts-container logs --since 10m -f web`,
    flags: [
      {
        names: ['-f', '--follow'],
        help: 'Keep printing new output until the container stops for good (Ctrl-C ends it), also across the log\'s rotation',
        target: 'call:logs.follow',
      },
      { names: ['--raw'], help: 'Write the bytes unchanged also to a terminal', target: 'cli:raw' },
      { names: ['-n', '--tail'], value: 'N', help: 'Only the last N lines (stdout and stderr together); "all" (the default) for every line', target: 'cli:tail', convert: v.tailLines },
      {
        names: ['--since'],
        value: 'DUR|TIME',
        help: 'Only output from then on: a duration before now (30s, 1m30s, 2h), a time (2024-05-01T10:00:00Z) or Unix seconds',
        target: 'cli:since',
        convert: v.sinceTime,
      },
      { names: ['-t', '--timestamps'], help: 'Start each line with the time it was logged (RFC 3339, UTC)', target: 'cli:timestamps' },
    ],
    build: (flags, args) => ({
      kind: 'logs',
      id: oneId('logs', args),
      follow: flags.call.logs !== undefined,
      raw: flags.cli.raw === true,
      ...(flags.cli.timestamps === true ? { timestamps: true } : {}),
      ...(flags.cli.tail !== undefined ? { tail: flags.cli.tail as number } : {}),
      ...(flags.cli.since !== undefined ? { since: flags.cli.since as LogsCommand['since'] } : {}),
    }),
  },
  {
    name: 'kill',
    summary: "Send a signal to a container's processes",
    usage: '[OPTIONS] ID [SIGNAL]',
    description: `Send SIGNAL (default SIGKILL, as docker kill) to every process of container
ID. SIGNAL is a name with or without SIG (KILL, SIGHUP) or a number. Prints the id.`,
    footer: ID_NOTE,
    flags: [{ names: ['-s', '--signal'], value: 'SIGNAL', help: 'The signal, as docker kill takes it', target: 'call:kill.signal', convert: v.signal }],
    // Flags end at the id, so that a signal given as `-9` after it is read as a (bad) signal, not a flag.
    flagsEndAtPositional: true,
    build(flags, args) {
      const [id, positionalSignal, ...extra] = args;
      if (id === undefined) throw new UsageError('kill: no container id given (usage: ts-container kill ID [SIGNAL])', undefined, 'kill');
      if (extra.length > 0) throw new UsageError(`kill: too many arguments: ${args.join(' ')} (usage: ts-container kill ID [SIGNAL])`, undefined, 'kill');
      const flagged = (flags.call.kill as { signal?: NodeJS.Signals | number } | undefined)?.signal;
      const spelling = flags.spellingOf('call:kill.signal');
      if (flagged !== undefined && positionalSignal !== undefined) {
        throw new UsageError(`kill: two signals given (${spelling} and '${positionalSignal}'): give one`, spelling, 'kill');
      }
      let signal: NodeJS.Signals | number = flagged ?? 'SIGKILL';
      if (positionalSignal !== undefined) {
        try {
          signal = v.signal(positionalSignal);
        } catch (err) {
          if (err instanceof FlagValueError) throw new UsageError(`kill: ${err.message}`, undefined, 'kill');
          throw err;
        }
      }
      return { kind: 'kill', id: containerId('kill', id), signal };
    },
  },
  {
    name: 'stop',
    summary: 'Stop containers: SIGTERM, then SIGKILL after a timeout',
    usage: '[OPTIONS] ID...',
    description: `Stop each container: SIGTERM to its main process, SIGKILL to all of it after
the timeout. A restart policy does not bring it back. Prints each id.`,
    footer: ID_NOTE,
    flags: [
      {
        names: ['-t', '--time'],
        aliases: ['--timeout'],
        value: 'SECONDS',
        help: 'Seconds to wait before SIGKILL (default 10)',
        target: 'call:stop.timeout',
        convert: v.seconds,
      },
    ],
    build(flags, args) {
      const timeout = (flags.call.stop as { timeout?: number } | undefined)?.timeout;
      return { kind: 'stop', ids: someIds('stop', args), ...(timeout !== undefined && { timeout }) };
    },
  },
  byId('pause', 'Freeze every process of a container', `Freeze every process of container ID (its cgroup's freezer) until resume.
Prints the id.`),
  byId('resume', 'Thaw a paused container', 'Thaw the paused container ID. Prints the id.'),
  {
    name: 'delete',
    aliases: ['rm'],
    summary: 'Delete containers and what they left behind',
    usage: '[OPTIONS] ID...',
    description: `Delete each container: its processes, cgroup, state directory and writable
layer (a stopped container of run keeps them until then). A running or paused
container is refused, as runc does, unless -f is given. Prints each id.`,
    footer: ID_NOTE,
    flags: [{ names: ['-f', '--force'], help: 'Kill a container that still runs, then delete it', target: 'call:remove.force' }],
    build: (flags, args) => ({ kind: 'delete', ids: someIds('delete', args), force: flags.call.remove !== undefined }),
  },
  ...IMAGE_COMMANDS,
  COMMIT_COMMAND,
  CP_COMMAND,
  POD_COMMAND,
  NETWORK_COMMAND,
  {
    name: 'port',
    summary: "List a container's published ports",
    usage: 'ID [PRIVATE_PORT[/PROTO]]',
    description: `Print the ports published for container ID (run -p, or its pod's), one line each
as docker port does: CONTAINER_PORT/PROTO -> HOST_IP:HOST_PORT. With
PRIVATE_PORT[/PROTO] (tcp by default), print only the host side of that port.`,
    footer: ID_NOTE,
    flags: [],
    build(_flags, args) {
      const [id, wanted, ...rest] = args;
      if (rest.length > 0 || id === undefined) throw new UsageError('port: expected ID [PRIVATE_PORT[/PROTO]]', undefined, 'port');
      if (wanted === undefined) return { kind: 'port', id: containerId('port', id) };
      const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(wanted);
      const port = match ? Number(match[1]) : 0;
      if (!match || port < 1 || port > 65535) throw new UsageError(`port: expected PRIVATE_PORT[/tcp|/udp], got '${wanted}'`, undefined, 'port');
      return { kind: 'port', id: containerId('port', id), filter: { port, protocol: (match[2] ?? 'tcp') as 'tcp' | 'udp' } };
    },
  },
];

/** The flags that come before the command, as runc's --root, --log and --log-format will. */
export const GLOBAL_FLAGS: readonly FlagDef[] = [
  {
    names: ['--root'],
    value: 'DIR',
    valueNoun: 'a directory',
    help: 'Directory of container state (default: $TS_CONTAINER_STATE_ROOT, else /run/ts-container for root, $XDG_RUNTIME_DIR/ts-container for others)',
    target: 'container:stateRoot',
    convert: v.hostPath,
  },
  {
    names: ['--data-root'],
    value: 'DIR',
    valueNoun: 'a directory',
    help: 'Directory of images and writable layers (default: $TS_CONTAINER_DATA_ROOT, else /var/lib/ts-container for root, $XDG_DATA_HOME/ts-container for others)',
    target: 'container:dataRoot',
    convert: v.hostPath,
  },
  HELP_FLAG,
  { names: ['-V', '--version'], help: 'Print the version', target: 'cli:version' },
];

/** The command a word names (`ls` gives list's). */
export function commandNamed(word: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === word || c.aliases?.includes(word));
}
