/**
 * The `changes` of a commit: what the new image's config sets over its base's, as
 * `docker commit --change` does. Checked before anything is read or written.
 */
import type { ImageRuntimeConfig } from './manifest';

export interface CommitChanges {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  /** "KEY=VALUE" each; a key the base sets too takes the new value. */
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  /** "80/tcp" → {} (a bare port is tcp); added to the base's. */
  ExposedPorts?: Record<string, object> | string[];
  /** Added to the base's. */
  Labels?: Record<string, string>;
}

const KEYS = ['Cmd', 'Entrypoint', 'Env', 'WorkingDir', 'User', 'ExposedPorts', 'Labels'];

function bad(key: string, problem: string): never {
  throw new TypeError(`commit: changes.${key}: ${problem}`);
}

function stringList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) bad(key, `expected an array of strings, got ${JSON.stringify(value)}`);
  return value as string[];
}

function port(value: string, key: string): string {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) bad(key, `expected "PORT[/tcp|udp|sctp]", got ${JSON.stringify(value)}`);
  return `${m[1]}/${m[2] ?? 'tcp'}`;
}

/** The changes, checked and normalized; TypeError naming the field otherwise. */
export function validateChanges(changes: unknown): CommitChanges {
  if (changes === undefined) return {};
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) throw new TypeError('commit: changes: expected an object');
  const given = changes as Record<string, unknown>;
  for (const key of Object.keys(given)) if (!KEYS.includes(key)) bad(key, `unknown (expected one of ${KEYS.join(', ')})`);
  const out: CommitChanges = {};
  for (const key of ['Cmd', 'Entrypoint'] as const) {
    if (given[key] === undefined) continue;
    out[key] = given[key] === null ? null : stringList(given[key], key);
  }
  if (given.Env !== undefined) {
    out.Env = stringList(given.Env, 'Env');
    for (const item of out.Env) if (!/^[^=]+=/.test(item)) bad('Env', `expected "KEY=VALUE", got ${JSON.stringify(item)}`);
  }
  if (given.WorkingDir !== undefined) {
    if (typeof given.WorkingDir !== 'string' || !given.WorkingDir.startsWith('/')) bad('WorkingDir', `expected an absolute path, got ${JSON.stringify(given.WorkingDir)}`);
    out.WorkingDir = given.WorkingDir;
  }
  if (given.User !== undefined) {
    if (typeof given.User !== 'string' || given.User === '' || /[\s\0]/.test(given.User)) bad('User', `expected "user[:group]", got ${JSON.stringify(given.User)}`);
    out.User = given.User;
  }
  if (given.ExposedPorts !== undefined) {
    const ports = given.ExposedPorts;
    const names = Array.isArray(ports) ? ports : typeof ports === 'object' && ports !== null ? Object.keys(ports) : bad('ExposedPorts', 'expected ports as an array or an object');
    out.ExposedPorts = Object.fromEntries(names.map((p) => [port(String(p), 'ExposedPorts'), {}]));
  }
  if (given.Labels !== undefined) {
    const labels = given.Labels;
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
      bad('Labels', 'expected an object of strings');
    }
    out.Labels = { ...(labels as Record<string, string>) };
  }
  return out;
}

/** The base's runtime config with the changes over it. */
export function applyChanges(base: ImageRuntimeConfig, changes: CommitChanges): ImageRuntimeConfig {
  const config: ImageRuntimeConfig = { ...base };
  if (changes.Cmd !== undefined) config.Cmd = changes.Cmd;
  if (changes.Entrypoint !== undefined) config.Entrypoint = changes.Entrypoint;
  if (changes.WorkingDir !== undefined) config.WorkingDir = changes.WorkingDir;
  if (changes.User !== undefined) config.User = changes.User;
  if (changes.Env !== undefined) {
    const env = new Map((base.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e] as const));
    for (const e of changes.Env) env.set(e.slice(0, e.indexOf('=')), e);
    config.Env = [...env.values()];
  }
  if (changes.ExposedPorts !== undefined) config.ExposedPorts = { ...base.ExposedPorts, ...(changes.ExposedPorts as Record<string, object>) };
  if (changes.Labels !== undefined) config.Labels = { ...base.Labels, ...changes.Labels };
  return config;
}
