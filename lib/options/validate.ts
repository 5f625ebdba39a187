/**
 * Checks user options and turns them into a complete, normalized config.
 * Every problem is a TypeError whose message starts with the option's path
 * ("mounts[1].target: ..."), thrown before anything is created.
 */
import { LifecycleConfig, normalizeLifecycle } from './lifecycle';
import { type HealthcheckConfig, normalizeHealthcheck } from '../health/healthcheck-options';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomHex } from './random-hex';
import type { ContainerOptions, IdMapping, ProcessOptions, Rlimit, RlimitName, TerminalSize, User } from './types';
import { parseByteSize } from './sizes';
import { normalizeCapabilities } from './capabilities';
import { fail } from './option-error';
import { NormalizedResources, normalizeResources } from '../cgroups/resources';
import { normalizeSeccomp, type SeccompSetting } from '../container/seccomp-setup';
import { ALL_CAPABILITIES, DEFAULT_PATH } from './defaults';
import { checkTty, checkTtyStdio } from './tty';
import { checkTmpfsSizes, type TmpfsSizes } from './tmpfs-sizes';
import { clockSeconds, HOSTNAME_MAX, TIMENS_CLOCK_MAX_S } from './host-limits';
import { resolveDataRoot } from '../images/data-root';
import { isVolumeName, volumePath } from '../volumes/volume-names';
import { checkPod, checkSharedNetwork, networkAttachment, type PodMembership, type SharedNetwork } from './namespace-sharing';

export interface NormalizedUser {
  uid: number;
  gid: number;
  groups: number[];
  /**
   * A user given as text ('name[:group]', 'uid[:gid]'): the helper resolves it in the
   * container's own /etc/passwd and /etc/group, replacing uid, gid and groups (0, 0, []).
   */
  spec?: string;
  /** With spec: HOME is the resolved user's home (the env option set none). */
  setHome?: boolean;
}

export type NormalizedMount =
  /** `volume`: the named volume this bind mount of <dataRoot>/volumes/NAME is (lib/volumes); `anonymousVolume`: one without a given name. */
  | { type: 'bind'; source: string; target: string; readonly: boolean; recursive: boolean; volume?: string; anonymousVolume?: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes?: number; mode: string; readonly: boolean };

/**
 * Public: the type of `Container.config`, a container's options as the library normalized
 * them (defaults filled in, sizes in bytes, users as numbers). Exported from the package for
 * code that reads a container's configuration; read-only to its users.
 */
/** The image a container was made from, as c.config shows it. */
export interface ContainerImage {
  /** The config digest (docker's image id). */
  id: string;
  /** The manifest digest. */
  digest: string;
  /** The reference it was found by, or its first one. */
  reference: string | null;
  /** Entrypoint + Cmd: the program when spawn() gets none (null: the image names none). */
  command: string[] | null;
}

