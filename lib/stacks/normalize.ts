/**
 * Checks a stack description (description.ts) and turns it into what Stack runs: services in
 * dependency order with library options (argv, env, ports, mounts), and the networks and
 * volumes with their real names. Every problem is a StackFileError naming its key, thrown
 * before anything is made; a key outside the supported subset is one such problem.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { StackFileError } from '../errors/errors';
import type { Mount, PortMapping } from '../options/types';
import type { RestartPolicy } from '../state/types';
import { isVolumeName } from '../volumes/volume-names';
import type { StackDependsOnCondition } from './description';
import { parseDuration } from './durations';
import { splitWords } from './words';

export interface StackHealthOptions {
  /** The probe's argv (CMD's arguments, or /bin/sh -c SCRIPT for CMD-SHELL). */
  test: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
}

export interface NormalizedService {
  name: string;
  /** `<project>-<service>-1`. */
  containerId: string;
  image: string;
  command: string[] | null;
  entrypoint: string[] | null;
  environment: Record<string, string>;
  ports: PortMapping[];
  mounts: Mount[];
  /** The volume keys (top-level `volumes`) it mounts. */
  volumeKeys: string[];
  dependsOn: { service: string; condition: StackDependsOnCondition; required: boolean }[];
  /** null: none given (the image's applies); 'none': switched off (test NONE, or disable). */
  healthcheck: StackHealthOptions | 'none' | null;
  /** Network keys (top-level `networks`, or 'default') with the aliases it answers to there. */
  networks: { key: string; aliases: string[] }[];
  restart?: RestartPolicy;
  stopSignal?: string;
  /** Seconds, as stop({ timeout }) takes them. */
  stopTimeout?: number;
  hostname?: string;
  cwd?: string;
  init?: boolean;
}

export interface NormalizedStack {
  project: string;
  /** In dependency order: each after everything it depends on. */
  services: NormalizedService[];
  networks: { key: string; name: string; external: boolean; internal: boolean }[];
  volumes: { key: string; name: string; external: boolean }[];
}

export interface NormalizeContext {
  /** The project name when the description names none. */
  project?: string;
  /** Relative bind sources are resolved from here (the compose file's directory). */
  directory: string;
  /** Errors name this file. */
  file?: string;
}

const TOP_KEYS = ['name', 'version', 'services', 'networks', 'volumes'];
const SERVICE_KEYS = [
  'image', 'command', 'entrypoint', 'environment', 'ports', 'volumes', 'depends_on', 'healthcheck', 'networks',
  'restart', 'stop_signal', 'stop_grace_period', 'hostname', 'working_dir', 'init',
];
const HEALTH_KEYS = ['test', 'interval', 'timeout', 'retries', 'start_period', 'disable'];
const NETWORK_KEYS = ['name', 'external', 'internal', 'driver'];
const VOLUME_KEYS = ['name', 'external'];
const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];
const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
/** As compose: lower-case letters, digits, '-' and '_', starting with a letter or digit. */
const PROJECT = /^[a-z0-9][a-z0-9_-]*$/;
const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Compose's defaults for a healthcheck. */
const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0 };

class Checker {
  constructor(readonly file: string | undefined) {}

  fail(key: string, message: string): never {
    throw new StackFileError(key, message, this.file);
  }

  /** Refuses keys outside `allowed`; compose's extension keys (x-...) are meant to be ignored. */
  keys(value: Record<string, unknown>, allowed: string[], where: string): void {
    for (const key of Object.keys(value)) {
      if (key.startsWith('x-')) continue;
      if (!allowed.includes(key)) this.fail(where ? `${where}.${key}` : key, `not supported by ts-container (supported here: ${allowed.join(', ')})`);
    }
  }

  object(value: unknown, where: string): Record<string, unknown> {
    if (!isObject(value)) this.fail(where, `expected a mapping, got ${describe(value)}`);
    return value;
  }

  argv(value: unknown, where: string): string[] | null {
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') {
      const words = splitWords(value);
      if (!words) this.fail(where, `unbalanced quotes in ${JSON.stringify(value)}`);
      return words;
    }
    if (Array.isArray(value) && value.every((w) => typeof w === 'string' || typeof w === 'number')) return value.map(String);
    this.fail(where, `expected a string or a list of strings, got ${describe(value)}`);
  }

  duration(value: unknown, where: string): number | undefined {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined) this.fail(where, `expected a duration like "30s" or "1m30s", got ${describe(value)}`);
    return ms;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A project name from a directory's name, as compose makes it: lower case, other characters dropped. */
