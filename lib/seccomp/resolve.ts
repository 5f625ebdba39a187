/**
 * Resolution of a profile (OCI or Docker/Podman format) for one context: the architectures to
 * filter, and the flat, ordered list of rules that apply (Docker's includes/excludes evaluated
 * against the container's capabilities, the native architecture and the running kernel).
 */
import type { CompileContext, DockerSeccompProfile, DockerSeccompFilter, OciLinuxSeccomp, SeccompArg } from './types';

export type Arch = 'x86_64' | 'i386' | 'x32' | 'aarch64';
export type Op = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

/** One argument comparison; for MASKED_EQ `a` is the mask and `b` the datum (libseccomp's datum_a/datum_b). */
export interface Cond {
  index: number;
  op: Op;
  a: bigint;
  b: bigint;
}

/** A rule: the kernel's return value (SECCOMP_RET_*) when all conditions hold. */
export interface Rule {
  names: string[];
  action: number;
  args: Cond[];
}

export interface ResolvedProfile {
  defaultAction: number;
  /** The native architecture first. */
  arches: Arch[];
  rules: Rule[];
}

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const EPERM = 1;

/** The kernel's return value for an action name; errno/trace data default to EPERM, as runc does. */
export function actionValue(name: string, errnoRet: number | undefined | null): number {
  const data = (errnoRet ?? EPERM) & 0xffff;
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | data) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | data) >>> 0;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      return SECCOMP_RET.USER_NOTIF;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    default:
      throw new TypeError(`unknown action ${JSON.stringify(name)}`);
  }
}

const ARCH_BY_SCMP: Record<string, Arch | 'arm' | undefined> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'i386',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
};

/** The compat architectures a native one can run. arm (on aarch64) has no syscall table here: see tables/. */
const COMPAT: Record<CompileContext['arch'], Arch[]> = { x86_64: ['i386', 'x32'], aarch64: [] };

/** Docker's names for the native architecture (Go's GOARCH), used by includes/excludes.arches. */
const GOARCH: Record<CompileContext['arch'], string> = { x86_64: 'amd64', aarch64: 'arm64' };

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
}

function kernelAtLeast(ctx: CompileContext, v: string): boolean {
  const [maj, min] = v.split('.').map(Number);
  return ctx.kernel.major > maj || (ctx.kernel.major === maj && ctx.kernel.minor >= (min ?? 0));
}

function big(v: number | bigint | undefined): bigint {
  return v === undefined ? 0n : BigInt(v);
}

function includesMatch(f: DockerSeccompFilter | undefined, ctx: CompileContext, caps: Set<string>): boolean {
  if (!f) return true;
  if (f.arches && f.arches.length > 0 && !f.arches.includes(GOARCH[ctx.arch])) return false;
  if (f.caps && f.caps.length > 0 && !f.caps.every((c) => caps.has(normCap(c)))) return false;
  if (f.minKernel && !kernelAtLeast(ctx, f.minKernel)) return false;
  return true;
}

function excludesMatch(f: DockerSeccompFilter | undefined, ctx: CompileContext, caps: Set<string>): boolean {
  if (!f) return false;
  if (f.arches && f.arches.includes(GOARCH[ctx.arch])) return true;
  if (f.caps && f.caps.some((c) => caps.has(normCap(c)))) return true;
  if (f.minKernel && kernelAtLeast(ctx, f.minKernel)) return true;
  return false;
}

function conds(args: SeccompArg[] | null | undefined): Cond[] {
  return (args ?? []).map((a) => ({ index: a.index, op: a.op.slice('SCMP_CMP_'.length) as Op, a: big(a.value), b: big(a.valueTwo) }));
}

/** Resolve a validated profile for a context. */
export function resolveProfile(p: OciLinuxSeccomp | DockerSeccompProfile, ctx: CompileContext): ResolvedProfile {
  const docker = p as DockerSeccompProfile & { defaultErrno?: number | string };
  const defaultAction = actionValue(p.defaultAction, p.defaultErrnoRet ?? (typeof docker.defaultErrno === 'number' ? docker.defaultErrno : undefined));
  const caps = new Set(ctx.capabilities.map(normCap));

  // Architectures: Docker's archMap picks the entry of the native arch; `architectures` lists them
  // all (runc adds each). The native arch is always filtered (libseccomp's seccomp_init does so);
  // archs that cannot run on this kernel are ignored.
  const native = ctx.arch;
  const wanted = new Set<string>();
  if (docker.archMap && docker.archMap.length > 0) {
    for (const m of docker.archMap) {
      if (ARCH_BY_SCMP[m.architecture] === native) {
        for (const s of m.subArchitectures ?? []) wanted.add(ARCH_BY_SCMP[s] ?? '');
      }
    }
  }
  for (const a of p.architectures ?? []) wanted.add(ARCH_BY_SCMP[a] ?? '');
  const arches: Arch[] = [native, ...COMPAT[native].filter((a) => wanted.has(a))];

  const rules: Rule[] = [];
  for (const s of (p.syscalls ?? []) as (DockerSeccompProfile['syscalls'] & object)) {
    if (!includesMatch(s.includes, ctx, caps) || excludesMatch(s.excludes, ctx, caps)) continue;
    const names = [...(s.names ?? []), ...(s.name ? [s.name] : [])];
    const action = actionValue(s.action, s.errnoRet);
    const args = conds(s.args);
    // runc: several comparisons on one argument are not ANDed in one libseccomp rule (the kernel
    // side would reject it); each comparison becomes a rule of its own (OR).
    const counts = new Map<number, number>();
    for (const c of args) counts.set(c.index, (counts.get(c.index) ?? 0) + 1);
    if ([...counts.values()].some((n) => n > 1)) {
      for (const c of args) rules.push({ names, action, args: [c] });
    } else {
      rules.push({ names, action, args });
    }
  }
  return { defaultAction, arches, rules };
}
