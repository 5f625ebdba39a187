/**
 * What parsing a command line gives: one object per command, with the library's options
 * already built from the flags, for the code that runs it (run-command.ts, commands/). Types
 * only, and the exit statuses of the CLI itself.
 */
import type { ContainerOptions } from '../options/types';
import type { CommitChanges } from '../images/commit-changes';
import type { CommandName, HelpTopic } from './usage-error';

/** Exit statuses of the CLI itself, as docker and podman use them. */
export const EXIT_RUNTIME_ERROR = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export interface ParseContext {
  /** Base for relative --mount sources, --rootfs and --root; default '/'. */
  cwd?: string;
  /** Looked up by `-e NAME` (without `=`), as docker does; default: no variables. */
  env?: Record<string, string | undefined>;
}

/** What every command that reads container state carries: the global `--root DIR`. */
interface StateRootField {
  /** The state directory to look in; undefined: the library's default. */
  stateRoot?: string;
}

export interface RunCommand {
  /** `create` makes the same container as `run -d` but leaves its program waiting for `start`. */
  kind: 'run' | 'create';
  /** Options for `new Container(...)` (with --name as id, --root as stateRoot, -d as detach). */
  options: ContainerOptions;
  /** The program and its arguments (never empty); absent with an image: its Entrypoint and Cmd. */
  argv?: string[];
  /** Print the usage report (cpu, memory peak, OOM) on stderr after the command. */
  printUsage?: boolean;
  /** -i: with a terminal (-t, options.tty), what is typed here goes to the command. */
  interactive?: boolean;
  /** --rm: delete the container when its program exits (else it stays, stopped, as docker's). */
  rm?: boolean;
  /** With an image (options.image): when to pull it first, as docker's --pull (default 'missing'). */
  pull?: PullPolicy;
}

/** docker's --pull: pull a missing image (default), always pull, or never. */
export type PullPolicy = 'missing' | 'always' | 'never';

export interface StartCommand extends StateRootField {
  kind: 'start';
  id: string;
}

export interface ExecCommand extends StateRootField {
  kind: 'exec';
  id: string;
  argv: string[];
  env?: Record<string, string>;
  /** -u NAME[:GROUP] or UID[:GID], resolved in the container. */
  user?: string;
  cwd?: string;
  /** -i: the caller's stdin goes to the program (without it, the program's stdin is empty). */
  interactive: boolean;
  /** -t: the program gets a terminal. */
  tty: boolean;
}

export interface ListCommand extends StateRootField {
  kind: 'list';
  /** table (default), json (--json: the entries as the library returns them) or ids (-q). */
  format: 'table' | 'json' | 'ids';
}

/** `ps`: docker's list, without stopped containers unless -a. */
export interface PsCommand extends StateRootField {
  kind: 'ps';
  /** -a: stopped containers too. */
  all: boolean;
  /** -q: ids only. */
  quiet: boolean;
  /** --format: 'json' (one object a line), a Go-template-like text ('table ...' for a table), or the default table. */
  format?: string;
}

/** `top ID`: the processes of one container. */
export interface TopCommand extends StateRootField {
  kind: 'top';
  id: string;
  json: boolean;
}

export interface StatsCommand extends StateRootField {
  kind: 'stats';
  /** None: every running container. */
  ids: string[];
  json: boolean;
  /** Print a reading each second until interrupted (default), or one (--no-stream). */
  stream: boolean;
}

/** `wait ID...`: each container's exit code once it has stopped. */
export interface WaitCommand extends StateRootField {
  kind: 'wait';
  ids: string[];
}

/** `info`: the runtime, the host and the roots it works in. */
export interface InfoCommand extends StateRootField {
  kind: 'info';
  dataRoot?: string;
  json: boolean;
}

export interface StateCommand extends StateRootField {
  kind: 'state';
  id: string;
}

/** `port ID [PRIVATE_PORT[/PROTO]]`: the container's published ports, as docker port prints them. */
export interface PortCommand extends StateRootField {
  kind: 'port';
  id: string;
  /** Only this container port (and protocol, default tcp). */
  filter?: { port: number; protocol: 'tcp' | 'udp' };
}

export interface LogsCommand extends StateRootField {
  kind: 'logs';
  id: string;
  follow: boolean;
  /** Write the container's bytes as they are, control characters and all, also to a terminal. */
  raw: boolean;
  /** -t: each line starts with its time. */
  timestamps?: boolean;
  /** --tail N: the last N lines; absent: all. */
  tail?: number;
  /** --since: a duration before now (read when the command runs) or a time, in ms. */
  since?: { agoMs: number } | { atMs: number };
}

export interface KillCommand extends StateRootField {
  kind: 'kill';
  id: string;
  signal: NodeJS.Signals | number;
}

export interface StopCommand extends StateRootField {
  kind: 'stop';
  ids: string[];
  /** Seconds between SIGTERM and SIGKILL; undefined: the library's default. */
  timeout?: number;
}

