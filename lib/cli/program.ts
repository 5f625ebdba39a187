/**
 * The command line of `ts-container`, parsed by commander from the declarations in
 * definitions/: commander splits the words (attached values `-eFOO` and `-t5`, `--flag=value`,
 * combined switches `-it`, `--`, flags that end at the first argument of run, exec and kill),
 * the declarations convert the values, and the library checks them. Pure: no I/O, no process
 * state; the caller's cwd and environment come in through ParseContext.
 *
 *   ts-container [GLOBAL FLAGS] COMMAND [FLAGS] [ARG...]
 *   ts-container --help | --version | help [COMMAND] | COMMAND --help
 */
import { Command, CommanderError, Option } from 'commander';
import { AppliedFlags } from './definitions/applied-flags';
import { COMMANDS, GLOBAL_FLAGS, HELP_FLAG, commandNamed, type CommandDef } from './definitions/commands';
import { FlagValueError, spellings, type ConvertContext, type FlagDef } from './definitions/flag';
import { checkWithLibrary } from './library-errors';
import { isImageCommand, type LifecycleCommand, type ParseContext, type ParsedCommandLine } from './parsed';
import { UsageError, type CommandName, type HelpTopic } from './usage-error';

/** One flag as given, in order: its declaration, the spelling used and its text (none for a switch). */
interface GivenFlag {
  flag: FlagDef;
  spelling: string;
  text: string | undefined;
  /** A flag the command accepts only to say why not. */
  refusal?: string;
}

/** What one parse collects while commander walks the words. */
interface ParseSession {
  global: GivenFlag[];
  command?: { def: CommandDef; flags: GivenFlag[]; args: string[]; literal: boolean };
  /** `help [TOPIC]` or `version` given as a command word. */
  word?: { kind: 'help'; topic?: string } | { kind: 'version' };
  /** Arguments after the global flags that name no command. */
  stray?: string[];
}

/**
 * A commander Command whose complaints about the words are UsageErrors in this CLI's words,
 * naming the flag and the help that would have helped.
 */
class CliCommand extends Command {
  /** The declared flags of this command, by spelling: to tell `--init=x` from an unknown flag. */
  declared = new Map<string, FlagDef>();
  /** Its arguments all came after a `--` (run's `-- COMMAND`, not `IMAGE COMMAND`). */
  literal = false;

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    const result = super.parseOptions(args);
    // Commander drops a `--` that comes before every argument and keeps one that follows an argument.
    const dashes = args.indexOf('--');
    this.literal = dashes >= 0 && result.operands.length === args.length - dashes - 1 && !result.operands.includes('--');
    return result;
  }

  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  private get topic(): HelpTopic {
    return this.parent ? (this.name() as CommandName) : 'main';
  }

  unknownOption(given: string): never {
    const eq = given.indexOf('=');
    const known = eq > 0 ? this.declared.get(given.slice(0, eq)) : undefined;
    if (known !== undefined && known.value === undefined) {
      const name = given.slice(0, eq);
      throw new UsageError(`${name}: takes no value, got '${given}'`, name, this.topic);
    }
    const name = eq > 0 && given.startsWith('--') ? given.slice(0, eq) : given;
    if (this.parent && GLOBAL_FLAGS.some((f) => f !== HELP_FLAG && spellings(f).includes(name))) {
      throw new UsageError(
        `${this.name()}: ${name} is a global flag: put it before the command (ts-container ${name} ${GLOBAL_FLAGS[0].value} ${this.name()} ...)`,
        name,
        this.topic,
      );
    }
    throw new UsageError(`${this.parent ? `${this.name()}: ` : ''}unknown flag '${given}'`, given, this.topic);
  }

  optionMissingArgument(option: Option): never {
    const spelling = option.flags.split(' ')[0];
    const noun = this.declared.get(spelling)?.valueNoun ?? 'a value';
    throw new UsageError(`${spelling}: requires ${noun}`, spelling, this.topic);
  }
}

/**
 * One commander option per spelling, so that messages name the spelling given (`-v`, not
 * `--mount`). Commander calls the parser for every occurrence in order, switches included;
 * the values are kept in `into` and converted later, after a --help has had its chance.
 */
function addFlag(cmd: CliCommand, flag: FlagDef, into: () => GivenFlag[], refusal?: string): void {
  for (const spelling of spellings(flag)) {
    const option = new Option(flag.value === undefined ? spelling : `${spelling} <${flag.value}>`).argParser((text: string | undefined) => {
      into().push({ flag, spelling, text: flag.value === undefined ? undefined : text, ...(refusal !== undefined && { refusal }) });
      return text;
    });
    cmd.addOption(option);
    cmd.declared.set(spelling, flag);
  }
}

