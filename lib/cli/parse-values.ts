/**
 * Parsers for the values that several commands take (`-e`, `-u`, a signal, a container id), so
 * that `run` and `exec` accept the same spellings and say the same thing about a bad one. Pure.
 */
import { constants as osConstants } from 'node:os';
import type { RestartPolicy } from '../state/types';
import { UsageError, type HelpTopic } from './usage-error';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMERIC_ID = /^(0|[1-9][0-9]*)$/;
const MAX_ID = 0xfffffffe; // (uid_t)-1 is "no id"
/** The library's rule for container ids (lib/options/validate.ts); checked here to name the flag. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** The kernel's real-time signals end at 64; os.constants names only the classic ones. */
const MAX_SIGNAL = 64;

/**
 * `KEY=VALUE` into `into`; `KEY` alone copies the caller's variable as docker does, and sets
 * nothing when the caller has none. Returns whether it set something.
 */
export function parseEnvAssignment(
  v: string,
  flag: string,
  callerEnv: Record<string, string | undefined>,
  into: Record<string, string>,
  topic?: HelpTopic,
): boolean {
  const eq = v.indexOf('=');
  const name = eq === -1 ? v : v.slice(0, eq);
  if (!ENV_NAME.test(name)) {
    throw new UsageError(`${flag}: expected KEY=VALUE with KEY a variable name, got '${v}'`, flag, topic);
  }
  if (eq !== -1) {
    into[name] = v.slice(eq + 1);
    return true;
  }
  const value = callerEnv[name];
  if (value === undefined) return false;
  into[name] = value;
  return true;
}

/** `UID[:GID]`, numeric only: the container may have no /etc/passwd to look names up in. */
export function parseUserSpec(v: string, flag: string, topic?: HelpTopic): { uid: number; gid?: number } {
  const m = /^([^:]*)(?::(.*))?$/.exec(v)!;
  const user: { uid: number; gid?: number } = { uid: parseNumericId(m[1], flag, 'UID', v, topic) };
  if (m[2] !== undefined) user.gid = parseNumericId(m[2], flag, 'GID', v, topic);
  return user;
}

function parseNumericId(s: string, flag: string, what: string, whole: string, topic?: HelpTopic): number {
  if (!NUMERIC_ID.test(s) || Number(s) > MAX_ID) {
    throw new UsageError(`${flag}: expected UID[:GID] as numbers, got '${whole}' (${what} '${s}' is not a numeric id)`, flag, topic);
  }
  return Number(s);
}

/** Whether `id` could name a container; anything else can only be a typo or a path trick. */
export function isContainerId(id: string): boolean {
  return CONTAINER_ID.test(id);
}

/** A container id given on the command line (`what` says where: "start", "--name"). */
export function parseContainerId(id: string, what: string, topic: HelpTopic, flag?: string): string {
  if (!isContainerId(id)) {
    throw new UsageError(
      `${what}: '${id}' is not a container id (1-64 letters, digits, '_', '.' or '-', starting with a letter or digit)`,
      flag,
      topic,
    );
  }
  return id;
}

/**
 * A signal as runc and docker accept it: `TERM`, `SIGTERM`, `sigterm` or a number. Names come
 * back normalized ("SIGTERM"), numbers as numbers (real-time signals have no name in Node).
 */
export function parseSignal(v: string, what: string, topic: HelpTopic, flag?: string): NodeJS.Signals | number {
  if (/^[0-9]+$/.test(v)) {
    const n = Number(v);
    if (n >= 1 && n <= MAX_SIGNAL) return n;
  } else {
    const upper = v.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if ((osConstants.signals as Record<string, number | undefined>)[name] !== undefined) return name as NodeJS.Signals;
  }
  throw new UsageError(`${what}: unknown signal '${v}' (a name such as TERM, SIGKILL or HUP, or a number from 1 to ${MAX_SIGNAL})`, flag, topic);
}

/** docker's restart policies: no, always, unless-stopped, on-failure[:N] with N >= 0 retries. */
export function parseRestartPolicy(v: string, flag: string, topic: HelpTopic): RestartPolicy {
  if (v === 'no' || v === 'always' || v === 'unless-stopped' || v === 'on-failure') return v;
  // At most 9 digits, as the library takes them (a billion retries is "no limit" in practice).
  const m = /^on-failure:([0-9]{1,9})$/.exec(v);
  if (m) return `on-failure:${Number(m[1])}`;
  throw new UsageError(`${flag}: expected no, always, unless-stopped or on-failure[:N] (N: most retries), got '${v}'`, flag, topic);
}