export interface ContainerConfig {
  id: string;
  /** null: the host's / */
  rootfs: string | null;
  readonly: boolean;
  hostname: string;
  mounts: NormalizedMount[];
  env: Record<string, string>;
  cwd: string;
  user: NormalizedUser;
  /**
   * A network of lib/networks ({ name, aliases }), or { container }: the network namespace of
   * that running container (namespace-sharing.ts).
   */
  network: 'none' | 'host' | { name: string; aliases: string[] } | SharedNetwork;
  /** The pod whose network, uts and ipc namespaces the container joins, or null. */
  pod: PodMembership | null;
  init: boolean;
  /**
   * 'block': a block of ts-container's subordinate ids, taken at spawn (lib/userns); always so
   * for the host-root container (rootfs null).
   */
  userns: { uidMap: IdMapping[]; gidMap: IdMapping[] } | 'block' | null;
  timens: { monotonicOffset: number; boottimeOffset: number } | null;
  capabilities: string[];
  /** privileged: all capabilities, no seccomp, masks or device rules, /sys writable. */
  privileged: boolean;
  rlimits: { name: RlimitName; soft: number | 'unlimited'; hard: number | 'unlimited' }[];
  resources: NormalizedResources | null;
  cgroupParent?: string;
  seccomp: SeccompSetting;
  /** The main process's terminal size, or null for none. */
  tty: TerminalSize | null;
  /** detach, restart, stateRoot, annotations, command, log. */
  lifecycle: LifecycleConfig;
  /** The sizes of the tmpfs mounts the runtime makes on its own. */
  tmpfsSizes: TmpfsSizes;
  /** Whether a rootfs directory is seen through an overlay with a private writable layer. */
  rootfsOverlay: boolean;
  /**
   * Internal: an image's unpacked layer directories, top first, as the rootfs's lower layers
   * (filled from the `image` option); empty for a rootfs directory or the host's /.
   */
  imageLayers: string[];
  /** The image the rootfs comes from (filled from the `image` option at construction), or null. */
  image: ContainerImage | null;
  /** Where the container's writable layer is made (resolveDataRoot). */
  dataRoot: string;
  /** Published ports (only with a network). */
  ports: { host: number; container: number; protocol: 'tcp' | 'udp'; hostIp: string }[];
  /** The health check (lib/health), from the option or the image's config; null for none. */
  healthcheck: HealthcheckConfig | null;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HOSTNAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const CONTAINER_KEYS = new Set([
  'id', 'rootfs', 'readonly', 'hostname', 'mounts', 'env', 'cwd', 'user', 'network', 'init', 'userns', 'timens',
  'capabilities', 'rlimits', 'resources', 'cgroupParent', 'seccomp', 'detach', 'restart', 'stateRoot', 'annotations',
  'command', 'tty', 'log', 'tmpfsSizes', 'rootfsOverlay', 'dataRoot', 'image', 'imageStore', 'pod', 'ports',
  'healthcheck',
  'privileged', 'stopSignal', 'stopTimeout',
]);
const PROCESS_KEYS = new Set(['stdio', 'env', 'cwd', 'user', 'signal', 'timeout', 'killSignal', 'tty']);
const RLIMIT_NAMES: readonly RlimitName[] = [
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio',
  'rttime', 'sigpending', 'stack',
];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) fail(where ? `${where}.${key}` : key, `unknown option (expected one of ${[...allowed].join(', ')})`);
  }
}