export function projectFromDirectory(directory: string): string {
  const name = path.basename(path.resolve(directory)).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
  return name || 'default';
}

export function normalizeStack(raw: unknown, context: NormalizeContext): NormalizedStack {
  const check: Checker = new Checker(context.file);
  const top = check.object(raw, '');
  check.keys(top, TOP_KEYS, '');
  const named: unknown = context.project ?? top.name ?? projectFromDirectory(context.directory);
  if (typeof named !== 'string' || !PROJECT.test(named)) {
    check.fail('name', `expected a project name (lower-case letters, digits, '-', '_'; a letter or digit first), got ${describe(named)}`);
  }
  const project = named;
  const servicesRaw = check.object(top.services, 'services');
  if (Object.keys(servicesRaw).length === 0) check.fail('services', 'expected at least one service');
  const networks = topNetworks(check, top.networks, project);
  const volumes = topVolumes(check, top.volumes, project);
  const services = Object.entries(servicesRaw).map(([name, value]) =>
    normalizeService(check, name, value, { project, directory: context.directory, networkKeys: new Set(networks.map((n) => n.key)), volumes }),
  );
  const known = new Set(services.map((s) => s.name));
  for (const service of services) {
    for (const dependency of service.dependsOn) {
      if (!known.has(dependency.service)) check.fail(`services.${service.name}.depends_on`, `no service named ${JSON.stringify(dependency.service)}`);
    }
  }
  // The implicit default network exists only when some service is on it.
  const used = new Set(services.flatMap((s) => s.networks.map((n) => n.key)));
  if (used.has('default') && !networks.some((n) => n.key === 'default')) {
    networks.push({ key: 'default', name: `${project}_default`, external: false, internal: false });
  }
  return { project, services: dependencyOrder(check, services), networks: networks.filter((n) => used.has(n.key)), volumes };
}

function topNetworks(check: Checker, value: unknown, project: string): NormalizedStack['networks'] {
  if (value === undefined || value === null) return [];
  const networks = check.object(value, 'networks');
  return Object.entries(networks).map(([key, definition]) => {
    const where = `networks.${key}`;
    const d = definition === null ? {} : check.object(definition, where);
    check.keys(d, NETWORK_KEYS, where);
    if (d.driver !== undefined && d.driver !== 'bridge') check.fail(`${where}.driver`, `only "bridge" is supported, got ${describe(d.driver)}`);
    if (d.external !== undefined && typeof d.external !== 'boolean') check.fail(`${where}.external`, 'expected true or false');
    if (d.internal !== undefined && typeof d.internal !== 'boolean') check.fail(`${where}.internal`, 'expected true or false');
    const name = d.name ?? (d.external ? key : `${project}_${key}`);
    if (typeof name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(name)) check.fail(`${where}.name`, `expected a network name (at most 64 letters, digits, '_', '.', '-'), got ${describe(name)}`);
    return { key, name, external: d.external === true, internal: d.internal === true };
  });
}

function topVolumes(check: Checker, value: unknown, project: string): NormalizedStack['volumes'] {
  if (value === undefined || value === null) return [];
  const volumes = check.object(value, 'volumes');
  return Object.entries(volumes).map(([key, definition]) => {
    const where = `volumes.${key}`;
    const d = definition === null ? {} : check.object(definition, where);
    check.keys(d, VOLUME_KEYS, where);
    if (d.external !== undefined && typeof d.external !== 'boolean') check.fail(`${where}.external`, 'expected true or false');
    const name = d.name ?? (d.external ? key : `${project}_${key}`);
    if (!isVolumeName(name)) check.fail(`${where}.name`, `expected a volume name (letters, digits, '_', '.', '-'; a letter or digit first), got ${describe(name)}`);
    return { key, name, external: d.external === true };
  });
}

interface ServiceScope {
  project: string;
  directory: string;
  networkKeys: Set<string>;
  volumes: NormalizedStack['volumes'];
}

