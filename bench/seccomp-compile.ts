/**
 * Seccomp numbers for the bench: how long the default profile takes to compile (first and
 * cached), and that profile in OCI form, so runc and crun can run with the same rules.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

interface SeccompModule {
  compileSeccomp(option: unknown, ctx: unknown): { program: Buffer } | null;
  resolveProfile(profile: unknown, ctx: unknown): { defaultAction: number; arches: string[]; rules: { names: string[]; action: number; args: { index: number; op: string; a: bigint; b: bigint }[] }[] };
  nativeSeccompArch(): string;
  DEFAULT_PROFILE: unknown;
}

const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export interface CompileTimes {
  firstMs: number;
  cachedMs: number;
  instructions: number;
  podmanFirstMs?: number;
}

function context(mod: SeccompModule): unknown {
  const [major, minor] = os.release().split('.').map((n) => parseInt(n, 10));
  return { arch: mod.nativeSeccompArch(), capabilities: DOCKER_CAPS, kernel: { major, minor } };
}

/** Must run before anything else in this process compiles the default profile. */
export function measureCompile(mod: SeccompModule): CompileTimes {
  const ctx = context(mod);
  let t0 = performance.now();
  const compiled = mod.compileSeccomp('default', ctx);
  const firstMs = performance.now() - t0;
  const samples: number[] = [];
  for (let i = 0; i < 100; i++) {
    t0 = performance.now();
    mod.compileSeccomp('default', ctx);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const result: CompileTimes = { firstMs, cachedMs: samples[50], instructions: (compiled?.program.length ?? 0) / 8 };
  const podman = '/usr/share/containers/seccomp.json';
  if (fs.existsSync(podman)) {
    const profile = JSON.parse(fs.readFileSync(podman, 'utf8')) as unknown;
    t0 = performance.now();
    mod.compileSeccomp(profile, ctx);
    result.podmanFirstMs = performance.now() - t0;
  }
  return result;
}

/** The default profile's program for Docker's default capabilities (cached by then). */
export function defaultProgram(mod: SeccompModule): Buffer {
  return (mod.compileSeccomp('default', context(mod)) as { program: Buffer }).program;
}

const ARCH_NAMES: Record<string, string> = {
  x86_64: 'SCMP_ARCH_X86_64', i386: 'SCMP_ARCH_X86', x32: 'SCMP_ARCH_X32', aarch64: 'SCMP_ARCH_AARCH64',
};

function actionName(value: number): { action: string; errnoRet?: number } {
  const kind = value & 0xffff0000;
  const data = value & 0xffff;
  if (value === 0x7fff0000) return { action: 'SCMP_ACT_ALLOW' };
  if (kind === 0x00050000) return { action: 'SCMP_ACT_ERRNO', errnoRet: data };
  if (value === 0x80000000) return { action: 'SCMP_ACT_KILL_PROCESS' };
  if (value === 0) return { action: 'SCMP_ACT_KILL_THREAD' };
  if (kind === 0x00030000) return { action: 'SCMP_ACT_TRAP' };
  if (kind === 0x7ff00000) return { action: 'SCMP_ACT_TRACE', errnoRet: data };
  if (value === 0x7ffc0000) return { action: 'SCMP_ACT_LOG' };
  return { action: 'SCMP_ACT_NOTIFY' };
}

/** The default profile, resolved for Docker's default capabilities, as an OCI linux.seccomp object. */
export function defaultProfileAsOci(mod: SeccompModule): Record<string, unknown> {
  const resolved = mod.resolveProfile(mod.DEFAULT_PROFILE, context(mod));
  const def = actionName(resolved.defaultAction);
  return {
    defaultAction: def.action,
    ...(def.errnoRet !== undefined ? { defaultErrnoRet: def.errnoRet } : {}),
    architectures: resolved.arches.map((a) => ARCH_NAMES[a]).filter(Boolean),
    syscalls: resolved.rules.map((rule) => ({
      names: rule.names,
      ...actionName(rule.action),
      args: rule.args.map((c) => ({ index: c.index, op: `SCMP_CMP_${c.op}`, value: Number(c.a), valueTwo: Number(c.b) })),
    })),
  };
}
