/**
 * The library checks the options the flags built, with the same code that `new Container()` and
 * `exec()` run; its TypeError names the option's path ("mounts[1].target: ..."), which becomes
 * the flag that set it ("--tmpfs: target: ..."). So a value is refused by one rule, the
 * library's, and the message still speaks of what the user typed.
 */
import { normalizeContainerOptions, normalizeProcessOptions, type ContainerConfig } from '../options/validate';
import type { ContainerOptions, ProcessOptions } from '../options/types';
import { resolveStateRoot } from '../state/state-root';
import { resolveDataRoot } from '../images/data-root';
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

/**
 * The options checked without `image`: which image it names is known only once the store is
 * read (and maybe pulled), so the parse checks the rest, as if on the host's /. image together
 * with --rootfs is still refused here, by the same rule.
 */
function withoutImage(options: ContainerOptions): ContainerOptions {
  const { image, ...rest } = options as ContainerOptions & { image?: string };
  if (image === undefined || rest.rootfs !== undefined) return options;
  return rest;
}

/**
 * Runs the library's check for `def` on `parsed` (and on `processOptions`, what exec's flags
 * built); a TypeError becomes a UsageError naming the flag.
 */
export function checkWithLibrary(
  def: CommandDef,
  parsed: ParsedCommand,
  processOptions: Record<string, unknown>,
  origins: readonly Origin[],
): void {
  // The state directory of a command on existing containers, as Container.get() takes it, and
  // the data root of an image command, as ImageStore takes it.
  const roots = parsed.kind === 'run' || parsed.kind === 'create' ? {} : (parsed as { stateRoot?: string; dataRoot?: string });
  checkRoot(roots.stateRoot, resolveStateRoot, origins);
  checkRoot(roots.dataRoot, resolveDataRoot, origins);
  const scope = def.checkedBy;
  if (scope === undefined) return;
  try {
    if (scope === 'container' && (parsed.kind === 'run' || parsed.kind === 'create')) {
      normalizeContainerOptions(withoutImage(parsed.options));
    } else if (scope === 'process' && parsed.kind === 'exec') {
      // A process's options are checked against a container's; which container does not matter
      // to the checks of the values themselves, so the default one stands in here.
      defaultConfig ??= normalizeContainerOptions({} as ContainerOptions);
      normalizeProcessOptions(parsed.argv, processOptions as ProcessOptions, defaultConfig);
    }
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw usageErrorFor(err, origins, scope, def.name);
  }
}

function checkRoot(dir: string | undefined, resolve: (dir: string) => unknown, origins: readonly Origin[]): void {
  if (dir === undefined) return;
  try {
    resolve(dir);
  } catch (err) {
    if (err instanceof TypeError) throw usageErrorFor(err, origins, 'container', 'main');
    throw err;
  }
}

function usageErrorFor(err: TypeError, origins: readonly Origin[], scope: Origin['scope'], topic: HelpTopic): UsageError {
  const named = flagMessage(err.message, origins, scope);
  if (named) return new UsageError(named.message, named.flag, topic);
  return new UsageError(`invalid option: ${err.message}`, undefined, topic);
}
