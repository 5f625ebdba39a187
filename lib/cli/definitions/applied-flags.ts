/**
 * The values of the flags given, put where their definitions say (FlagDef.target), in the
 * order they were given, and a record of which spelling put a value where, so that a library
 * error about `mounts[2].target` can name the `--tmpfs` that made that mount.
 */
import type { FlagDef, FlagTarget } from './flag';

export type Scope = 'container' | 'process' | 'call' | 'cli';

export interface Origin {
  scope: Scope;
  /** The library's path of the value: 'hostname', 'resources.memory', 'mounts[2]'. */
  path: string;
  /** The spelling given: '-v', '--mount'. */
  spelling: string;
}

type Tree = Record<string, unknown>;

export function splitTarget(target: FlagTarget): { scope: Scope; path: string } {
  const colon = target.indexOf(':');
  return { scope: target.slice(0, colon) as Scope, path: target.slice(colon + 1) };
}

export class AppliedFlags {
  readonly container: Tree = {};
  readonly process: Tree = {};
  readonly call: Tree = {};
  readonly cli: Tree = {};
  readonly origins: Origin[] = [];

  /** Puts `value` where `flag` says: PATH sets, PATH[] appends, PATH{} merges an object in. */
  apply(flag: FlagDef, spelling: string, value: unknown): void {
    const { scope, path } = splitTarget(flag.target);
    const tree = this[scope];
    if (path.endsWith('[]')) {
      const base = path.slice(0, -2);
      const list = (getPath(tree, base) as unknown[] | undefined) ?? [];
      list.push(value);
      setPath(tree, base, list);
      this.origins.push({ scope, path: `${base}[${list.length - 1}]`, spelling });
    } else if (path.endsWith('{}')) {
      const base = path.slice(0, -2);
      const entries = Object.entries(value as Tree);
      // `-e NAME` for a variable the caller does not have sets nothing, not even an empty env.
      if (entries.length === 0) return;
      setPath(tree, base, { ...(getPath(tree, base) as Tree | undefined), ...(value as Tree) });
      this.origins.push({ scope, path: base, spelling });
    } else {
      setPath(tree, path, value);
      this.origins.push({ scope, path, spelling });
    }
  }

  /** The spelling that last set `target` (for messages about it), or undefined when none did. */
  spellingOf(target: FlagTarget): string | undefined {
    const { scope, path } = splitTarget(target);
    const base = path.replace(/(\[\]|\{\})$/, '');
    for (let i = this.origins.length - 1; i >= 0; i--) {
      const o = this.origins[i];
      if (o.scope === scope && (o.path === base || o.path.startsWith(`${base}[`))) return o.spelling;
    }
    return undefined;
  }
}

/** Paths are dot-separated keys: 'resources.memory', 'tmpfsSizes./dev/shm'. */
function keysOf(path: string): string[] {
  return path.split('.');
}

function getPath(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const key of keysOf(path)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Tree)[key];
  }
  return node;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = keysOf(path);
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}
