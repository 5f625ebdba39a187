/**
 * Converters from a flag's text to the plain value the library takes. They refuse only text
 * that has no value of the kind at all (`--user root`: not a number); ranges, formats of sizes,
 * absolute paths and the like are the library's to check, so that the CLI and the library can
 * never disagree about them. Pure, apart from reading the caller's cwd and environment from
 * the context they are given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { LogRotation, Mount } from '../../options/types';
import { FlagValueError, type ConvertContext } from './flag';
import { parseGoDuration } from '../../options/go-duration';

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

/**
 * `NAME[:GROUP]` or `UID[:GID]` as docker's --user: the library's text form, which the helper
 * resolves in the container's own /etc/passwd and /etc/group (the library checks its shape).
 */
export function userSpec(value: string): string {
  if (value === '') throw new FlagValueError('expected NAME[:GROUP] or UID[:GID], got an empty string');
  return value;
}

const TRUE_WORDS = new Set(['', 'true', '1']);
const FALSE_WORDS = new Set(['false', '0']);

/**
 * docker's `--mount type=bind|tmpfs|volume,src=...,dst=...,readonly`; text without `=` is the
 * short `SRC:DST[:ro|rw]` of -v. A volume is the library's { type: 'volume', source, destination }.
 */
export function mountSpec(spec: string, ctx: ConvertContext): Mount | Record<string, unknown> {
  if (!spec.split(',')[0].includes('=')) return bindMountSpec(spec, ctx);
  const fields: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq === -1 ? part : part.slice(0, eq)).toLowerCase();
    const canonical = MOUNT_KEYS[key];
    if (canonical === undefined) {
      throw new FlagValueError(`unknown mount option '${key}' (known: type, source/src, destination/dst/target, readonly/ro, tmpfs-size, tmpfs-mode)`);
    }
    fields[canonical] = eq === -1 ? '' : part.slice(eq + 1);
  }
  const type = fields.type ?? 'volume';
  const target = fields.destination;
  if (target === undefined || target === '') throw new FlagValueError(`expected a dst= (the path inside the container), got '${spec}'`);
  let readonly = false;
  if (fields.readonly !== undefined) {
    if (TRUE_WORDS.has(fields.readonly)) readonly = true;
    else if (!FALSE_WORDS.has(fields.readonly)) throw new FlagValueError(`readonly: expected true or false, got '${fields.readonly}'`);
  }
  const onlyFor = (key: string, kind: string): void => {
    if (fields[key] !== undefined && type !== kind) throw new FlagValueError(`${key}= is an option of type=${kind}, not type=${type}`);
  };
  onlyFor('tmpfs-size', 'tmpfs');
  onlyFor('tmpfs-mode', 'tmpfs');
  const source = fields.source;
  switch (type) {
    case 'bind': {
      if (source === undefined || source === '') throw new FlagValueError(`type=bind needs src= (a host path), got '${spec}'`);
      const mount: Mount = { type: 'bind', source: path.resolve(ctx.cwd, source), target };
      if (readonly) mount.readonly = true;
      return mount;
    }
    case 'tmpfs': {
      if (source !== undefined) throw new FlagValueError('type=tmpfs takes no src=');
      const mount: Mount = { type: 'tmpfs', target };
      const size = fields['tmpfs-size'];
      if (size !== undefined) mount.size = WHOLE_NUMBER.test(size) ? Number(size) : size.toLowerCase();
      if (fields['tmpfs-mode'] !== undefined) mount.mode = fields['tmpfs-mode'];
      if (readonly) mount.readonly = true;
      return mount;
    }
    case 'volume':
      // A named volume (or, without src, an anonymous one): the library's to make and find.
      return { type: 'volume', ...(source !== undefined && source !== '' && { source }), destination: target, ...(readonly && { readonly: true }) };
    default:
      throw new FlagValueError(`unknown mount type '${type}' (known: bind, tmpfs, volume)`);
  }
}

const MOUNT_KEYS: Record<string, string | undefined> = {
  type: 'type',
  source: 'source',
  src: 'source',
  destination: 'destination',
  dst: 'destination',
  target: 'destination',
  readonly: 'readonly',
  ro: 'readonly',
  'tmpfs-size': 'tmpfs-size',
  'tmpfs-mode': 'tmpfs-mode',
};

/**
 * docker's --env-file: one KEY=VALUE a line, taken as it is (no quotes, no expansion); a line
 * with KEY alone copies the caller's variable; blank lines and '#' lines are skipped. The file
 * is read relative to the caller's cwd.
 */
export function envFile(value: string, ctx: ConvertContext): Record<string, string> {
  if (value === '') throw new FlagValueError('expected a file, got an empty string');
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(ctx.cwd, value), 'utf8');
  } catch (err) {
    throw new FlagValueError(`cannot read '${value}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq === -1 ? line.trim() : line.slice(0, eq);
    if (name === '' || /\s/.test(name)) throw new FlagValueError(`${value}:${i + 1}: expected KEY=VALUE, got '${line}'`);
    if (eq !== -1) env[name] = line.slice(eq + 1);
    else if (ctx.env[name] !== undefined) env[name] = ctx.env[name]!;
  });
  return env;
}

/** docker's --ulimit NAME=SOFT[:HARD] (-1: unlimited), as { NAME: { soft, hard } }. */
export function ulimit(value: string): Record<string, { soft: number | 'unlimited'; hard: number | 'unlimited' }> {
  const match = /^([a-z]+)=(-1|\d+)(?::(-1|\d+))?$/.exec(value);
  if (!match) throw new FlagValueError(`expected NAME=SOFT[:HARD] (numbers, -1 for unlimited), got '${value}'`);
  const limit = (text: string): number | 'unlimited' => (text === '-1' ? 'unlimited' : Number(text));
  const soft = limit(match[2]);
  return { [match[1]]: { soft, hard: match[3] === undefined ? soft : limit(match[3]) } };
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

/**
 * A docker duration ("30s", "1m30s", "1.5h", "250ms"; "0" alone) as the library's milliseconds.
 * Shared by every flag that takes one (logs --since, the --health-* flags).
 */
export function duration(value: string): number {
  const ms = parseGoDuration(value);
  if (ms === undefined) throw new FlagValueError(`expected a duration like 30s, 1m30s or 1.5h, got '${value}'`);
  return ms;
}

/**
 * A point in time as docker logs --since takes it: a duration before now ("10m"), an RFC 3339
 * time ("2024-05-01T10:00:00Z", "2024-05-01"), or Unix seconds ("1714557600.5"). The duration
 * stays relative: the command reads the clock when it runs.
 */
export function sinceTime(value: string): { agoMs: number } | { atMs: number } {
  if (/^\d+(\.\d+)?$/.test(value)) return { atMs: Math.round(Number(value) * 1000) };
  const ago = parseGoDuration(value);
  if (ago !== undefined) return { agoMs: ago };
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
