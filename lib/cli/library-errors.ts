/**
 * The library checks the options the flags built, with the same code that `new Container()` and
 * `exec()` run; its TypeError names the option's path ("mounts[1].target: ..."), which becomes
 * the flag that set it ("--tmpfs: target: ..."). So a value is refused by one rule, the
 * library's, and the message still speaks of what the user typed.
 */
import { normalizeContainerOptions, normalizeProcessOptions, type ContainerConfig } from '../options/validate';
import type { ContainerOptions, ProcessOptions } from '../options/types';
import type { Origin } from './definitions/applied-flags';
import type { CommandDef } from './definitions/commands';
import type { ParsedCommand } from './parsed';
import { UsageError, type HelpTopic } from './usage-error';

/**
 * `message` (the library's "PATH: what") in the words of the flag whose value is at PATH, or
 * undefined when no flag set it. The longest recorded path that PATH starts with wins, and what
 * lies below it stays: "mounts[0].size: ..." from --tmpfs is "--tmpfs: size: ...".
 */
export function flagMessage(message: string, origins: readonly Origin[], scope: Origin['scope']): { flag: string; message: string } | undefined {
  let best: Origin | undefined;
  for (const origin of origins) {
    if (origin.scope !== scope || !message.startsWith(origin.path)) continue;
    const next = message[origin.path.length];
    if (next !== ':' && next !== '.' && next !== '[') continue;
    // Longest path first; among equal ones the last given, as it is the one that took effect.
    if (best === undefined || origin.path.length >= best.path.length) best = origin;
  }
  if (best === undefined) return undefined;
  const rest = message.slice(best.path.length).replace(/^: /, '').replace(/^\./, '');
  return { flag: best.spelling, message: `${best.spelling}: ${rest}` };
}

let defaultConfig: ContainerConfig | undefined;

/** Runs the library's check for `def` on `parsed`; a TypeError becomes a UsageError naming the flag. */
export function checkWithLibrary(def: CommandDef, parsed: ParsedCommand, origins: readonly Origin[]): void {
  if (def.checkedBy === undefined) return;
  const scope = def.checkedBy;
  try {
    if (scope === 'container' && (parsed.kind === 'run' || parsed.kind === 'create')) {
      normalizeContainerOptions(parsed.options);
    } else if (scope === 'process' && parsed.kind === 'exec') {
      const options: ProcessOptions = {
        ...(parsed.env && { env: parsed.env }),
        ...(parsed.user && { user: parsed.user }),
        ...(parsed.cwd !== undefined && { cwd: parsed.cwd }),
        ...(parsed.tty && { tty: true }),
      };
      // A process's options are checked against a container's; which container does not matter
      // to the checks of the values themselves, so the default one stands in here.
      defaultConfig ??= normalizeContainerOptions({} as ContainerOptions);
      normalizeProcessOptions(parsed.argv, options, defaultConfig);
    }
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw usageErrorFor(err, origins, scope, def.name);
  }
}

function usageErrorFor(err: TypeError, origins: readonly Origin[], scope: Origin['scope'], topic: HelpTopic): UsageError {
  const named = flagMessage(err.message, origins, scope);
  if (named) return new UsageError(named.message, named.flag, topic);
  return new UsageError(`invalid option: ${err.message}`, undefined, topic);
}
