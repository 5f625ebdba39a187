/** Validation of a seccomp option (OCI `linux.seccomp` or Docker/Podman JSON profile), naming the bad field. */
import type { SeccompOption } from './types';

export const ACTION_NAMES = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;

export const OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;

/** Every libseccomp architecture name; only x86_64/x86/x32/aarch64 are compiled, the rest are ignored as foreign. */
export const ARCH_NAMES = [
  'SCMP_ARCH_NATIVE', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];

export const FLAG_NAMES = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

const TOP_KEYS = new Set([
  'defaultAction', 'defaultErrnoRet', 'defaultErrno', 'architectures', 'archMap', 'flags',
  'listenerPath', 'listenerMetadata', 'syscalls',
]);
const SYSCALL_KEYS = new Set(['name', 'names', 'action', 'errnoRet', 'errno', 'args', 'comment', 'includes', 'excludes']);
const ARG_KEYS = new Set(['index', 'value', 'valueTwo', 'op']);
const FILTER_KEYS = new Set(['caps', 'arches', 'minKernel']);

function fail(path: string, msg: string): never {
  throw new TypeError(`${path}: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: Set<string>, path: string): void {
  for (const k of Object.keys(obj)) if (!allowed.has(k)) fail(`${path}.${k}`, 'unknown field');
}

function checkAction(v: unknown, path: string): void {
  if (typeof v !== 'string' || !(ACTION_NAMES as readonly string[]).includes(v)) {
    fail(path, `unknown action ${JSON.stringify(v)} (expected one of ${ACTION_NAMES.join(', ')})`);
  }
}

function checkErrno(v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) fail(path, 'expected an integer from 0 to 65535');
}

function checkStrings(v: unknown, path: string, allowNull = false): v is string[] | undefined {
  if (v === undefined || (allowNull && v === null)) return true;
  if (!Array.isArray(v)) fail(path, 'expected an array of strings');
  v.forEach((s, i) => {
    if (typeof s !== 'string' || s === '') fail(`${path}[${i}]`, 'expected a non-empty string');
  });
  return true;
}

function checkArch(v: unknown, path: string): void {
  if (typeof v !== 'string' || !ARCH_NAMES.includes(v)) fail(path, `unknown architecture ${JSON.stringify(v)}`);
}

/** A uint64 as number (a safe integer) or bigint. */
export function checkU64(v: unknown, path: string, optional: boolean): void {
  if (v === undefined && optional) return;
  if (typeof v === 'bigint') {
    if (v < 0n || v > 0xffffffffffffffffn) fail(path, 'expected an unsigned 64-bit integer');
    return;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffffffffffff) {
    fail(path, 'expected an unsigned 64-bit integer');
  }
  if (!Number.isSafeInteger(v)) fail(path, 'integer above 2^53 loses precision: pass a bigint');
}

function checkFilter(v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) fail(path, 'expected an object');
  checkKeys(v, FILTER_KEYS, path);
  checkStrings(v.caps, `${path}.caps`, true);
  checkStrings(v.arches, `${path}.arches`, true);
  if (v.minKernel !== undefined && v.minKernel !== null && v.minKernel !== '') {
    if (typeof v.minKernel !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(v.minKernel)) {
      fail(`${path}.minKernel`, 'expected a kernel version like "4.8"');
    }
  }
}

export function validateSeccompOption(value: unknown, where = 'seccomp'): SeccompOption {
  if (value === 'default' || value === 'unconfined') return value;
  if (typeof value === 'string') fail(where, `expected "default", "unconfined" or a profile object, got ${JSON.stringify(value)}`);
  if (!isObject(value)) fail(where, 'expected "default", "unconfined" or a profile object');
  checkKeys(value, TOP_KEYS, where);
  checkAction(value.defaultAction, `${where}.defaultAction`);
  checkErrno(value.defaultErrnoRet, `${where}.defaultErrnoRet`);
  // Podman's legacy `defaultErrno` is a name ("ENOSYS"); defaultErrnoRet is what counts.
  if (value.defaultErrno !== undefined && typeof value.defaultErrno !== 'string') checkErrno(value.defaultErrno, `${where}.defaultErrno`);
  if (value.architectures !== undefined && value.architectures !== null) {
    if (!Array.isArray(value.architectures)) fail(`${where}.architectures`, 'expected an array of SCMP_ARCH_* names');
    value.architectures.forEach((a, i) => checkArch(a, `${where}.architectures[${i}]`));
  }
  if (value.archMap !== undefined && value.archMap !== null) {
    if (!Array.isArray(value.archMap)) fail(`${where}.archMap`, 'expected an array');
    value.archMap.forEach((m, i) => {
      const p = `${where}.archMap[${i}]`;
      if (!isObject(m)) fail(p, 'expected an object');
      checkKeys(m, new Set(['architecture', 'subArchitectures']), p);
      checkArch(m.architecture, `${p}.architecture`);
      if (m.subArchitectures !== undefined && m.subArchitectures !== null) {
        if (!Array.isArray(m.subArchitectures)) fail(`${p}.subArchitectures`, 'expected an array');
        m.subArchitectures.forEach((a, j) => checkArch(a, `${p}.subArchitectures[${j}]`));
      }
    });
  }
  if (value.flags !== undefined && value.flags !== null) {
    if (!Array.isArray(value.flags)) fail(`${where}.flags`, 'expected an array');
    value.flags.forEach((f, i) => {
      if (typeof f !== 'string' || !FLAG_NAMES.includes(f)) fail(`${where}.flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
    });
  }
  for (const k of ['listenerPath', 'listenerMetadata']) {
    if (value[k] !== undefined && typeof value[k] !== 'string') fail(`${where}.${k}`, 'expected a string');
  }
  if (value.syscalls !== undefined && value.syscalls !== null) {
    if (!Array.isArray(value.syscalls)) fail(`${where}.syscalls`, 'expected an array');
    value.syscalls.forEach((s, i) => {
      const p = `${where}.syscalls[${i}]`;
      if (!isObject(s)) fail(p, 'expected an object');
      checkKeys(s, SYSCALL_KEYS, p);
      checkStrings(s.names, `${p}.names`, true);
      if (s.name !== undefined && (typeof s.name !== 'string' || s.name === '')) fail(`${p}.name`, 'expected a non-empty string');
      if (s.name === undefined && (s.names === undefined || s.names === null || (s.names as unknown[]).length === 0)) {
        fail(`${p}.names`, 'expected at least one syscall name');
      }
      checkAction(s.action, `${p}.action`);
      checkErrno(s.errnoRet, `${p}.errnoRet`);
      if (s.comment !== undefined && typeof s.comment !== 'string') fail(`${p}.comment`, 'expected a string');
      checkFilter(s.includes, `${p}.includes`);
      checkFilter(s.excludes, `${p}.excludes`);
      if (s.args !== undefined && s.args !== null) {
        if (!Array.isArray(s.args)) fail(`${p}.args`, 'expected an array');
        if (s.args.length > 6) fail(`${p}.args`, 'at most 6 argument comparisons');
        s.args.forEach((a, j) => {
          const q = `${p}.args[${j}]`;
          if (!isObject(a)) fail(q, 'expected an object');
          checkKeys(a, ARG_KEYS, q);
          if (typeof a.index !== 'number' || !Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
            fail(`${q}.index`, 'expected an integer from 0 to 5');
          }
          checkU64(a.value, `${q}.value`, false);
          checkU64(a.valueTwo, `${q}.valueTwo`, true);
          if (typeof a.op !== 'string' || !(OPERATORS as readonly string[]).includes(a.op)) {
            fail(`${q}.op`, `unknown operator ${JSON.stringify(a.op)} (expected one of ${OPERATORS.join(', ')})`);
          }
        });
      }
    });
  }
  return value as unknown as SeccompOption;
}