function normalizeService(check: Checker, name: string, value: unknown, scope: ServiceScope): NormalizedService {
  const where = `services.${name}`;
  if (!SERVICE.test(name)) check.fail(where, "a service name is letters, digits, '_', '.', '-', a letter or digit first");
  const s = check.object(value, where);
  check.keys(s, SERVICE_KEYS, where);
  if (typeof s.image !== 'string' || s.image === '') check.fail(`${where}.image`, 'expected an image reference (building images is not supported)');
  const containerId = `${scope.project}-${name}-1`;
  if (containerId.length > 64) check.fail(where, `the container id ${containerId} is longer than 64 characters: shorten the project or service name`);
  const mounts = serviceVolumes(check, s.volumes, `${where}.volumes`, scope);
  const service: NormalizedService = {
    name,
    containerId,
    image: s.image,
    command: check.argv(s.command, `${where}.command`),
    entrypoint: check.argv(s.entrypoint, `${where}.entrypoint`),
    environment: environment(check, s.environment, `${where}.environment`),
    ports: (listOf(check, s.ports, `${where}.ports`)).map((p, i) => port(check, p, `${where}.ports[${i}]`)),
    mounts: mounts.map((m) => m.mount),
    volumeKeys: [...new Set(mounts.flatMap((m) => (m.key ? [m.key] : [])))],
    dependsOn: dependsOn(check, s.depends_on, `${where}.depends_on`),
    healthcheck: healthcheck(check, s.healthcheck, `${where}.healthcheck`),
    networks: serviceNetworks(check, s.networks, `${where}.networks`, scope.networkKeys, name),
  };
  if (s.restart !== undefined) {
    if (typeof s.restart !== 'string' || !RESTART.test(s.restart)) check.fail(`${where}.restart`, `expected no, always, unless-stopped or on-failure[:N], got ${describe(s.restart)}`);
    service.restart = s.restart as RestartPolicy;
  }
  if (s.stop_signal !== undefined) {
    if (typeof s.stop_signal !== 'string' || !/^(SIG)?[A-Z0-9]+$/.test(s.stop_signal)) check.fail(`${where}.stop_signal`, `expected a signal name like SIGTERM, got ${describe(s.stop_signal)}`);
    service.stopSignal = s.stop_signal.startsWith('SIG') ? s.stop_signal : `SIG${s.stop_signal}`;
  }
  const grace = check.duration(s.stop_grace_period, `${where}.stop_grace_period`);
  if (grace !== undefined) service.stopTimeout = Math.ceil(grace / 1000);
  if (s.hostname !== undefined) {
    if (typeof s.hostname !== 'string') check.fail(`${where}.hostname`, 'expected a string');
    service.hostname = s.hostname;
  }
  if (s.working_dir !== undefined) {
    if (typeof s.working_dir !== 'string' || !s.working_dir.startsWith('/')) check.fail(`${where}.working_dir`, 'expected an absolute path');
    service.cwd = s.working_dir;
  }
  if (s.init !== undefined) {
    if (typeof s.init !== 'boolean') check.fail(`${where}.init`, 'expected true or false');
    service.init = s.init;
  }
  return service;
}

function listOf(check: Checker, value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) check.fail(where, `expected a list, got ${describe(value)}`);
  return value;
}

/** A map or a KEY=VALUE list; a key without a value takes this process's, as compose takes the shell's. */
function environment(check: Checker, value: unknown, where: string): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (key: string, v: unknown, at: string): void => {
    if (key === '' || key.includes('=')) check.fail(at, `expected a variable name, got ${JSON.stringify(key)}`);
    if (v === null || v === undefined) {
      const inherited = process.env[key];
      if (inherited !== undefined) env[key] = inherited;
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      env[key] = String(v);
    } else {
      check.fail(at, `expected a string, number or boolean, got ${describe(v)}`);
    }
  };
  if (value === undefined || value === null) return env;
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      if (typeof entry !== 'string') check.fail(`${where}[${i}]`, `expected KEY=VALUE, got ${describe(entry)}`);
      const eq = entry.indexOf('=');
      set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? null : entry.slice(eq + 1), `${where}[${i}]`);
    });
  } else {
    for (const [key, v] of Object.entries(check.object(value, where))) set(key, v, `${where}.${key}`);
  }
  return env;
}

function portNumber(check: Checker, value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) check.fail(where, `expected a port 1-65535, got ${describe(value)}`);
  return n;
}

