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
  /** The program and its arguments (never empty). */
  argv: string[];
  /** Print the usage report (cpu, memory peak, OOM) on stderr after the command. */
  printUsage?: boolean;
  /** -i: with a terminal (-t, options.tty), what is typed here goes to the command. */
  interactive?: boolean;
}

export interface StartCommand extends StateRootField {
  kind: 'start';
  id: string;
}

export interface ExecCommand extends StateRootField {
  kind: 'exec';
  id: string;
  argv: string[];
  env?: Record<string, string>;
  user?: { uid: number; gid?: number };
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

export interface PsCommand extends StateRootField {
  kind: 'ps';
  id: string;
  json: boolean;
}

export interface StatsCommand extends StateRootField {
  kind: 'stats';
  ids: string[];
  json: boolean;
}

export interface StateCommand extends StateRootField {
  kind: 'state';
  id: string;
}

export interface LogsCommand extends StateRootField {
  kind: 'logs';
  id: string;
  follow: boolean;
  /** Write the container's bytes as they are, control characters and all, also to a terminal. */
  raw: boolean;
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

export type LifecycleCommand =
  | StartCommand
  | ExecCommand
  | ListCommand
  | PsCommand
  | StatsCommand
  | StateCommand
  | LogsCommand
  | KillCommand
  | StopCommand
  | PauseResumeCommand
  | DeleteCommand
  | CommitCommand;

export type ParsedCommandLine =
  | { kind: 'help'; topic: HelpTopic }
  | { kind: 'version' }
  | RunCommand
  | LifecycleCommand;

/** A command's own result, before the global flags are added. */
export type ParsedCommand = RunCommand | LifecycleCommand;

export type { CommandName, HelpTopic };
