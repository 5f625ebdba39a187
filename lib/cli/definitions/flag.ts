/**
 * What a command-line flag is: its spellings, its help, the value it turns its text into and
 * where that value goes. Every command's flags are declared with this type
 * (definitions/commands.ts), and both parsing (program.ts, on commander) and help (help.ts) are
 * made from those declarations, so a flag cannot be parsed without help or helped without parsing.
 *
 * A flag only converts: text to a plain value (a number, a path resolved against the caller's
 * cwd, a mount object). Whether the value is good is the library's business; its TypeError
 * names the option's path, which the CLI maps back to the flag (library-errors.ts).
 */
import type { ParseContext } from '../parsed';

/**
 * Where a flag's value goes:
 *   container:PATH   an option of `new Container(options)`, e.g. container:resources.memory;
 *                    PATH[] appends to an array, PATH{} merges into an object
 *   process:PATH     an option of `container.exec(argv, options)` (exec's flags)
 *   call:METHOD.ARG  an argument of a Container method (`stop`'s timeout, `kill`'s signal)
 *   cli:NAME         the command line's own business: its output format, its stdin, --rm
 */
export type FlagTarget =
  | `container:${string}`
  | `process:${string}`
  | `call:${string}`
  | `cli:${string}`;

export interface FlagDef {
  /**
   * Spellings shown in help: at most one short (`-e`) and one long (`--env`), short first.
   * The long one (else the short one) is the flag's name in messages about it in general.
   */
  names: readonly string[];
  /** More spellings that are accepted (docker's, runc's), shown in help as "also ...". */
  aliases?: readonly string[];
  /** The value's placeholder in help (`KEY=VALUE`); absent for a switch, which takes none. */
  value?: string;
  /** What "requires a value" names when the value is missing (default: "a value"). */
  valueNoun?: string;
  /** One or more lines of help; wrapped by the help formatter. */
  help: string;
  target: FlagTarget;
  /**
   * Text to value. Throws FlagValueError when the text cannot be converted at all (a UID that
   * is not a number); a value that converts but is wrong is left for the library to refuse.
   * A switch has no convert: its value is `switchValue` (default true).
   */
  convert?(text: string, ctx: ConvertContext): unknown;
  /** The value of a switch (`--no-readonly`: false). */
  switchValue?: unknown;
}

/** What a converter may read besides the text: the caller's cwd and environment. */
export type ConvertContext = Required<Pick<ParseContext, 'cwd' | 'env'>>;

/** Text that cannot become the value a flag stands for; the message says what was expected. */
export class FlagValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagValueError';
  }
}

/** Every spelling of a flag, the shown ones first. */
export function spellings(flag: FlagDef): string[] {
  return [...flag.names, ...(flag.aliases ?? [])];
}

/** The flag's name in general messages: its long spelling, else its short one. */
export function flagName(flag: FlagDef): string {
  return flag.names.find((n) => n.startsWith('--')) ?? flag.names[0];
}
