/**
 * Converters from a flag's text to the plain value the library takes. They refuse only text
 * that has no value of the kind at all (`--user root`: not a number); ranges, formats of sizes,
 * absolute paths and the like are the library's to check, so that the CLI and the library can
 * never disagree about them. Pure, apart from reading the caller's cwd and environment from
 * the context they are given.
 */
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { LogRotation, Mount } from '../../options/types';
import { FlagValueError, type ConvertContext } from './flag';

const WHOLE_NUMBER = /^(0|[1-9][0-9]*)$/;
const SIGNED_WHOLE_NUMBER = /^-?(0|[1-9][0-9]*)$/;
const DECIMAL = /^\d*\.?\d+$/;
/** The kernel's real-time signals end at 64; os.constants names only the classic ones. */
const MAX_SIGNAL = 64;

/** The text as it is. */
export function text(value: string): string {
  return value;
}

/** A host path, relative to the caller's cwd. Empty text names no path (resolve would give the cwd). */
export function hostPath(value: string, ctx: ConvertContext): string {
  if (value === '') throw new FlagValueError('expected a path, got an empty string');
  return path.resolve(ctx.cwd, value);
}

/** A whole number, signed (`--pids-limit -1`). */
/** true or false, as `--rootfs-overlay=false` spells it. */
export function boolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new FlagValueError(`expected true or false, got '${value}'`);
}

export function integer(value: string): number {
  if (!SIGNED_WHOLE_NUMBER.test(value)) throw new FlagValueError(`expected a whole number, got '${value}'`);
  return Number(value);
}

/** A number such as 1.5. */
export function decimal(value: string): number {
  if (!DECIMAL.test(value)) throw new FlagValueError(`expected a number like 1.5, got '${value}'`);
  return Number(value);
}

/** A size as the library takes it ("512m", "1048576"), or -1 where the library takes -1 for none. */
export function size(value: string): string | number {
  return value === '-1' ? -1 : value;
}

/** A whole number of seconds (`stop -t 5`). */
export function seconds(value: string): number {
  if (!WHOLE_NUMBER.test(value)) throw new FlagValueError(`expected a whole number of seconds, got '${value}'`);
  return Number(value);
}

/**
 * `KEY=VALUE` as { KEY: VALUE }; `KEY` alone copies the caller's variable as docker does, and
 * is {} when the caller has none. Which names are good is the library's rule.
 */
export function envAssignment(value: string, ctx: ConvertContext): Record<string, string> {
  const eq = value.indexOf('=');
  const name = eq === -1 ? value : value.slice(0, eq);
  if (name === '') throw new FlagValueError(`expected KEY=VALUE, got '${value}'`);
  if (eq !== -1) return { [name]: value.slice(eq + 1) };
  const inherited = ctx.env[name];
  return inherited === undefined ? {} : { [name]: inherited };
}

/** `UID[:GID]`, numeric only: the container may have no /etc/passwd to look names up in. */
export function userSpec(value: string): { uid: number; gid?: number } {
  const m = /^([^:]*)(?::(.*))?$/.exec(value)!;
  const id = (s: string, what: string): number => {
    if (!WHOLE_NUMBER.test(s)) throw new FlagValueError(`expected UID[:GID] as numbers, got '${value}' (${what} '${s}' is not a numeric id)`);
    return Number(s);
  };
  const user: { uid: number; gid?: number } = { uid: id(m[1], 'UID') };
  if (m[2] !== undefined) user.gid = id(m[2], 'GID');
  return user;
}

/** `SRC:DST[:ro|rw]`: a bind mount, SRC relative to the caller's cwd. */
export function bindMountSpec(spec: string, ctx: ConvertContext): Mount {
  const parts = spec.split(':');
  let readonly = false;
  if (parts.length === 3) {
    const mode = parts[2];
    if (mode === 'ro') readonly = true;
    else if (mode !== 'rw') throw new FlagValueError(`expected SRC:DST[:ro|rw], got '${spec}' (unknown mode '${mode}')`);
  } else if (parts.length !== 2) {
    throw new FlagValueError(`expected SRC:DST[:ro|rw], got '${spec}'`);
  }
  const [source, target] = parts;
  if (source === '') throw new FlagValueError(`expected SRC:DST[:ro|rw], got '${spec}' (empty source)`);
  const mount: Mount = { type: 'bind', source: path.resolve(ctx.cwd, source), target };
  if (readonly) mount.readonly = true;
  return mount;
}

