import { compileSeccomp, validateSeccompOption, nativeSeccompArch, type OciLinuxSeccomp } from '../../lib/seccomp';
import { runBpf } from '../support/bpf-interpreter';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const ctx = { arch: 'x86_64' as const, capabilities: [] as string[], kernel: { major: 6, minor: 1 } };
const ALLOW = 0x7fff0000;
const EPERM = 0x50001;

function verdict(p: OciLinuxSeccomp, nr: number, args: bigint[] = [], arch = X86_64): number {
  return runBpf(compileSeccomp(p, ctx)!.program, { nr, arch, args });
}

describe('seccomp compiler', () => {
  test('each action', () => {
    const acts: [string, number, number?][] = [
      ['SCMP_ACT_ALLOW', ALLOW], ['SCMP_ACT_ERRNO', 0x50000 | 13, 13], ['SCMP_ACT_KILL_PROCESS', 0x80000000],
      ['SCMP_ACT_KILL_THREAD', 0], ['SCMP_ACT_KILL', 0], ['SCMP_ACT_TRAP', 0x30000], ['SCMP_ACT_TRACE', 0x7ff00000 | 7, 7],
      ['SCMP_ACT_LOG', 0x7ffc0000], ['SCMP_ACT_NOTIFY', 0x7fc00000],
    ];
    for (const [action, ret, errnoRet] of acts) {
      const p = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action, errnoRet }] } as OciLinuxSeccomp;
      expect(verdict(p, 39).toString(16)).toBe(ret.toString(16));
      expect(verdict(p, 0)).toBe(action === 'SCMP_ACT_ERRNO' && errnoRet === undefined ? EPERM : EPERM);
      expect(compileSeccomp(p, ctx)!.notifies).toBe(action === 'SCMP_ACT_NOTIFY');
    }
  });

  test('each operator on 64-bit values, both words', () => {
    const v = 0x1_0000_0005n;
    const cases: [string, (x: bigint) => boolean][] = [
      ['SCMP_CMP_EQ', (x) => x === v], ['SCMP_CMP_NE', (x) => x !== v], ['SCMP_CMP_LT', (x) => x < v],
      ['SCMP_CMP_LE', (x) => x <= v], ['SCMP_CMP_GT', (x) => x > v], ['SCMP_CMP_GE', (x) => x >= v],
    ];
    const probes = [0n, 4n, 5n, 6n, v - 1n, v, v + 1n, 0x2_0000_0000n, 0x0_ffff_ffffn, 0xffff_ffff_ffff_ffffn, 0x2_0000_0005n];
    for (const [op, f] of cases) {
      const p = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: v, op }] }] } as OciLinuxSeccomp;
      for (const x of probes) expect([op, x, verdict(p, 0, [0n, 0n, x])]).toEqual([op, x, f(x) ? ALLOW : EPERM]);
    }
    const m = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 5, value: 0xf0000000_0000000fn, valueTwo: 0x10000000_00000003n, op: 'SCMP_CMP_MASKED_EQ' }] }] } as OciLinuxSeccomp;
    expect(verdict(m, 0, [0n, 0n, 0n, 0n, 0n, 0x1fff0000_ffff0003n])).toBe(ALLOW);
    expect(verdict(m, 0, [0n, 0n, 0n, 0n, 0n, 0x2fff0000_ffff0003n])).toBe(EPERM);
    expect(verdict(m, 0, [0n, 0n, 0n, 0n, 0n, 0x1fff0000_ffff0002n])).toBe(EPERM);
  });

  test('compat arches, x32 bit, bad arch', () => {
    const p = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] } as OciLinuxSeccomp;
    expect(verdict(p, 39)).toBe(ALLOW);
    expect(verdict(p, 20, [], I386)).toBe(ALLOW); // i386 getpid
    expect(verdict(p, 39, [], I386)).toBe(EPERM);
    expect(verdict(p, 0x40000000 + 39)).toBe(0); // x32 not listed: bad arch → KILL_THREAD
    expect(verdict(p, -1)).toBe(EPERM); // the tracer's skip
    expect(verdict(p, 172, [], AARCH64)).toBe(0);
    const q = { ...p, architectures: ['SCMP_ARCH_X32'] } as OciLinuxSeccomp;
    expect(verdict(q, 0x40000000 + 39)).toBe(ALLOW);
    expect(verdict(q, 39)).toBe(ALLOW);
    expect(verdict(q, 20, [], I386)).toBe(0);
  });

  test('default profile: Docker semantics', () => {
    const d = (caps: string[], nr: number, args: bigint[] = []) =>
      runBpf(compileSeccomp('default', { ...ctx, capabilities: caps })!.program, { nr, arch: X86_64, args });
    expect(d([], 435)).toBe(0x50000 | 38); // clone3 → ENOSYS
    expect(d(['CAP_SYS_ADMIN'], 435)).toBe(ALLOW);
    expect(d([], 56, [0x10000000n])).toBe(EPERM); // clone(CLONE_NEWUSER)
    expect(d([], 56, [0x11n])).toBe(ALLOW);
    expect(d([], 272)).toBe(EPERM); // unshare
    expect(d([], 165)).toBe(EPERM); // mount
    expect(d([], 321)).toBe(EPERM); // bpf
    expect(d([], 304)).toBe(EPERM); // open_by_handle_at
    expect(d(['CAP_DAC_READ_SEARCH'], 304)).toBe(ALLOW);
    expect(d([], 59)).toBe(ALLOW); // execve
  });

  test('cache returns the same Buffer', () => {
    const a = compileSeccomp('default', ctx)!;
    expect(compileSeccomp('default', { ...ctx, capabilities: [] })).toBe(a);
    expect(compileSeccomp('unconfined', ctx)).toBeNull();
    expect(['x86_64', 'aarch64']).toContain(nativeSeccompArch());
  });

  test('validation names the field', () => {
    expect(() => validateSeccompOption({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [0, 1, 2].map(() => ({ names: ['x'], action: 'SCMP_ACT_ALLOW' })).concat([{ names: ['x'], action: 'SCMP_ACT_FOO' }]) })).toThrow(
      'seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"',
    );
    expect(() => validateSeccompOption({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] })).toThrow('seccomp.syscalls[0].args[0].index');
    expect(() => validateSeccompOption({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z'] }, 'opts.seccomp')).toThrow('opts.seccomp.architectures[0]');
    expect(() => validateSeccompOption('strict')).toThrow(TypeError);
    expect(validateSeccompOption('default')).toBe('default');
  });
});
