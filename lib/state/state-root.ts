/**
 * The state root: the directory holding one directory per container, shared by every
 * process of the same user, so that any of them can list, find and manage containers.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { fail } from '../options/option-error';
import { ContainerStateIOError, UntrustedStateRootError } from '../errors/errors';

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

/** A file-system request of the check: it is written once, and run with sync or async calls. */
type Request =
  | { op: 'lstat'; path: string; missingOk?: boolean }
  | { op: 'readlink'; path: string }
  | { op: 'mkdir'; path: string; mode: number };

/**
 * Checks that nobody but the caller (and root) can change the state root or what leads to it,
 * and makes it (0711, its missing parents 0700) when `create` is set. Every directory on the
 * way, links resolved, must be owned by root or the caller and not writable by group or others,
 * except a sticky one (as /tmp) whose next component is the caller's own; the state root itself
 * must be the caller's own directory. Returns false when it does not exist (and `create` is not set).
 */
export function verifyStateRoot(root: string, create: boolean): boolean {
  const check = checkStateRoot(root, create);
  let answer: unknown;
  for (;;) {
    const step = check.next(answer);
    if (step.done) return step.value;
    answer = runSync(step.value);
  }
}

/** verifyStateRoot() without creating anything and without blocking the event loop (list()). */
export async function verifyStateRootAsync(root: string): Promise<boolean> {
  const check = checkStateRoot(root, false);
  let answer: unknown;
  for (;;) {
    const step = check.next(answer);
    if (step.done) return step.value;
    answer = await runAsync(step.value);
  }
}

function runSync(request: Request): unknown {
  try {
    if (request.op === 'lstat') return fs.lstatSync(request.path);
    if (request.op === 'readlink') return fs.readlinkSync(request.path);
    try {
      fs.mkdirSync(request.path, { mode: request.mode });
    } catch (error) {
      // Made by another process since it was found missing (two first pulls or spawns at
      // once): what is there now is checked as any existing directory is.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return fs.lstatSync(request.path);
  } catch (error) {
    return failed(request, error as NodeJS.ErrnoException);
  }
}

async function runAsync(request: Request): Promise<unknown> {
  try {
    if (request.op === 'lstat') return await fs.promises.lstat(request.path);
    if (request.op === 'readlink') return await fs.promises.readlink(request.path);
    throw new Error('verifyStateRootAsync makes nothing');
  } catch (error) {
    return failed(request, error as NodeJS.ErrnoException);
  }
}

/** A missing path, where the check asks for it, is the answer null; any other error is typed. */
function failed(request: Request, error: NodeJS.ErrnoException): null {
  if (request.op === 'lstat' && request.missingOk && error.code === 'ENOENT') return null;
  if (typeof error.code !== 'string') throw error;
  const step = request.op === 'mkdir' ? 'make the state root' : 'check the state root';
  throw new ContainerStateIOError(step, request.path, error);
}

function* checkStateRoot(root: string, create: boolean): Generator<Request, boolean, unknown> {
  const uid = process.getuid?.() ?? 0;
  const refuse = (where: string, problem: string): never => {
    throw new UntrustedStateRootError(root, where, problem);
  };
  const pending = root.split('/').filter(Boolean);
  let current = '/';
  let currentStat = (yield { op: 'lstat', path: current }) as fs.Stats;
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      current = path.dirname(current);
      currentStat = (yield { op: 'lstat', path: current }) as fs.Stats;
      continue;
    }
    const next = path.join(current, name);
    let nextStat = (yield { op: 'lstat', path: next, missingOk: true }) as fs.Stats | null;
    if (nextStat === null) {
      if (!create) return false;
      checkDirectory(current, currentStat, uid, undefined, refuse);
      nextStat = (yield { op: 'mkdir', path: next, mode: pending.length === 0 ? 0o711 : 0o700 }) as fs.Stats;
    }
    checkDirectory(current, currentStat, uid, nextStat, refuse);
    if (nextStat.isSymbolicLink()) {
      if (nextStat.uid !== 0 && nextStat.uid !== uid) refuse(next, `is a link owned by uid ${nextStat.uid}`);
      if (++links > MAX_LINKS) refuse(next, 'leads through too many links');
      const target = (yield { op: 'readlink', path: next }) as string;
      pending.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) {
        current = '/';
        currentStat = (yield { op: 'lstat', path: current }) as fs.Stats;
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
  // A sticky directory lets others add names, but not rename or remove the caller's own (or
  // root's, which no other user can have made).
  if ((stat.mode & STICKY) !== 0 && nextStat !== undefined && (nextStat.uid === uid || nextStat.uid === 0)) return;
  if ((stat.mode & STICKY) !== 0 && nextStat === undefined) return;
  refuse(dir, `is writable by others (mode ${(stat.mode & 0o7777).toString(8)})${(stat.mode & STICKY) !== 0 ? ' and the name in it is not yours' : ''}`);
}