/** Commander quiet and throwing: nothing it prints, every error ours. */
function quiet(cmd: CliCommand): CliCommand {
  return cmd
    .helpOption(false)
    .helpCommand(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .allowExcessArguments(true) as CliCommand;
}

/**
 * The program: global flags, then one subcommand per declaration. `session` receives what a
 * parse finds; help.ts builds the same program for its texts.
 */
export function buildProgram(session: ParseSession = { global: [] }): CliCommand {
  const program = quiet(new CliCommand('ts-container'));
  program.enablePositionalOptions();
  for (const flag of GLOBAL_FLAGS) addFlag(program, flag, () => session.global);
  program.argument('[args...]').action((args: string[]) => {
    session.stray = args;
  });
  for (const def of COMMANDS) {
    const cmd = quiet(program.createCommand(def.name));
    program.addCommand(cmd);
    for (const alias of def.aliases ?? []) cmd.alias(alias);
    cmd.summary(def.summary).description(def.description).usage(def.usage);
    if (def.flagsEndAtPositional) cmd.passThroughOptions();
    const flags: GivenFlag[] = [];
    for (const flag of [...def.flags, HELP_FLAG]) addFlag(cmd, flag, () => flags);
    for (const { flag, reason } of def.refusedFlags ?? []) addFlag(cmd, flag, () => flags, reason);
    cmd.argument('[args...]').action((args: string[]) => {
      session.command = { def, flags, args, literal: cmd.literal };
    });
  }
  const help = quiet(program.createCommand('help'));
  program.addCommand(help, { hidden: true });
  help.argument('[topic]').action((topic?: string) => {
    session.word = { kind: 'help', topic };
  });
  const version = quiet(program.createCommand('version'));
  program.addCommand(version, { hidden: true });
  version.action(() => {
    session.word = { kind: 'version' };
  });
  return program;
}

/** The help a word asks for (`help ls`: list's); an unknown word gets the general one. */
export function helpTopicOf(word: string | undefined): HelpTopic {
  return (word === undefined ? undefined : commandNamed(word)?.name) ?? 'main';
}

/** Parses the whole command line after `node cli.js` (i.e. process.argv.slice(2)). */
export function parseCommandLine(args: readonly string[], ctx: ParseContext = {}): ParsedCommandLine {
  const session: ParseSession = { global: [] };
  try {
    buildProgram(session).parse([...args], { from: 'user' });
  } catch (err) {
    // Our own complaints pass; anything commander says itself still names the help to read.
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''), undefined, 'main');
    throw err;
  }

  // The first of --help and --version before the command decides, whatever follows.
  const asked = session.global.find((g) => g.flag.target === 'cli:help' || g.flag.target === 'cli:version');
  if (asked) return asked.flag.target === 'cli:help' ? { kind: 'help', topic: 'main' } : { kind: 'version' };
  if (session.word) return session.word.kind === 'help' ? { kind: 'help', topic: helpTopicOf(session.word.topic) } : { kind: 'version' };
  const convertContext: ConvertContext = { cwd: ctx.cwd ?? '/', env: ctx.env ?? {} };
  const globals = new AppliedFlags();
  for (const given of session.global) applyGiven(globals, given, 'main', convertContext);
  const command = session.command;
  if (command === undefined) {
    const word = session.stray?.[0];
    if (word !== undefined) throw new UsageError(`unknown command '${word}'`, undefined, 'main');
    throw new UsageError('no command given (try: ts-container run -- sh -c "echo hi")', undefined, 'main');
  }
  const { def } = command;
  if (command.flags.some((g) => g.flag === HELP_FLAG)) return { kind: 'help', topic: def.name };

  const applied = new AppliedFlags();
  for (const given of command.flags) applyGiven(applied, given, def.name, convertContext);

  const stateRoot = globals.container.stateRoot as string | undefined;
  const dataRoot = globals.container.dataRoot as string | undefined;
  const parsed = def.build(applied, command.args, command.literal);
  if (parsed.kind === 'run' || parsed.kind === 'create') {
    if (stateRoot !== undefined) parsed.options.stateRoot = stateRoot;
    if (dataRoot !== undefined) parsed.options.dataRoot = dataRoot;
  } else {
    if (stateRoot !== undefined) (parsed as LifecycleCommand).stateRoot = stateRoot;
    if (dataRoot !== undefined && (isImageCommand(parsed) || parsed.kind === 'pod' || parsed.kind === 'network' || parsed.kind === 'info')) parsed.dataRoot = dataRoot;
  }
  checkWithLibrary(def, parsed, applied.process, [...globals.origins, ...applied.origins]);
  return parsed;
}

/** Converts one given flag and puts its value in place; a text that converts to nothing names the flag. */
function applyGiven(into: AppliedFlags, given: GivenFlag, topic: HelpTopic, ctx: ConvertContext): void {
  const { flag, spelling, text } = given;
  if (given.refusal !== undefined) throw new UsageError(`${spelling}: ${given.refusal}`, spelling, topic);
  let value: unknown = flag.switchValue ?? true;
  if (text !== undefined && flag.convert) {
    try {
      value = flag.convert(text, ctx);
    } catch (err) {
      if (err instanceof FlagValueError) throw new UsageError(`${spelling}: ${err.message}`, spelling, topic);
      throw err;
    }
  }
  into.apply(flag, spelling, value);
}
