/**
 * Command-line parsing of the commands that act on containers by id: start, exec, list, ps,
 * state, logs, kill, stop, pause, resume, delete. (`run` and `create`, which make a container
 * from run's many flags, are parsed in parse-args.ts.) Pure, as parse-args.ts is.
 */
import { UsageError, type CommandName } from './usage-error';
import { parseContainerId, parseEnvAssignment, parseSignal, parseUserSpec } from './parse-values';

/** What every command that reads container state carries: the global `--root DIR`. */
interface StateRootField {
  /** The state directory to look in; undefined: the library's default. */
  stateRoot?: string;
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
  | DeleteCommand;

/** The commands parsed here; `ls` is list's alias (`ps` is not: it lists one container's processes). */
const LIFECYCLE: Record<string, LifecycleCommand['kind']> = {
  start: 'start',
  exec: 'exec',
  list: 'list',
  ls: 'list',
  ps: 'ps',
  stats: 'stats',
  state: 'state',
  logs: 'logs',
  kill: 'kill',
  stop: 'stop',
  pause: 'pause',
  resume: 'resume',
  delete: 'delete',
};

/** The command a word names when it is one of those parsed here (`ls` gives 'list'). */
export function lifecycleCommandName(word: string): LifecycleCommand['kind'] | undefined {
  return Object.prototype.hasOwnProperty.call(LIFECYCLE, word) ? LIFECYCLE[word] : undefined;
}

export interface LifecycleContext {
  stateRoot?: string;
  /** For `exec -e NAME`, which copies the caller's variable. */
  env?: Record<string, string | undefined>;
}

interface FlagDef {
  /** Spellings: short ones are one letter after '-' and may be combined (`-it`). */
  names: string[];
  takesValue: boolean;
}

interface ScannedFlag<K> {
  key: K;
  /** The spelling used, for messages. */
  name: string;
  value: string;
}

interface Scanned<K> {
  flags: ScannedFlag<K>[];
  positionals: string[];
  help: boolean;
}

const HELP_FLAG: FlagDef = { names: ['-h', '--help'], takesValue: false };

/**
 * Splits a command's arguments into flags and positionals, docker style: `--flag=value`,
 * `--flag value`, `-fq`, `-t5`, `--` ends the flags. With `flagsEndAtPositional` (exec, kill),
 * everything from the first positional on is positional, so that `exec ID ls -l` passes `-l`
 * to ls; otherwise flags may come anywhere (`stop ID -t 1`).
 */
function scan<K extends string>(
  command: CommandName,
  args: readonly string[],
  defs: Record<K, FlagDef>,
  flagsEndAtPositional: boolean,
): Scanned<K | 'help'> {
  const all: Record<string, FlagDef> = { ...defs, help: HELP_FLAG };
  const byName = new Map<string, K | 'help'>();
  for (const key of Object.keys(all) as (K | 'help')[]) for (const n of all[key].names) byName.set(n, key);
  const lookup = (name: string): K | 'help' => {
    const key = byName.get(name);
    if (key !== undefined) return key;
    if (name === '--root') {
      throw new UsageError(`${command}: --root is a global flag: put it before the command (ts-container --root DIR ${command} ...)`, name, command);
    }
    throw new UsageError(`${command}: unknown flag '${name}'`, name, command);
  };

  const out: Scanned<K | 'help'> = { flags: [], positionals: [], help: false };
  const push = (key: K | 'help', name: string, value: string): void => {
    if (key === 'help') out.help = true;
    else out.flags.push({ key, name, value });
  };
  let i = 0;
  while (i < args.length) {
    const a = args[i];
    i += 1;
    if (a === '--') {
      out.positionals.push(...args.slice(i));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.positionals.push(a);
      if (flagsEndAtPositional) {
        out.positionals.push(...args.slice(i));
        break;
      }
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a : a.slice(0, eq);
      const key = lookup(name);
      if (!all[key].takesValue) {
        if (eq !== -1) throw new UsageError(`${name}: takes no value, got '${a}'`, name, command);
        push(key, name, '');
      } else if (eq !== -1) {
        push(key, name, a.slice(eq + 1));
      } else {
        if (i >= args.length) throw new UsageError(`${name}: requires a value`, name, command);
        push(key, name, args[i]);
        i += 1;
      }
      continue;
    }
    // Short flags: booleans combine (-it); a flag with a value takes the rest of the word (-t5)
    // or the next argument.
    for (let j = 1; j < a.length; j++) {
      const name = `-${a[j]}`;
      const key = lookup(name);
      if (!all[key].takesValue) {
        push(key, name, '');
        continue;
      }
      const rest = a.slice(j + 1);
      if (rest !== '') {
        push(key, name, rest);
      } else {
        if (i >= args.length) throw new UsageError(`${name}: requires a value`, name, command);
        push(key, name, args[i]);
        i += 1;
      }
      break;
    }
  }
  return out;
}

function help<C extends CommandName>(command: C): { kind: 'help'; topic: C } {
  return { kind: 'help', topic: command };
}

/** Exactly one container id, checked. */
function oneId(command: CommandName, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `${command}: no container id given (usage: ts-container ${command} ID)`
        : `${command}: expected one container id, got ${positionals.length}: ${positionals.join(' ')}`,
      undefined,
      command,
    );
  }
  return parseContainerId(positionals[0], command, command);
}