function checkBoolean(value: unknown, where: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(where, `expected true or false, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** An absolute container path without NUL, normalized ("/a/b"). */
function checkContainerPath(value: unknown, where: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) fail(where, `expected an absolute path, got ${describe(value)}`);
  if (value.includes('\0')) fail(where, 'must not contain a NUL byte');
  return path.posix.normalize(value);
}

function checkHostPath(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(where, `expected a path, got ${describe(value)}`);
  if (value.includes('\0')) fail(where, 'must not contain a NUL byte');
  return path.resolve(value);
}

function checkId32(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xfffffffe) {
    fail(where, `expected an integer id from 0 to 4294967294, got ${describe(value)}`);
  }
  return value;
}

function checkEnv(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(where, `expected an object of strings, got ${describe(value)}`);
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    // As child_process: a variable whose value is undefined is left out, so process.env passes.
    if (v === undefined) continue;
    if (key === '' || key.includes('=') || key.includes('\0')) fail(`${where}.${key}`, 'invalid variable name');
    if (typeof v !== 'string') fail(`${where}.${key}`, `expected a string, got ${describe(v)}`);
    if (v.includes('\0')) fail(`${where}.${key}`, 'must not contain a NUL byte');
    env[key] = v;
  }
  return env;
}

/** 'name', 'name:group', 'uid', 'uid:gid' (names as /etc/passwd and /etc/group spell them). */
const USER_SPEC = /^[^:\s\0/-][^:\s\0/]{0,255}(:[^:\s\0/-][^:\s\0/]{0,255})?$/;

export function checkUser(value: unknown, where: string, envHome?: unknown): NormalizedUser | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    if (!USER_SPEC.test(value)) fail(where, `expected 'name[:group]' or 'uid[:gid]', got ${describe(value)}`);
    // A number is an id, and 4294967295 is none (-1) to the kernel.
    for (const part of value.split(':')) {
      if (/^[0-9]+$/.test(part) && !(Number(part) < 4294967295)) fail(where, `expected ids below 4294967295, got ${describe(value)}`);
    }
    return { uid: 0, gid: 0, groups: [], spec: value, setHome: envHome === undefined };
  }
  if (!isPlainObject(value)) fail(where, `expected { uid, gid?, groups? } or 'name[:group]', got ${describe(value)}`);
  checkKeys(value, new Set(['uid', 'gid', 'groups']), where);
  const user = value as unknown as User;
  const uid = checkId32(user.uid, `${where}.uid`);
  const gid = user.gid === undefined ? uid : checkId32(user.gid, `${where}.gid`);
  if (user.groups !== undefined && !Array.isArray(user.groups)) fail(`${where}.groups`, 'expected an array of gids');
  const groups = (user.groups ?? []).map((g, i) => checkId32(g, `${where}.groups[${i}]`));
  return { uid, gid, groups };
}

function checkMounts(value: unknown, dataRoot: string): NormalizedMount[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('mounts', `expected an array, got ${describe(value)}`);
  return value.map((m, i): NormalizedMount => {
    const where = `mounts[${i}]`;
    if (!isPlainObject(m)) fail(where, `expected a mount object, got ${describe(m)}`);
    if (m.type === 'volume') return checkVolumeMount(m, where, dataRoot);
    const target = checkContainerPath(m.target, `${where}.target`);
    if (target === '/') fail(`${where}.target`, 'cannot mount over the container root');
    const readonly = checkBoolean(m.readonly, `${where}.readonly`) ?? false;
    if (m.type === 'bind') {
      checkKeys(m, new Set(['type', 'source', 'target', 'readonly', 'recursive']), where);
      const source = checkHostPath(m.source, `${where}.source`);
      const recursive = checkBoolean(m.recursive, `${where}.recursive`) ?? true;
      return { type: 'bind', source, target, readonly, recursive };
    }
    if (m.type === 'tmpfs') {
      checkKeys(m, new Set(['type', 'target', 'size', 'mode', 'readonly']), where);
      let sizeBytes: number | undefined;
      if (m.size !== undefined) {
        sizeBytes = parseByteSize(m.size);
        if (sizeBytes === undefined) fail(`${where}.size`, `expected bytes or a size like "64m", got ${describe(m.size)}`);
      }
      let mode = '1777';
      if (typeof m.mode === 'number' && Number.isInteger(m.mode) && m.mode >= 0 && m.mode <= 0o7777) {
        mode = m.mode.toString(8);
      } else if (typeof m.mode === 'string' && /^0?[0-7]{3,4}$/.test(m.mode)) {
        mode = m.mode;
      } else if (m.mode !== undefined) {
        fail(`${where}.mode`, `expected an octal mode like 0o755 or "1777", got ${describe(m.mode)}`);
      }
      return { type: 'tmpfs', target, sizeBytes, mode, readonly };
    }
    fail(`${where}.type`, `expected "bind", "tmpfs" or "volume", got ${describe(m.type)}`);
  });
}

/**
 * A named volume is a bind mount of its directory, made (and its use recorded) at create:
 * lib/volumes/mount-hook.ts. Without a source it is anonymous, as docker's: a random name, and
 * it goes once its container is deleted.
 */
function checkVolumeMount(m: Record<string, unknown>, where: string, dataRoot: string): NormalizedMount {
  checkKeys(m, new Set(['type', 'source', 'target', 'destination', 'readonly']), where);
  if (m.target !== undefined && m.destination !== undefined) fail(`${where}.destination`, 'give target or destination, not both');
  const key = m.target === undefined && m.destination !== undefined ? 'destination' : 'target';
  const target = checkContainerPath(m[key], `${where}.${key}`);
  if (target === '/') fail(`${where}.${key}`, 'cannot mount over the container root');
  const anonymous = m.source === undefined;
  const name = anonymous ? randomHex(32) : m.source;
  if (!isVolumeName(name)) fail(`${where}.source`, `expected a volume name (a letter or digit, then letters, digits, '_', '.', '-'), got ${describe(m.source)}`);
  const readonly = checkBoolean(m.readonly, `${where}.readonly`) ?? false;
  return { type: 'bind', source: volumePath(dataRoot, name), target, readonly, recursive: false, volume: name, ...(anonymous && { anonymousVolume: true }) };
}

function checkIdMaps(value: unknown, where: string): IdMapping[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, 'expected a non-empty array of { containerId, hostId, size }');
  const maps = value.map((m, i) => {
    if (!isPlainObject(m)) fail(`${where}[${i}]`, 'expected { containerId, hostId, size }');
    return {
      containerId: checkId32(m.containerId, `${where}[${i}].containerId`),
      hostId: checkId32(m.hostId, `${where}[${i}].hostId`),
      size: checkId32(m.size, `${where}[${i}].size`),
    };
  });
  if (!maps.some((m) => m.containerId === 0 && m.size > 0)) fail(where, 'must map container id 0');
  return maps;
}

/**
 * The host-root container runs in a block of ids whatever `userns` says: its root is then an
 * unused host uid, which reaches host files only as their permissions allow others.
 */
function checkUserns(value: unknown, hostRoot: boolean): ContainerConfig['userns'] {
  if (value === undefined || value === false || value === true) return value === true || hostRoot ? 'block' : null;
  if (!isPlainObject(value)) fail('userns', `expected true or { uidMap, gidMap }, got ${describe(value)}`);
  checkKeys(value, new Set(['uidMap', 'gidMap']), 'userns');
  const maps = { uidMap: checkIdMaps(value.uidMap, 'userns.uidMap'), gidMap: checkIdMaps(value.gidMap, 'userns.gidMap') };
  if (hostRoot) fail('userns', "explicit maps need a rootfs: the host's / is shared only with a block of ts-container's own ids");
  return maps;
}

/** A rootfs that is the host's / (by device and inode, symlinks followed) is the host-root mode. */
let hostRootStat: fs.Stats | undefined;

function isHostRoot(rootfs: string): boolean {
  try {
    const given = fs.statSync(rootfs);
    // This process's root stays the same directory: stat once.
    hostRootStat ??= fs.statSync('/');
    return given.dev === hostRootStat.dev && given.ino === hostRootStat.ino;
  } catch {
    // Missing: the helper reports it at spawn, as before.
    return false;
  }
}

function checkTimens(value: unknown): ContainerConfig['timens'] {
  if (value === undefined || value === false) return null;
  if (value === true) return { monotonicOffset: 0, boottimeOffset: 0 };
  if (!isPlainObject(value)) fail('timens', `expected true or { monotonicOffset, boottimeOffset }, got ${describe(value)}`);
  checkKeys(value, new Set(['monotonicOffset', 'boottimeOffset']), 'timens');
  const now = clockSeconds();
  // The kernel refuses (ERANGE) an offset that puts the clock below 0 or past KTIME_SEC_MAX / 2.
  const offset = (v: unknown, where: string, clockNow: number): number => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, `expected whole seconds, got ${describe(v)}`);
    const least = -clockNow;
    const most = TIMENS_CLOCK_MAX_S - clockNow - 1;
    if (v < least || v > most) fail(where, `expected ${least} to ${most} seconds (the clock stays between 0 and ${TIMENS_CLOCK_MAX_S}), got ${v}`);
    return v;
  };
  return {
    monotonicOffset: offset(value.monotonicOffset, 'timens.monotonicOffset', now.monotonic),
    boottimeOffset: offset(value.boottimeOffset, 'timens.boottimeOffset', now.boottime),
  };
}

function checkRlimits(value: unknown): ContainerConfig['rlimits'] {
  if (value === undefined) return [];
  if (!isPlainObject(value)) fail('rlimits', `expected an object like { nofile: 1024 }, got ${describe(value)}`);
  const limitValue = (v: unknown, where: string): number | 'unlimited' => {
    if (v === 'unlimited' || v === Infinity) return 'unlimited';
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, `expected a count or "unlimited", got ${describe(v)}`);
    return v;
  };
  return Object.entries(value).map(([name, v]) => {
    const where = `rlimits.${name}`;
    if (!RLIMIT_NAMES.includes(name as RlimitName)) fail(where, `unknown limit (expected one of ${RLIMIT_NAMES.join(', ')})`);
    if (typeof v === 'number' || v === 'unlimited') {
      const both = limitValue(v, where);
      return { name: name as RlimitName, soft: both, hard: both };
    }
    if (!isPlainObject(v)) fail(where, 'expected a number or { soft, hard }');
    const limit = v as unknown as Rlimit;
    const soft = limitValue(limit.soft, `${where}.soft`);
    const hard = limitValue(limit.hard, `${where}.hard`);
    if (soft !== 'unlimited' && (hard === 'unlimited' ? false : soft > hard)) fail(where, 'soft must not exceed hard');
    if (soft === 'unlimited' && hard !== 'unlimited') fail(where, 'soft must not exceed hard');
    return { name: name as RlimitName, soft, hard };
  });
}

function checkCgroupParent(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0') || value.split('/').includes('..')) {
    fail('cgroupParent', `expected a cgroup path like "/ci-jobs" (no ".."), got ${describe(value)}`);
  }
  // Every cgroup of the host is below the root: ts-container may not manage it as a parent.
  if (value.split('/').every((part) => part === '' || part === '.')) {
    fail('cgroupParent', `${describe(value)} is the root of the cgroup hierarchy; name a cgroup below it, like "/ci-jobs"`);
  }
  return value;
}

/** The overlay is for a rootfs directory: the host's / is never written (it is read-only or bound piecewise). */
function checkRootfsOverlay(value: unknown, rootfs: string | null): boolean {
  const overlay = checkBoolean(value, 'rootfsOverlay');
  if (overlay === true && rootfs === null) fail('rootfsOverlay', "needs a rootfs directory (the host's / is never written)");
  return overlay ?? rootfs !== null;
}

/** Home directory a process gets when the caller gives no HOME. */
/**
 * Privileged: every capability this process can hand on (its bounding set: a host or sandbox
 * may lack some), less those `capabilities.drop` names.
 */
function privilegedCapabilities(privileged: boolean, value: ContainerOptions['capabilities']): string[] {
  if (!privileged) return normalizeCapabilities(value);
  const bounding = boundingSet();
  // ALL_CAPABILITIES is in the kernel's order: a name's index is its bit.
  const held = (name: string): boolean => bounding === null || ((bounding >> BigInt((ALL_CAPABILITIES as readonly string[]).indexOf(name))) & 1n) === 1n;
  // The canonical names of `drop` (checked as add checks them).
  const dropped = new Set(normalizeCapabilities({ drop: ['ALL'], add: value?.drop ?? [] }));
  return normalizeCapabilities({ add: ['ALL'] }).filter((name) => held(name) && !dropped.has(name));
}

/** This process's capability bounding set as a bit mask, or null where /proc does not say. */
function boundingSet(): bigint | null {
  try {
    const match = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return match ? BigInt(`0x${match[1]}`) : null;
  } catch {
    return null;
  }
}

function defaultHome(uid: number): string {
  return uid === 0 ? '/root' : '/';
}

export function normalizeContainerOptions(options: ContainerOptions | undefined): ContainerConfig {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) fail('options', `expected an object, got ${describe(options)}`);
  // Before the unknown-key check: `image` names where the rootfs comes from, as `rootfs` does.
  if ((options as { image?: unknown }).image !== undefined && options.rootfs !== undefined) {
    fail('image', 'an image is the rootfs: give either image or rootfs, not both');
  }
  checkKeys(options, CONTAINER_KEYS, '');
  let id: string;
  if (options.id === undefined) {
    id = `tsc-${randomHex(6)}`;
  } else {
    if (typeof options.id !== 'string' || !ID_PATTERN.test(options.id)) {
      fail('id', `expected 1-64 letters, digits, '_', '.', '-' (starting with a letter or digit), got ${describe(options.id)}`);
    }
    id = options.id;
  }
  let rootfs = options.rootfs === undefined ? null : checkHostPath(options.rootfs, 'rootfs');
  // `rootfs: '/'` would be a writable bind of the whole host: it means the host-root mode.
  if (rootfs !== null && isHostRoot(rootfs)) rootfs = null;
  // An image is a rootfs of its own: not the host's / (writable, no forced id block).
  const hostRoot = rootfs === null && options.image === undefined;
  const readonly = checkBoolean(options.readonly, 'readonly') ?? hostRoot;
  let hostname = id.slice(0, 63);
  if (options.hostname !== undefined) {
    if (typeof options.hostname !== 'string' || !HOSTNAME_PATTERN.test(options.hostname)) {
      fail('hostname', `expected a hostname (letters, digits, '-', '.'), got ${describe(options.hostname)}`);
    }
    if (options.hostname.length > HOSTNAME_MAX) {
      fail('hostname', `expected at most ${HOSTNAME_MAX} characters (the kernel's limit), got ${options.hostname.length}`);
    }
    hostname = options.hostname;
  }
  if (!HOSTNAME_PATTERN.test(hostname)) hostname = 'container';
  const privileged = checkBoolean(options.privileged, 'privileged') ?? false;
  const user = checkUser(options.user, 'user', (options.env as Record<string, unknown> | undefined)?.HOME) ?? { uid: 0, gid: 0, groups: [] };
  const cwd = options.cwd === undefined ? '/' : checkContainerPath(options.cwd, 'cwd');
  const lifecycle = normalizeLifecycle(options);
  const pod = checkPod(options);
  // { container }: another container's namespace; anything else names a network (or none, host).
  const network: ContainerConfig['network'] = isPlainObject(options.network) && 'container' in options.network
    ? checkSharedNetwork(options.network, lifecycle.stateRoot)
    : checkNetwork(options.network);
  const dataRoot = resolveDataRoot(options.dataRoot);
  const env = {
    PATH: DEFAULT_PATH,
    HOSTNAME: hostname,
    HOME: defaultHome(user.uid),
    ...checkEnv(options.env, 'env'),
  };
  return {
    id,
    rootfs,
    readonly,
    hostname,
    mounts: checkMounts(options.mounts, dataRoot),
    env,
    cwd,
    user,
    network,
    pod,
    init: checkBoolean(options.init, 'init') ?? false,
    userns: checkUserns(options.userns, hostRoot),
    timens: checkTimens(options.timens),
    capabilities: privilegedCapabilities(privileged, options.capabilities as ContainerOptions["capabilities"]),
    privileged,
    rlimits: checkRlimits(options.rlimits),
    resources: normalizeResources(options.resources),
    cgroupParent: checkCgroupParent(options.cgroupParent),
    seccomp: normalizeSeccomp(options.seccomp ?? (privileged ? 'unconfined' : undefined)),
    tty: checkTty(options.tty),
    lifecycle,
    tmpfsSizes: checkTmpfsSizes(options.tmpfsSizes),
    rootfsOverlay: checkRootfsOverlay(options.rootfsOverlay, rootfs),
    imageLayers: [],
    image: null,
    dataRoot,
    ports: checkPorts(options.ports, network),
    // A container of an image may leave the test out (image-rootfs.ts gives the image's).
    healthcheck: normalizeHealthcheck(options.healthcheck, 'healthcheck', options.image !== undefined),
  };
}

