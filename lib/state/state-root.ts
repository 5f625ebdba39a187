/**
 * The state root: the directory holding one directory per container, shared by every
 * process of the same user, so that any of them can list, find and manage containers.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { fail } from '../options/option-error';
import { ContainerStateIOError, UntrustedStateRootError } from '../errors/errors';
import { stateStep } from './state-io';

/** Set by `--root` in the CLI, or by the environment for every program at once. */
export const STATE_ROOT_ENV = 'TS_CONTAINER_STATE_ROOT';

/**
 * `stateRoot` when given; else $TS_CONTAINER_STATE_ROOT; else /run/ts-container for root and,
 * for others, $XDG_RUNTIME_DIR/ts-container, or else a directory in their home
 * ($XDG_STATE_HOME or ~/.local/state, then ts-container): never a name in a shared temp
 * directory, which another user could make first.
 */
export function resolveStateRoot(stateRoot?: unknown): string {
  if (stateRoot !== undefined) {
    if (typeof stateRoot !== 'string' || stateRoot === '' || stateRoot.includes('\0')) {
      fail('stateRoot', 'expected a directory path');
    }
    return path.resolve(stateRoot);
  }
  const fromEnv = process.env[STATE_ROOT_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  if (process.getuid?.() === 0) return '/run/ts-container';
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir && path.isAbsolute(runtimeDir)) return path.join(runtimeDir, 'ts-container');
  const stateHome = process.env.XDG_STATE_HOME;
  const base = stateHome && path.isAbsolute(stateHome) ? stateHome : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'ts-container');
}

const MAX_LINKS = 40;
const WRITABLE_BY_OTHERS = 0o022;
const STICKY = 0o1000;

/**
 * Checks that nobody but the caller (and root) can change the state root or what leads to it,
 * and makes it (0711, its missing parents 0700) when `create` is set. Every directory on the
 * way, links resolved, must be owned by root or the caller and not writable by group or others,
 * except a sticky one (as /tmp) whose next component is the caller's own; the state root itself
 * must be the caller's own directory. Returns false when it does not exist (and `create` is not set).
 */
export function verifyStateRoot(root: string, create: boolean): boolean {
  const uid = process.getuid?.() ?? 0;
  const refuse = (where: string, problem: string): never => {
    throw new UntrustedStateRootError(root, where, problem);
  };
  const pending = root.split('/').filter(Boolean);
  let current = '/';
  let currentStat = stateStep('check the state root', current, () => fs.lstatSync(current));
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      current = path.dirname(current);
      currentStat = stateStep('check the state root', current, () => fs.lstatSync(current));
      continue;
    }
    const next = path.join(current, name);
    let nextStat: fs.Stats;
    try {
      nextStat = fs.lstatSync(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ContainerStateIOError('check the state root', next, error as NodeJS.ErrnoException);
      if (!create) return false;
      checkDirectory(current, currentStat, uid, undefined, refuse);
      stateStep('make the state root', next, () => fs.mkdirSync(next, { mode: pending.length === 0 ? 0o711 : 0o700 }));
      nextStat = fs.lstatSync(next);
    }
    checkDirectory(current, currentStat, uid, nextStat, refuse);
    if (nextStat.isSymbolicLink()) {
      if (nextStat.uid !== 0 && nextStat.uid !== uid) refuse(next, `is a link owned by uid ${nextStat.uid}`);
      if (++links > MAX_LINKS) refuse(next, 'leads through too many links');
      const target = fs.readlinkSync(next);
      pending.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) {
        current = '/';
        currentStat = fs.lstatSync(current);
      }
      continue;
    }
    if (!nextStat.isDirectory()) refuse(next, 'is not a directory');
    current = next;
    currentStat = nextStat;
  }
  if (currentStat.uid !== uid) refuse(current, `is owned by uid ${currentStat.uid}, not by you (uid ${uid})`);
  if ((currentStat.mode & WRITABLE_BY_OTHERS) !== 0) refuse(current, `is writable by others (mode ${(currentStat.mode & 0o7777).toString(8)})`);
  return true;
}

/** A directory on the way to the state root; `nextStat` is what it holds under the next name. */
function checkDirectory(dir: string, stat: fs.Stats, uid: number, nextStat: fs.Stats | undefined, refuse: (where: string, problem: string) => never): void {
  if (stat.uid !== 0 && stat.uid !== uid) refuse(dir, `is owned by uid ${stat.uid}, neither root nor you (uid ${uid})`);
  if ((stat.mode & WRITABLE_BY_OTHERS) === 0) return;
  // A sticky directory lets others add names, but not rename or remove the caller's own.
  if ((stat.mode & STICKY) !== 0 && nextStat !== undefined && nextStat.uid === uid) return;
  if ((stat.mode & STICKY) !== 0 && nextStat === undefined) return;
  refuse(dir, `is writable by others (mode ${(stat.mode & 0o7777).toString(8)})${(stat.mode & STICKY) !== 0 ? ' and the name in it is not yours' : ''}`);
}