function someIds(command: CommandName, positionals: string[]): string[] {
  if (positionals.length === 0) throw new UsageError(`${command}: no container id given (usage: ts-container ${command} ID...)`, undefined, command);
  return positionals.map((id) => parseContainerId(id, command, command));
}

function withRoot<T extends object>(cmd: T, ctx: LifecycleContext): T & StateRootField {
  return ctx.stateRoot === undefined ? cmd : { ...cmd, stateRoot: ctx.stateRoot };
}

/**
 * Parses the arguments after the command word `word` (start, exec, list, ls, ps, ...).
 * Returns a help request for `-h`/`--help` among the flags.
 */
export function parseLifecycleCommand(
  word: string,
  args: readonly string[],
  ctx: LifecycleContext = {},
): LifecycleCommand | { kind: 'help'; topic: CommandName } {
  const kind = lifecycleCommandName(word);
  if (kind === undefined) throw new UsageError(`unknown command '${word}'`, undefined, 'main');
  switch (kind) {
    case 'start':
    case 'state': {
      const s = scan(kind, args, {}, false);
      if (s.help) return help(kind);
      return withRoot({ kind, id: oneId(kind, s.positionals) }, ctx);
    }
    case 'pause':
    case 'resume': {
      const s = scan(kind, args, {}, false);
      if (s.help) return help(kind);
      return withRoot({ kind, id: oneId(kind, s.positionals) }, ctx);
    }
    case 'exec':
      return parseExec(args, ctx);
    case 'list': {
      const s = scan('list', args, { json: { names: ['--json'], takesValue: false }, quiet: { names: ['-q', '--quiet'], takesValue: false } }, false);
      if (s.help) return help('list');
      if (s.positionals.length > 0) throw new UsageError(`list: takes no arguments, got '${s.positionals[0]}'`, undefined, 'list');
      const json = s.flags.some((f) => f.key === 'json');
      const quiet = s.flags.some((f) => f.key === 'quiet');
      if (json && quiet) throw new UsageError('list: --json and -q do not go together: pick one output', undefined, 'list');
      return withRoot({ kind: 'list', format: json ? 'json' : quiet ? 'ids' : 'table' }, ctx);
    }
    case 'ps': {
      const s = scan('ps', args, { json: { names: ['--json'], takesValue: false } }, false);
      if (s.help) return help('ps');
      return withRoot({ kind: 'ps', id: oneId('ps', s.positionals), json: s.flags.length > 0 }, ctx);
    }
    case 'logs': {
      const s = scan('logs', args, {
        follow: { names: ['-f', '--follow'], takesValue: false },
        raw: { names: ['--raw'], takesValue: false },
      }, false);
      if (s.help) return help('logs');
      const follow = s.flags.some((f) => f.key === 'follow');
      const raw = s.flags.some((f) => f.key === 'raw');
      return withRoot({ kind: 'logs', id: oneId('logs', s.positionals), follow, raw }, ctx);
    }
    case 'kill':
      return parseKill(args, ctx);
    case 'stats': {
      const s = scan('stats', args, { json: { names: ['--json'], takesValue: false } }, false);
      if (s.help) return help('stats');
      return withRoot({ kind: 'stats', ids: someIds('stats', s.positionals), json: s.flags.length > 0 }, ctx);
    }
    case 'stop': {
      const s = scan('stop', args, { timeout: { names: ['-t', '--time', '--timeout'], takesValue: true } }, false);
      if (s.help) return help('stop');
      const cmd: StopCommand = { kind: 'stop', ids: someIds('stop', s.positionals) };
      for (const f of s.flags) {
        if (!/^[0-9]+$/.test(f.value)) {
          throw new UsageError(`${f.name}: expected a whole number of seconds, got '${f.value}'`, f.name, 'stop');
        }
        cmd.timeout = Number(f.value);
      }
      return withRoot(cmd, ctx);
    }
    case 'delete': {
      const s = scan('delete', args, { force: { names: ['-f', '--force'], takesValue: false } }, false);
      if (s.help) return help('delete');
      return withRoot({ kind: 'delete', ids: someIds('delete', s.positionals), force: s.flags.length > 0 }, ctx);
    }
  }
}

