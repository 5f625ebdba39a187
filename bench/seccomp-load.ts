/**
 * The kernel's cost of a seccomp program: seccomp(SECCOMP_SET_MODE_FILTER) time (the classic
 * BPF check, the conversion to eBPF, the JIT and the per-arch cache of always-allowed syscalls
 * all grow with the program) and the time of one syscall the filter has to evaluate. Measured by
 * bench/seccomp-load.c (built here with the host's cc) in fresh children, programs interleaved.
 *
 *   npx tsx bench/seccomp-load.ts [--rounds N] [FILE.bpf ...]
 * measures the default profile as lib/seccomp compiles it now, and any program files given
 * (struct sock_filter[], e.g. another build's output), side by side.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LoadTime {
  label: string;
  instructions: number;
  /** Median ns of seccomp(SECCOMP_SET_MODE_FILTER). */
  loadNs: number;
  /** Median ns of one syscall the filter evaluates (number 1000: none, the default action). */
  deniedCallNs: number;
}

/** One `ret ALLOW`: the kernel's fixed cost of installing any filter, for comparison. */
export const ALLOW_ALL: Buffer = (() => {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(0x06, 0);
  b.writeUInt32LE(0x7fff0000, 4);
  return b;
})();

/** A syscall number no table has: every program gives it the default action by running the search. */
const DENIED_NR = 1000;

export function measureLoad(programs: { label: string; program: Buffer }[], rounds = 200): LoadTime[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seccomp-load-'));
  try {
    const exe = path.join(dir, 'seccomp-load');
    execFileSync('cc', ['-O2', '-o', exe, path.join(__dirname, 'seccomp-load.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const files = programs.map((p, i) => {
      const f = path.join(dir, `${i}.bpf`);
      fs.writeFileSync(f, p.program);
      return f;
    });
    const out = execFileSync(exe, [String(rounds), String(DENIED_NR), ...files], { encoding: 'utf8' });
    const byFile = new Map(out.trim().split('\n').map((l) => {
      const [f, load, call] = l.split(' ');
      return [f, { loadNs: Number(load), deniedCallNs: Number(call) }] as const;
    }));
    return programs.map((p, i) => ({ label: p.label, instructions: p.program.length / 8, ...(byFile.get(files[i]) as { loadNs: number; deniedCallNs: number }) }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatLoad(times: LoadTime[]): string {
  return times.map((t) => `Seccomp load: ${t.label}: ${t.instructions} instructions, seccomp(2) ${(t.loadNs / 1e6).toFixed(3)} ms, ` +
    `a filtered syscall ${t.deniedCallNs} ns (medians)`).join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let rounds = 200;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else files.push(argv[i]);
  }
  const { compileSeccomp, nativeSeccompArch } = await import('../lib/seccomp');
  const [major, minor] = os.release().split('.').map((n) => parseInt(n, 10));
  const ctx = { arch: nativeSeccompArch(), capabilities: [] as string[], kernel: { major, minor } };
  const programs = [{ label: 'default profile (this tree)', program: (compileSeccomp('default', ctx) as { program: Buffer }).program }];
  const podman = '/usr/share/containers/seccomp.json';
  if (fs.existsSync(podman)) {
    const compiled = compileSeccomp(JSON.parse(fs.readFileSync(podman, 'utf8')) as never, ctx) as { program: Buffer };
    programs.push({ label: "Podman's profile (this tree)", program: compiled.program });
  }
  for (const f of files) programs.push({ label: f, program: fs.readFileSync(f) });
  programs.push({ label: 'ret ALLOW alone', program: ALLOW_ALL });
  console.log(formatLoad(measureLoad(programs, rounds)));
}

if (require.main === module) void main();