export interface NormalizedProcessOptions {
  env: Record<string, string>;
  cwd: string;
  user: NormalizedUser;
  timeout?: number;
  killSignal: number;
  signal?: AbortSignal;
  /** The process's terminal size, or null for none. */
  tty: TerminalSize | null;
}

export function signalNumber(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65) return value;
  if (typeof value === 'string') {
    const n = (os.constants.signals as Record<string, number>)[value.toUpperCase()];
    if (n !== undefined) return n;
  }
  fail(where, `expected a signal name like "SIGTERM" or a number, got ${describe(value)}`);
}

/**
 * Per-process options, over the container's config. `role` 'main' is the container's main
 * process, which takes the container's `tty` unless its own says otherwise.
 */
export function normalizeProcessOptions(
  argv: unknown,
  options: ProcessOptions | undefined,
  container: ContainerConfig,
  role: 'main' | 'exec' = 'exec',
): { argv: string[]; process: NormalizedProcessOptions } {
  if (!Array.isArray(argv) || argv.length === 0) fail('argv', 'expected a non-empty array of strings');
  argv.forEach((a, i) => {
    if (typeof a !== 'string') fail(`argv[${i}]`, `expected a string, got ${describe(a)}`);
    if (a.includes('\0')) fail(`argv[${i}]`, 'must not contain a NUL byte');
  });
  if ((argv[0] as string).length === 0) fail('argv[0]', 'expected a program name');
  options = options ?? {};
  if (!isPlainObject(options)) fail('options', `expected an object, got ${describe(options)}`);
  checkKeys(options, PROCESS_KEYS, '');
  const envHome = (options.env as Record<string, unknown> | undefined)?.HOME;
  let user = checkUser(options.user, 'user', envHome) ?? container.user;
  // The container's user by name: resolved again at exec, its HOME too unless this env sets one.
  if (user.spec !== undefined && envHome !== undefined) user = { ...user, setHome: false };
  const env = { ...container.env, ...checkEnv(options.env, 'env') };
  if (options.user !== undefined && (options.env as Record<string, string> | undefined)?.HOME === undefined && container.env.HOME === defaultHome(container.user.uid)) {
    env.HOME = defaultHome(user.uid);
  }
  let timeout: number | undefined;
  if (options.timeout !== undefined && options.timeout !== 0) {
    if (typeof options.timeout !== 'number' || !(options.timeout > 0) || !Number.isFinite(options.timeout)) {
      fail('timeout', `expected milliseconds (a positive number), got ${describe(options.timeout)}`);
    }
    timeout = options.timeout;
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    fail('signal', `expected an AbortSignal, got ${describe(options.signal)}`);
  }
  const tty = options.tty !== undefined || role === 'exec' ? checkTty(options.tty) : container.tty;
  if (tty) checkTtyStdio(options.stdio);
  return {
    argv: argv as string[],
    process: {
      env,
      cwd: options.cwd === undefined ? container.cwd : checkContainerPath(options.cwd, 'cwd'),
      user,
      timeout,
      killSignal: options.killSignal === undefined ? os.constants.signals.SIGTERM : signalNumber(options.killSignal, 'killSignal'),
      signal: options.signal,
      tty,
    },
  };
}