/** `exec [-e K=V] [-u UID[:GID]] [-w DIR] [-i] [-t] ID CMD...` */
function parseExec(args: readonly string[], ctx: LifecycleContext): ExecCommand | { kind: 'help'; topic: 'exec' } {
  const s = scan(
    'exec',
    args,
    {
      env: { names: ['-e', '--env'], takesValue: true },
      user: { names: ['-u', '--user'], takesValue: true },
      workdir: { names: ['-w', '--workdir'], takesValue: true },
      interactive: { names: ['-i', '--interactive'], takesValue: false },
      tty: { names: ['-t', '--tty'], takesValue: false },
    },
    true,
  );
  if (s.help) return help('exec');
  const [id, ...argv] = s.positionals;
  if (id === undefined) throw new UsageError('exec: no container id given (usage: ts-container exec [OPTIONS] ID COMMAND [ARG...])', undefined, 'exec');
  const cmd: ExecCommand = { kind: 'exec', id: parseContainerId(id, 'exec', 'exec'), argv, interactive: false, tty: false };
  if (argv.length === 0) throw new UsageError(`exec: no command given after the container id '${id}'`, undefined, 'exec');
  if (argv[0] === '') throw new UsageError('exec: the command is an empty string', undefined, 'exec');
  const env: Record<string, string> = {};
  let envSet = false;
  for (const f of s.flags) {
    switch (f.key) {
      case 'env':
        envSet = parseEnvAssignment(f.value, f.name, ctx.env ?? {}, env, 'exec') || envSet;
        break;
      case 'user':
        cmd.user = parseUserSpec(f.value, f.name, 'exec');
        break;
      case 'workdir':
        if (!f.value.startsWith('/')) throw new UsageError(`${f.name}: expected an absolute path inside the container, got '${f.value}'`, f.name, 'exec');
        cmd.cwd = f.value;
        break;
      case 'interactive':
        cmd.interactive = true;
        break;
      case 'tty':
        cmd.tty = true;
        break;
    }
  }
  if (envSet) cmd.env = env;
  return withRoot(cmd, ctx);
}

/**
 * `kill ID [SIGNAL]` as runc has it, or docker's `kill [-s SIGNAL] ID`; default SIGKILL, as docker's
 * `kill` and the library's kill(): a PID 1 without a handler ignores SIGTERM.
 */
function parseKill(args: readonly string[], ctx: LifecycleContext): KillCommand | { kind: 'help'; topic: 'kill' } {
  // Flags end at the id, so that a signal given as `-9` after it is read as a (bad) signal, not a flag.
  const s = scan('kill', args, { signal: { names: ['-s', '--signal'], takesValue: true } }, true);
  if (s.help) return help('kill');
  const [id, positionalSignal, ...extra] = s.positionals;
  if (id === undefined) throw new UsageError('kill: no container id given (usage: ts-container kill ID [SIGNAL])', undefined, 'kill');
  if (extra.length > 0) throw new UsageError(`kill: too many arguments: ${s.positionals.join(' ')} (usage: ts-container kill ID [SIGNAL])`, undefined, 'kill');
  const flag = s.flags[s.flags.length - 1];
  if (flag && positionalSignal !== undefined) {
    throw new UsageError(`kill: two signals given ('${flag.value}' with ${flag.name} and '${positionalSignal}'): give one`, flag.name, 'kill');
  }
  const signal = flag
    ? parseSignal(flag.value, flag.name, 'kill', flag.name)
    : positionalSignal !== undefined
      ? parseSignal(positionalSignal, 'kill', 'kill')
      : 'SIGKILL';
  return withRoot({ kind: 'kill', id: parseContainerId(id, 'kill', 'kill'), signal }, ctx);
}