/** `DST[:size=64m,mode=1777,ro]` (docker's syntax): a tmpfs mount. */
export function tmpfsSpec(spec: string): Mount {
  const colon = spec.indexOf(':');
  const mount: Mount = { type: 'tmpfs', target: colon === -1 ? spec : spec.slice(0, colon) };
  if (colon === -1) return mount;
  for (const opt of spec.slice(colon + 1).split(',')) {
    if (opt === '' || opt === 'rw') continue;
    if (opt === 'ro') {
      mount.readonly = true;
      continue;
    }
    const eq = opt.indexOf('=');
    const key = eq === -1 ? opt : opt.slice(0, eq);
    const value = eq === -1 ? '' : opt.slice(eq + 1);
    if (key === 'size') mount.size = WHOLE_NUMBER.test(value) ? Number(value) : value.toLowerCase();
    else if (key === 'mode') mount.mode = value;
    else throw new FlagValueError(`unknown tmpfs option '${opt}' (known: size=, mode=, ro, rw)`);
  }
  return mount;
}

/** docker's `max-size=10m,max-file=3` (the two options its json-file log driver caps with). */
export function logOptions(value: string): LogRotation {
  const log: LogRotation = {};
  for (const opt of value.split(',')) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const v = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'max-size') log.maxSize = v;
    else if (key === 'max-file') {
      if (!WHOLE_NUMBER.test(v)) throw new FlagValueError(`max-file: expected a whole number of files, got '${v}'`);
      log.maxFiles = Number(v);
    } else throw new FlagValueError(`unknown log option '${opt}' (known: max-size=, max-file=)`);
  }
  return log;
}

/**
 * A signal as runc and docker take it: `TERM`, `SIGTERM`, `sigterm` or a number. Names come
 * back normalized ("SIGTERM"), numbers as numbers (real-time signals have no name in Node).
 */
export function signal(value: string): NodeJS.Signals | number {
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= MAX_SIGNAL) return n;
  } else {
    const upper = value.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if ((osConstants.signals as Record<string, number | undefined>)[name] !== undefined) return name as NodeJS.Signals;
  }
  throw new FlagValueError(`unknown signal '${value}' (a name such as TERM, SIGKILL or HUP, or a number from 1 to ${MAX_SIGNAL})`);
}

/**
 * --network: 'none', 'host', a network's NAME, or 'container:ID' (another container's network
 * namespace), kept as given: the run command makes the last one the library's { container }.
 */
export function networkMode(value: string): string {
  if (value.startsWith('container:') && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value.slice('container:'.length))) {
    throw new FlagValueError(`expected container:ID with the id of a running container, got '${value}'`);
  }
  return value;
}

/** `[IP:]HOST:CONTAINER[/tcp|/udp]`: a published port, as docker's -p takes it. */
export function publishSpec(spec: string): { host: number; container: number; protocol?: 'tcp' | 'udp'; hostIp?: string } {
  const match = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!match) throw new FlagValueError(`expected [IP:]HOST:CONTAINER[/udp], got '${spec}'`);
  const [, hostIp, host, container, protocol] = match;
  return {
    host: Number(host),
    container: Number(container),
    ...(protocol !== undefined && { protocol: protocol as 'tcp' | 'udp' }),
    ...(hostIp !== undefined && { hostIp }),
  };
}

/** Go's duration units, as docker's flags take them, in milliseconds. */
const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*$/;

/**
 * A docker duration ("30s", "1m30s", "1.5h", "250ms"; "0" alone) as the library's milliseconds.
 * Shared by every flag that takes one (logs --since, the --health-* flags).
 */
export function duration(value: string): number {
  if (value === '0') return 0;
  if (!DURATION.test(value)) throw new FlagValueError(`expected a duration like 30s, 1m30s or 1.5h, got '${value}'`);
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(amount) * (DURATION_UNITS[unit as string] as number);
  }
  return ms;
}

/**
 * A point in time as docker logs --since takes it: a duration before now ("10m"), an RFC 3339
 * time ("2024-05-01T10:00:00Z", "2024-05-01"), or Unix seconds ("1714557600.5"). The duration
 * stays relative: the command reads the clock when it runs.
 */
export function sinceTime(value: string): { agoMs: number } | { atMs: number } {
  if (/^\d+(\.\d+)?$/.test(value)) return { atMs: Math.round(Number(value) * 1000) };
  if (DURATION.test(value)) return { agoMs: duration(value) };
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const at = Date.parse(value.replace(' ', 'T'));
    if (!Number.isNaN(at)) return { atMs: at };
  }
  throw new FlagValueError(`expected a duration before now (10m, 1h30m), a time (2024-05-01T10:00:00Z) or Unix seconds, got '${value}'`);
}

/** `--tail`: a number of lines, or "all". */
export function tailLines(value: string): number | undefined {
  if (value === 'all') return undefined;
  if (!WHOLE_NUMBER.test(value)) throw new FlagValueError(`expected a number of lines or "all", got '${value}'`);
  return Number(value);
}