const ALIAS_PATTERN = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,62})$/;

/** 'none' (default), 'host', a network's name or { name, aliases }. */
function checkNetwork(value: unknown): ContainerConfig['network'] {
  if (value === undefined || value === 'none' || value === 'host') return value ?? 'none';
  const expected = 'expected "none", "host", a network name, { name, aliases } or { container }';
  const named = typeof value === 'string' ? { name: value } : value;
  if (typeof named !== 'object' || named === null || Array.isArray(named)) fail('network', `${expected}, got ${describe(value)}`);
  const { name, aliases } = named as { name?: unknown; aliases?: unknown };
  if (typeof name !== 'string' || !ALIAS_PATTERN.test(name)) fail('network.name', `expected a network name (letters, digits, '_', '.', '-'), got ${describe(name)}`);
  if (aliases !== undefined && !Array.isArray(aliases)) fail('network.aliases', `expected an array of names, got ${describe(aliases)}`);
  const checked = ((aliases as unknown[] | undefined) ?? []).map((alias, i) => {
    if (typeof alias !== 'string' || !ALIAS_PATTERN.test(alias)) fail(`network.aliases[${i}]`, `expected a host name (letters, digits, '_', '.', '-'), got ${describe(alias)}`);
    return alias;
  });
  return { name, aliases: checked };
}

