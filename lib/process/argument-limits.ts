/**
 * execve's limits on a program's arguments and environment, checked before anything is made, so
 * that spawn() throws E2BIG synchronously as child_process's spawn does. The kernel refuses one
 * string longer than MAX_ARG_STRLEN, and strings plus their pointers beyond a quarter of the
 * stack limit (at most 3/4 of 8 MiB, at least 128 KiB): fs/exec.c, bprm_stack_limits().
 */
import * as fs from 'node:fs';
import type { RlimitName } from '../options/types';
import { argumentsTooLongError } from '../errors/errors';

/** The longest single string, its terminating NUL included (32 pages). */
export const MAX_ARG_STRLEN = 32 * 4096;
/** The least room the kernel always gives the strings, whatever the stack limit. */
const ARG_MAX = 32 * 4096;
/** 3/4 of the kernel's default stack limit (_STK_LIM, 8 MiB): the most room it gives. */
const MOST_ROOM = (8 * 1024 * 1024 * 3) / 4;
const POINTER_BYTES = 8;

type RlimitEntry = { name: RlimitName; soft: number | 'unlimited' };

let cachedStackLimit: number | undefined;

/** This process's soft stack limit, which the helper and so the program inherit (read once). */
function ownStackLimit(): number {
  cachedStackLimit ??= readStackLimit();
  return cachedStackLimit;
}

function readStackLimit(): number {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max stack size'));
    const soft = line?.slice('Max stack size'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return Infinity;
    const bytes = Number(soft);
    return Number.isFinite(bytes) ? bytes : Infinity;
  } catch {
    return Infinity;
  }
}

/** The room for argument and environment strings plus their pointers, for this stack limit. */
export function argumentRoom(stackLimit: number): number {
  return Math.max(Math.min(MOST_ROOM, Math.floor(stackLimit / 4)), ARG_MAX);
}

/**
 * Throws E2BIG (Node's shape: code 'E2BIG', syscall 'spawn') when execve would: `env` as the
 * program gets it, `rlimits` the container's (its `stack` one, if any, is the program's).
 */
export function checkArgumentSize(argv: string[], env: Record<string, string>, rlimits: readonly RlimitEntry[]): void {
  const strings = [...argv, ...Object.entries(env).map(([key, value]) => `${key}=${value}`)];
  let total = 0;
  for (const s of strings) {
    const bytes = Buffer.byteLength(s, 'utf8') + 1;
    if (bytes > MAX_ARG_STRLEN) throw argumentsTooLongError(argv);
    total += bytes;
  }
  // execve copies the program's path too: at least argv[0] (a PATH search makes it longer).
  total += Buffer.byteLength(argv[0], 'utf8') + 1;
  const stack = rlimits.find((r) => r.name === 'stack');
  const stackLimit = stack ? (stack.soft === 'unlimited' ? Infinity : stack.soft) : ownStackLimit();
  const pointers = (Math.max(argv.length, 1) + strings.length - argv.length) * POINTER_BYTES;
  if (total + pointers > argumentRoom(stackLimit)) throw argumentsTooLongError(argv);
}
