/**
 * The help texts (`ts-container --help`, `COMMAND --help`, `help COMMAND`), laid out by
 * commander's help formatter from the same declarations the parser is made from
 * (definitions/commands.ts): a flag's spellings, value and help are written once.
 */
import { Option, type Command, type HelpConfiguration } from 'commander';
import { COMMANDS, GLOBAL_FLAGS, HELP_FLAG, type CommandDef } from './definitions/commands';
import type { FlagDef } from './definitions/flag';
import { buildProgram } from './program';
import type { HelpTopic } from './usage-error';

const MAIN_DESCRIPTION = 'Run Linux programs in containers (namespaces, mounts, capabilities), from images or from the host\'s own files.';
const MAIN_FOOTER = "Run 'ts-container COMMAND --help' for the options of a command.";

/** How a flag is listed: `-e, --env KEY=VALUE`, long-only ones indented to line up. */
function flagTerm(flag: FlagDef): string {
  const short = flag.names.find((n) => !n.startsWith('--'));
  const long = flag.names.find((n) => n.startsWith('--'));
  const names = short && long ? `${short}, ${long}` : short ?? `    ${long}`;
  return flag.value === undefined ? names : `${names} ${flag.value}`;
}

function flagDescription(flag: FlagDef): string {
  return flag.aliases?.length ? `${flag.help} (also ${flag.aliases.join(', ')})` : flag.help;
}

/**
 * Commander lists the options it parses with, one per spelling; help lists each declared flag
 * once, with its spellings together. These stand-ins carry the terms and descriptions.
 */
function helpOptions(flags: readonly FlagDef[]): { options: Option[]; terms: Map<Option, string> } {
  const terms = new Map<Option, string>();
  const options = flags.map((flag) => {
    const option = new Option(flag.names.join(', '), flagDescription(flag));
    terms.set(option, flagTerm(flag));
    return option;
  });
  return { options, terms };
}

function configuration(def: CommandDef | undefined): HelpConfiguration {
  const { options, terms } = helpOptions(def ? [...def.flags, HELP_FLAG] : GLOBAL_FLAGS);
  return {
    commandUsage: () =>
      def
        ? [def.name, ...(def.aliases ?? [])].map((word) => `ts-container ${word} ${def.usage}`).join('\n       ')
        : `ts-container [${flagTerm(GLOBAL_FLAGS[0]).trim()}] COMMAND [ARG...]\n       ts-container --help | --version`,
    commandDescription: () => (def ? def.description : MAIN_DESCRIPTION),
    visibleOptions: () => options,
    optionTerm: (option: Option) => terms.get(option) ?? option.flags,
    subcommandTerm: (cmd: Command) => [cmd.name(), ...cmd.aliases()].join(', '),
  };
}

export function helpText(topic: HelpTopic): string {
  const program = buildProgram();
  const def = topic === 'main' ? undefined : COMMANDS.find((c) => c.name === topic);
  const cmd = def ? program.commands.find((c) => c.name() === def.name)! : program;
  cmd.configureHelp(configuration(def));
  const footer = def ? def.footer : MAIN_FOOTER;
  return `${cmd.helpInformation()}${footer ? `\n${footer}\n` : ''}`;
}
