/**
 * The `seccomp` option of a container: which profile, which system calls go to a notify
 * callback, and the compiled program the helper loads (compiled once per container; the
 * compiler caches across containers too).
 */
import * as os from 'node:os';
import {
  compileSeccomp,
  DEFAULT_PROFILE,
  nativeSeccompArch,
  validateSeccompOption,
  type CompiledSeccomp,
  type SeccompOption,
} from '../seccomp';
import { AUDIT_ARCH, TABLES, X32_SYSCALL_BIT } from '../seccomp/compile';
import type { SeccompNotifyOptions } from '../seccomp-notify/types';
import { fail } from '../options/option-error';

export interface SeccompSetting {
  profile: SeccompOption;
  notify: SeccompNotifyOptions | null;
}

/** Accepts a profile ('default', 'unconfined', an OCI or Docker profile) or { profile?, notify? }. */
export function normalizeSeccomp(value: unknown): SeccompSetting {
  if (value === undefined) return { profile: 'default', notify: null };
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && ('notify' in value || 'profile' in value)) {
    const { profile, notify, ...rest } = value as { profile?: unknown; notify?: unknown };
    for (const key of Object.keys(rest)) fail(`seccomp.${key}`, 'unknown option (expected profile and notify)');
    return {
      profile: profile === undefined ? 'default' : validateSeccompOption(profile, 'seccomp.profile'),
      notify: notify === undefined ? null : checkNotify(notify),
    };
  }
  return { profile: validateSeccompOption(value, 'seccomp'), notify: null };
}

function checkNotify(value: unknown): SeccompNotifyOptions {
  if (typeof value !== 'object' || value === null) fail('seccomp.notify', 'expected { syscalls, handler }');
  const { syscalls, handler } = value as { syscalls?: unknown; handler?: unknown };
  if (!Array.isArray(syscalls) || syscalls.length === 0 || !syscalls.every((s) => typeof s === 'string' && /^[a-z0-9_]+$/.test(s))) {
    fail('seccomp.notify.syscalls', 'expected a non-empty array of system call names like "execve"');
  }
  if (typeof handler !== 'function') fail('seccomp.notify.handler', 'expected a function');
  return { syscalls: syscalls as string[], handler: handler as SeccompNotifyOptions['handler'] };
}

type ProfileObject = Exclude<SeccompOption, 'default' | 'unconfined'>;
type SyscallRule = { names?: string[]; name?: string; action: string };

/** The profile with the notified system calls taken out of its rules and given a NOTIFY rule. */
function withNotifyRule(profile: ProfileObject, syscalls: string[]): ProfileObject {
  const notified = new Set(syscalls);
  const rules = ((profile as { syscalls?: SyscallRule[] }).syscalls ?? [])
    .map((rule) => {
      const names = (rule.names ?? (rule.name ? [rule.name] : [])).filter((n) => !notified.has(n));
      const { name: _name, ...rest } = rule;
      return { ...rest, names };
    })
    .filter((rule) => rule.names.length > 0);
  rules.push({ names: syscalls, action: 'SCMP_ACT_NOTIFY' });
  return { ...profile, syscalls: rules } as ProfileObject;
}

/** The running kernel's: read once per process (uname), not once per container. */
let runningKernel: { major: number; minor: number } | undefined;

function kernelVersion(): { major: number; minor: number } {
  if (runningKernel) return runningKernel;
  const [major, minor] = os.release().split('.').map((n) => parseInt(n, 10));
  runningKernel = Object.freeze({ major: major || 0, minor: minor || 0 });
  return runningKernel;
}

export interface PreparedSeccomp {
  compiled: CompiledSeccomp;
  /** The program as the plan carries it. */
  hex: string;
}

/** Compiles the container's program; null when unconfined. */
export function prepareSeccomp(setting: SeccompSetting, capabilities: string[]): PreparedSeccomp | null {
  let profile = setting.profile;
  if (setting.notify) {
    if (profile === 'unconfined') profile = { defaultAction: 'SCMP_ACT_ALLOW' };
    profile = withNotifyRule(profile === 'default' ? (DEFAULT_PROFILE as ProfileObject) : profile, setting.notify.syscalls);
  }
  const compiled = compileSeccomp(profile, { arch: nativeSeccompArch(), capabilities, kernel: kernelVersion() });
  return compiled ? { compiled, hex: hexOf(compiled.program) } : null;
}

const hexCache = new WeakMap<Buffer, string>();

function hexOf(program: Buffer): string {
  let hex = hexCache.get(program);
  if (hex === undefined) hexCache.set(program, (hex = program.toString('hex')));
  return hex;
}

let reverseTables: Map<string, Map<number, string>> | undefined;

/** A system call's name from its number and AUDIT_ARCH, for notifications. */
export function syscallName(nr: number, arch: number): string | undefined {
  if (!reverseTables) {
    reverseTables = new Map();
    for (const [name, table] of Object.entries(TABLES)) {
      reverseTables.set(name, new Map(Object.entries(table).map(([syscall, number]) => [number, syscall])));
    }
  }
  const archName = Object.entries(AUDIT_ARCH).find(([name, value]) => value === arch && name !== 'x32')?.[0];
  if (archName === 'x86_64' && nr & X32_SYSCALL_BIT) return reverseTables.get('x32')?.get(nr);
  return archName ? reverseTables.get(archName)?.get(nr) : undefined;
}