/** Published ports: only with a network; ports 1-65535; hostIp an IPv4 address. */
function checkPorts(value: unknown, network: ContainerConfig['network']): ContainerConfig['ports'] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('ports', `expected an array of { host, container, protocol?, hostIp? }, got ${describe(value)}`);
  if (value.length > 0 && !networkAttachment(network)) fail('ports', 'published ports need a network (the network option names one)');
  const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
  return value.map((entry: unknown, i) => {
    const p = (entry ?? {}) as { host?: unknown; container?: unknown; protocol?: unknown; hostIp?: unknown };
    if (!isPort(p.host)) fail(`ports[${i}].host`, `expected a port 1-65535, got ${describe(p.host)}`);
    if (!isPort(p.container)) fail(`ports[${i}].container`, `expected a port 1-65535, got ${describe(p.container)}`);
    const protocol = p.protocol ?? 'tcp';
    if (protocol !== 'tcp' && protocol !== 'udp') fail(`ports[${i}].protocol`, `expected "tcp" or "udp", got ${describe(p.protocol)}`);
    const hostIp = p.hostIp ?? '0.0.0.0';
    if (typeof hostIp !== 'string' || !/^(\d{1,3})(\.\d{1,3}){3}$/.test(hostIp) || hostIp.split('.').some((b) => Number(b) > 255)) {
      fail(`ports[${i}].hostIp`, `expected an IPv4 address, got ${describe(p.hostIp)}`);
    }
    return { host: p.host, container: p.container, protocol, hostIp };
  });
}