function port(check: Checker, value: unknown, where: string): PortMapping {
  if (typeof value === 'number') check.fail(where, `a host port is needed: write "HOST:${value}" (ephemeral host ports are not supported)`);
  if (typeof value === 'string') {
    const match = /^(?:(\d+\.\d+\.\d+\.\d+):)?(?:([^:/]+):)?([^:/]+)(?:\/(tcp|udp))?$/.exec(value);
    if (!match) check.fail(where, `expected "[IP:]HOST:CONTAINER[/tcp|udp]", got ${JSON.stringify(value)}`);
    const [, hostIp, host, container, protocol] = match;
    if (host === undefined) check.fail(where, `a host port is needed: write "HOST:${container}" (ephemeral host ports are not supported)`);
    if (host.includes('-') || container.includes('-')) check.fail(where, 'port ranges are not supported');
    return { host: portNumber(check, host, where), container: portNumber(check, container, where), ...(protocol && { protocol: protocol as 'tcp' | 'udp' }), ...(hostIp && { hostIp }) };
  }
  const p = check.object(value, where);
  check.keys(p, ['target', 'published', 'host_ip', 'protocol'], where);
  if (p.published === undefined) check.fail(`${where}.published`, 'a host port is needed (ephemeral host ports are not supported)');
  if (p.protocol !== undefined && p.protocol !== 'tcp' && p.protocol !== 'udp') check.fail(`${where}.protocol`, `expected tcp or udp, got ${describe(p.protocol)}`);
  if (p.host_ip !== undefined && (typeof p.host_ip !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(p.host_ip))) check.fail(`${where}.host_ip`, 'expected an IPv4 address');
  return {
    host: portNumber(check, p.published, `${where}.published`),
    container: portNumber(check, p.target, `${where}.target`),
    ...(p.protocol !== undefined && { protocol: p.protocol as 'tcp' | 'udp' }),
    ...(p.host_ip !== undefined && { hostIp: p.host_ip as string }),
  };
}

function serviceVolumes(check: Checker, value: unknown, where: string, scope: ServiceScope): { mount: Mount; key?: string }[] {
  return listOf(check, value, where).map((entry, i) => {
    const at = `${where}[${i}]`;
    let type: unknown, source: unknown, target: unknown, readonly = false;
    if (typeof entry === 'string') {
      const parts = entry.split(':');
      if (parts.length < 2) check.fail(at, `anonymous volumes are not supported: name one ("data:${entry}") or bind a host path`);
      if (parts.length > 3) check.fail(at, `expected SOURCE:TARGET[:ro|rw], got ${JSON.stringify(entry)}`);
      [source, target] = parts;
      if (parts[2] !== undefined) {
        if (parts[2] !== 'ro' && parts[2] !== 'rw') check.fail(at, `only the modes ro and rw are supported, got ${JSON.stringify(parts[2])}`);
        readonly = parts[2] === 'ro';
      }
      type = /^[./~]/.test(source as string) ? 'bind' : 'volume';
    } else {
      const v = check.object(entry, at);
      check.keys(v, ['type', 'source', 'target', 'read_only'], at);
      ({ type, source, target } = v);
      if (v.read_only !== undefined && typeof v.read_only !== 'boolean') check.fail(`${at}.read_only`, 'expected true or false');
      readonly = v.read_only === true;
      if (type === 'tmpfs') {
        if (source !== undefined) check.fail(`${at}.source`, 'a tmpfs has no source');
      } else if (type !== 'bind' && type !== 'volume') {
        check.fail(`${at}.type`, `expected volume, bind or tmpfs, got ${describe(type)}`);
      }
    }
    if (typeof target !== 'string' || !target.startsWith('/')) check.fail(at, `expected an absolute path inside the container, got ${describe(target)}`);
    if (type === 'tmpfs') return { mount: { type: 'tmpfs', target, readonly } };
    if (typeof source !== 'string' || source === '') check.fail(at, 'expected a source');
    if (type === 'bind') {
      const expanded = source === '~' || source.startsWith('~/') ? path.join(os.homedir(), source.slice(1)) : source;
      return { mount: { type: 'bind', source: path.resolve(scope.directory, expanded), target, readonly } };
    }
    const volume = scope.volumes.find((v) => v.key === source);
    if (!volume) check.fail(at, `volume ${JSON.stringify(source)} is not defined in the top-level volumes`);
    return { mount: { type: 'volume', source: volume.name, target, readonly }, key: volume.key };
  });
}