export interface PauseResumeCommand extends StateRootField {
  kind: 'pause' | 'resume';
  id: string;
}

export interface DeleteCommand extends StateRootField {
  kind: 'delete';
  ids: string[];
  /** -f: kill a container that still runs instead of refusing. */
  force: boolean;
}

/** `commit CONTAINER REFERENCE`: the container's changes as a new image. */
export interface CommitCommand extends StateRootField {
  kind: 'commit';
  id: string;
  reference: string;
  changes: CommitChanges;
  message?: string;
  author?: string;
  pause: boolean;
}

/** One side of `cp`: a path in a container, a host path, or "-" (a tar on stdin or stdout). */
export type CopyEndpoint = { kind: 'container'; id: string; path: string } | { kind: 'host'; path: string } | { kind: 'stdio' };

export interface CopyCommand extends StateRootField {
  kind: 'cp';
  source: CopyEndpoint;
  destination: CopyEndpoint;
}

export type LifecycleCommand =
  | CopyCommand
  | StartCommand
  | ExecCommand
  | ListCommand
  | PsCommand
  | TopCommand
  | WaitCommand
  | InfoCommand
  | StatsCommand
  | StateCommand
  | PortCommand
  | LogsCommand
  | KillCommand
  | StopCommand
  | PauseResumeCommand
  | DeleteCommand
  | CommitCommand;

/** What every image command carries: the global `--data-root DIR`. */
interface DataRootField {
  /** The data root of the image store; undefined: the library's default. */
  dataRoot?: string;
}

export interface PullCommand extends DataRootField {
  kind: 'pull';
  reference: string;
  /** -q: print the image id alone. */
  quiet: boolean;
  platform?: string;
}

export interface ImagesCommand extends DataRootField {
  kind: 'images';
  format: 'table' | 'json' | 'ids';
}

export interface RmiCommand extends DataRootField {
  kind: 'rmi';
  references: string[];
  force: boolean;
}

export interface TagCommand extends DataRootField {
  kind: 'tag';
  source: string;
  target: string;
}

export interface SaveCommand extends DataRootField {
  kind: 'save';
  reference: string;
  output: string;
  format: 'docker-archive' | 'oci-archive';
}

export interface LoadCommand extends DataRootField {
  kind: 'load';
  input: string;
  quiet: boolean;
}

export interface PushCommand extends DataRootField {
  kind: 'push';
  source: string;
  /** Where to push; default: the registry and repository the source's reference names. */
  target?: string;
  quiet: boolean;
}

export interface InspectCommand extends DataRootField, StateRootField {
  kind: 'inspect';
  names: string[];
  /** docker's --type: look only among images or only among containers. */
  type?: 'image' | 'container';
}

/** `pod create|ls|rm`: pods of the data root (global --data-root), pause containers of the state root (--root). */
export type PodAction = 'create' | 'ls' | 'rm';

export interface PodCommand extends DataRootField, StateRootField {
  kind: 'pod';
  action: PodAction;
  /** create: the one name; rm: the pods to remove; ls: none. */
  names: string[];
  /** create: the network the pod is attached to. */
  network?: string;
  /** create: the published ports (Pod.create's ports). */
  ports?: unknown[];
  /** rm -f: kill the pod's running containers first. */
  force: boolean;
  /** ls: a table, --json or -q names. */
  format: 'table' | 'json' | 'ids';
}

export type ImageCommand = PullCommand | ImagesCommand | RmiCommand | TagCommand | SaveCommand | LoadCommand | PushCommand | InspectCommand;

const IMAGE_KINDS: ReadonlySet<string> = new Set(['pull', 'images', 'rmi', 'tag', 'save', 'load', 'push', 'inspect']);

export function isImageCommand(cmd: { kind: string }): cmd is ImageCommand {
  return IMAGE_KINDS.has(cmd.kind);
}

/** `network create|ls|inspect|rm|connect|disconnect` (definitions/network-commands.ts). */
export interface NetworkCommand extends DataRootField, StateRootField {
  kind: 'network';
  verb: 'create' | 'ls' | 'inspect' | 'rm' | 'connect' | 'disconnect';
  /** connect: --alias NAME, each. */
  aliases: string[];
  names: string[];
  subnet?: string;
  internal: boolean;
  /** create: --mtu N. */
  mtu?: number;
  json: boolean;
  force: boolean;
}

export type ParsedCommandLine =
  | { kind: 'help'; topic: HelpTopic }
  | { kind: 'version' }
  | RunCommand
  | LifecycleCommand
  | ImageCommand
  | PodCommand
  | NetworkCommand;

/** A command's own result, before the global flags are added. */
export type ParsedCommand = RunCommand | LifecycleCommand | ImageCommand | PodCommand | NetworkCommand;

export type { CommandName, HelpTopic };