function dependsOn(check: Checker, value: unknown, where: string): NormalizedService['dependsOn'] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((service, i) => {
      if (typeof service !== 'string') check.fail(`${where}[${i}]`, `expected a service name, got ${describe(service)}`);
      return { service, condition: 'service_started' as const, required: true };
    });
  }
  return Object.entries(check.object(value, where)).map(([service, spec]) => {
    const at = `${where}.${service}`;
    const s = spec === null ? {} : check.object(spec, at);
    check.keys(s, ['condition', 'required'], at);
    const condition = s.condition ?? 'service_started';
    if (typeof condition !== 'string' || !CONDITIONS.includes(condition)) check.fail(`${at}.condition`, `expected one of ${CONDITIONS.join(', ')}, got ${describe(condition)}`);
    if (s.required !== undefined && typeof s.required !== 'boolean') check.fail(`${at}.required`, 'expected true or false');
    return { service, condition: condition as StackDependsOnCondition, required: s.required !== false };
  });
}

function healthcheck(check: Checker, value: unknown, where: string): StackHealthOptions | 'none' | null {
  if (value === undefined || value === null) return null;
  const h = check.object(value, where);
  check.keys(h, HEALTH_KEYS, where);
  if (h.disable === true) return 'none';
  let test: string[];
  if (typeof h.test === 'string') {
    test = ['/bin/sh', '-c', h.test];
  } else if (Array.isArray(h.test) && h.test.length > 0 && h.test.every((w) => typeof w === 'string')) {
    const [kind, ...rest] = h.test as string[];
    if (kind === 'NONE') return 'none';
    if (kind === 'CMD' && rest.length > 0) test = rest;
    else if (kind === 'CMD-SHELL' && rest.length === 1) test = ['/bin/sh', '-c', rest[0]];
    else check.fail(`${where}.test`, 'expected ["CMD", program, ...], ["CMD-SHELL", script], ["NONE"] or a script');
  } else {
    check.fail(`${where}.test`, `expected a list of strings or a script, got ${describe(h.test)}`);
  }
  if (h.retries !== undefined && (typeof h.retries !== 'number' || !Number.isInteger(h.retries) || h.retries < 1)) check.fail(`${where}.retries`, 'expected a whole number, at least 1');
  return {
    test,
    interval: check.duration(h.interval, `${where}.interval`) ?? HEALTH_DEFAULTS.interval,
    timeout: check.duration(h.timeout, `${where}.timeout`) ?? HEALTH_DEFAULTS.timeout,
    retries: (h.retries as number | undefined) ?? HEALTH_DEFAULTS.retries,
    startPeriod: check.duration(h.start_period, `${where}.start_period`) ?? HEALTH_DEFAULTS.startPeriod,
  };
}

function serviceNetworks(check: Checker, value: unknown, where: string, defined: Set<string>, service: string): NormalizedService['networks'] {
  const entries: [string, unknown][] = value === undefined || value === null
    ? [['default', null]]
    : Array.isArray(value)
      ? value.map((key, i) => {
        if (typeof key !== 'string') check.fail(`${where}[${i}]`, `expected a network name, got ${describe(key)}`);
        return [key, null];
      })
      : Object.entries(check.object(value, where));
  if (entries.length === 0) check.fail(where, 'expected at least one network');
  return entries.map(([key, spec]) => {
    const at = `${where}.${key}`;
    if (key !== 'default' && !defined.has(key)) check.fail(at, `network ${JSON.stringify(key)} is not defined in the top-level networks`);
    const s = spec === null ? {} : check.object(spec, at);
    check.keys(s, ['aliases'], at);
    const aliases = listOf(check, s.aliases, `${at}.aliases`).map((a, i) => {
      if (typeof a !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(a)) check.fail(`${at}.aliases[${i}]`, `expected a host name, got ${describe(a)}`);
      return a;
    });
    // The service's name resolves on each of its networks, as compose makes it.
    return { key, aliases: [...new Set([service, ...aliases])] };
  });
}

/** Services ordered so that each comes after its dependencies; a cycle is an error naming it. */
function dependencyOrder(check: Checker, services: NormalizedService[]): NormalizedService[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: NormalizedService[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (service: NormalizedService, trail: string[]): void => {
    const seen = state.get(service.name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(service.name)), service.name];
      check.fail(`services.${service.name}.depends_on`, `a dependency cycle: ${cycle.join(' -> ')}`);
    }
    state.set(service.name, 'visiting');
    for (const d of service.dependsOn) visit(byName.get(d.service) as NormalizedService, [...trail, service.name]);
    state.set(service.name, 'done');
    ordered.push(service);
  };
  for (const service of services) visit(service, []);
  return ordered;
}
