/**
 * The seccomp compiler: a resolved profile to a classic BPF program over struct seccomp_data
 * { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; } (little-endian).
 *
 * Layout:
 *   1. ld arch; one jeq per filtered architecture; any other arch → the "bad arch" action,
 *      SECCOMP_RET_KILL_THREAD, which is libseccomp's default (SCMP_ACT_KILL).
 *   2. per architecture group: ld nr; then a binary search (jge) over the number line [0, 2^32)
 *      cut into maximal intervals of one verdict, never a linear scan. An interval is a run of
 *      numbers with the same unconditional action (an allowed run, the default action for numbers
 *      without rules), or one syscall with conditional rules (its rule block); a single number
 *      between two intervals of the same action is a `jeq` point of one merged interval instead
 *      (at most a few per interval, so every search path stays short). Returns are shared per
 *      action within a chunk of the search (rule blocks end in them too), identical rule blocks
 *      are emitted once.
 *      The x32 bit: on x86_64 without x32, nr >= __X32_SYSCALL_BIT is the bad arch too, except
 *      nr == -1 (what a tracer uses to skip a syscall) which gets the default action — as
 *      libseccomp does; both are just intervals of the number line. With both x86_64 and x32 one
 *      search covers both (x32 numbers carry the bit). Docker's default profile compiles to
 *      under 300 instructions this way (over 1600 with one jeq per syscall).
 *   3. per syscall: the rules, each a conjunction of 64-bit argument comparisons split into the
 *      high and low 32-bit words (32-bit arches i386/x32 compare only the low word, as libseccomp).
 *
 * Semantics when several rules name the same syscall, chosen to agree with libseccomp (2.5):
 *   - a rule whose action equals the default action is dropped (libseccomp refuses it with
 *     -EACCES, and runc/crun skip it);
 *   - a rule without conditions wins over every conditional rule of that syscall, whichever comes
 *     first; of several such rules the first one wins (libseccomp keeps the first unconditional
 *     entry and clears the argument trees when an unconditional rule arrives);
 *   - MASKED_EQ with a zero mask (on the words the arch compares) is no condition at all;
 *   - otherwise conditional rules are tried in the kernel's action precedence (KILL_PROCESS,
 *     KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW; ties in profile order): where the
 *     rules' conditions overlap with different actions the most restrictive action wins.
 *     libseccomp's result in that case depends on its argument-tree layout (and it fails with
 *     -EEXIST for identical conditions); rules with the same action, or disjoint conditions,
 *     give the same verdict in both — the differential test checks exactly those classes.
 *   - on i386 a rule on a socket or SysV IPC call also applies to socketcall(2)/ipc(2) with
 *     argument 0 equal to the call's number (its own argument 0 comparison replaced), as
 *     libseccomp's multiplexer handling does.
 */
import { Assembler, BPF, type Label } from './bpf';
import type { Arch, Cond, ResolvedProfile } from './resolve';
import { SECCOMP_RET } from './resolve';
import x86_64 from './tables/x86_64';
import i386 from './tables/i386';
import x32 from './tables/x32';
import aarch64 from './tables/aarch64';

export const TABLES: Record<Arch, Readonly<Record<string, number>>> = { x86_64, i386, x32, aarch64 };

export const AUDIT_ARCH: Record<Arch, number> = {
  x86_64: 0xc000003e,
  i386: 0x40000003,
  x32: 0xc000003e,
  aarch64: 0xc00000b7,
};

const IS_64: Record<Arch, boolean> = { x86_64: true, aarch64: true, i386: false, x32: false };

export const X32_SYSCALL_BIT = 0x40000000;
export const BAD_ARCH_ACTION = SECCOMP_RET.KILL_THREAD;

/** i386 socketcall(2) call numbers (linux/net.h SYS_*). */
export const SOCKETCALL: Readonly<Record<string, number>> = {
  socket: 1, bind: 2, connect: 3, listen: 4, accept: 5, getsockname: 6, getpeername: 7, socketpair: 8,
  send: 9, recv: 10, sendto: 11, recvfrom: 12, shutdown: 13, setsockopt: 14, getsockopt: 15,
  sendmsg: 16, recvmsg: 17, accept4: 18, recvmmsg: 19, sendmmsg: 20,
};
/** i386 ipc(2) call numbers (linux/ipc.h). */
export const IPC: Readonly<Record<string, number>> = {
  semop: 1, semget: 2, semctl: 3, semtimedop: 4, msgsnd: 11, msgrcv: 12, msgget: 13, msgctl: 14,
  shmat: 21, shmdt: 22, shmget: 23, shmctl: 24,
};

const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 20 + 8 * i;

const M32 = 0xffffffffn;

interface NCond {
  index: number;
  op: Cond['op'];
  datum: bigint; // masked for MASKED_EQ, truncated to 32 bits on 32-bit arches
  mask: bigint;
}

interface ArchRule {
  action: number;
  conds: NCond[];
}

function normalize(c: Cond, is64: boolean): NCond | null {
  const width = is64 ? 0xffffffffffffffffn : M32;
  if (c.op === 'MASKED_EQ') {
    const mask = c.a & width;
    if (mask === 0n) return null; // tautology (libseccomp skips it)
    return { index: c.index, op: c.op, mask, datum: c.b & mask };
  }
  return { index: c.index, op: c.op, mask: width, datum: c.a & width };
}

/** Rules per syscall number for one arch, in profile order. */
export function rulesForArch(p: ResolvedProfile, arch: Arch): Map<number, ArchRule[]> {
  const table = TABLES[arch];
  const is64 = IS_64[arch];
  const out = new Map<number, ArchRule[]>();
  const add = (nr: number, action: number, conds: (NCond | null)[]) => {
    const list = out.get(nr) ?? [];
    list.push({ action, conds: conds.filter((c): c is NCond => c !== null) });
    out.set(nr, list);
  };
  for (const rule of p.rules) {
    if (rule.action === p.defaultAction) continue;
    const conds = rule.args.map((c) => normalize(c, is64));
    for (const name of rule.names) {
      if (arch === 'i386' && (name in SOCKETCALL || name in IPC)) {
        const mux = name in SOCKETCALL ? table.socketcall : table.ipc;
        const call = name in SOCKETCALL ? SOCKETCALL[name] : IPC[name];
        const muxConds = rule.args.filter((c) => c.index !== 0).map((c) => normalize(c, is64));
        add(mux, rule.action, [{ index: 0, op: 'EQ', mask: M32, datum: BigInt(call) }, ...muxConds]);
      }
      const nr = table[name];
      if (nr === undefined) continue; // not on this arch: skipped, as libseccomp does
      add(nr, rule.action, conds);
    }
  }
  return out;
}

/** Kernel precedence: the lower the action (as a signed 32-bit value, data masked off), the stronger. */
function precedence(action: number): number {
  return (action & 0xffff0000) | 0;
}

interface Decision {
  /** i386 and x32 compare only the low 32-bit words (libseccomp's ARCH_SIZE_32). */
  is64: boolean;
  unconditional?: number;
  rules: ArchRule[];
}

function decide(rules: ArchRule[], is64: boolean): Decision {
  const uncond = rules.find((r) => r.conds.length === 0);
  if (uncond) return { is64, unconditional: uncond.action, rules: [] };
  const sorted = rules.map((r, i) => ({ r, i })).sort((x, y) => precedence(x.r.action) - precedence(y.r.action) || x.i - y.i);
  return { is64, rules: sorted.map((x) => x.r) };
}

/** One comparison: on success the program goes to `pass`, otherwise to `fail`. */
function emitCond(asm: Assembler, c: NCond, is64: boolean, fail: Label, pass: Label): void {
  const dh = Number(c.datum >> 32n);
  const dl = Number(c.datum & M32);
  const lo = argLo(c.index);
  const hi = argHi(c.index);
  if (c.op === 'MASKED_EQ') {
    // normalize() dropped zero masks, so at least one word is compared.
    const words: [number, number, number][] = [];
    const mh = Number(c.mask >> 32n);
    const ml = Number(c.mask & M32);
    if (is64 && mh !== 0) words.push([hi, mh, dh]);
    if (ml !== 0) words.push([lo, ml, dl]);
    words.forEach(([offset, mask, datum], i) => {
      asm.ld(offset);
      if (mask !== 0xffffffff) asm.and(mask);
      asm.jump(BPF.JEQ_K, datum, i === words.length - 1 ? pass : undefined, fail);
    });
    return;
  }
  if (is64) {
    asm.ld(hi);
    switch (c.op) {
      case 'EQ':
        asm.jump(BPF.JEQ_K, dh, undefined, fail);
        break;
      case 'NE':
        asm.jump(BPF.JEQ_K, dh, undefined, pass);
        break;
      case 'GT':
      case 'GE':
        asm.jump(BPF.JGT_K, dh, pass, undefined);
        asm.jump(BPF.JEQ_K, dh, undefined, fail);
        break;
      case 'LT':
      case 'LE':
        asm.jump(BPF.JGT_K, dh, fail, undefined);
        asm.jump(BPF.JEQ_K, dh, undefined, pass);
        break;
    }
  }
  asm.ld(lo);
  switch (c.op) {
    case 'EQ':
      asm.jump(BPF.JEQ_K, dl, pass, fail);
      break;
    case 'NE':
      asm.jump(BPF.JEQ_K, dl, fail, pass);
      break;
    case 'GT':
      asm.jump(BPF.JGT_K, dl, pass, fail);
      break;
    case 'GE':
      asm.jump(BPF.JGE_K, dl, pass, fail);
      break;
    case 'LT':
      asm.jump(BPF.JGE_K, dl, fail, pass);
      break;
    case 'LE':
      asm.jump(BPF.JGT_K, dl, fail, pass);
      break;
  }
}

/**
 * A syscall's rule block: each rule's conditions, then the next rule, the default action after
 * the last. A rule's last comparison jumps straight to the shared return of its action (`ret`).
 */
function emitSyscall(asm: Assembler, d: Decision, defaultAction: number, ret: (action: number) => Label): void {
  d.rules.forEach((r, i) => {
    // decide() leaves only rules with conditions in a block.
    const next = i === d.rules.length - 1 ? ret(defaultAction) : asm.label();
    r.conds.forEach((c, j) => {
      const pass = j === r.conds.length - 1 ? ret(r.action) : asm.label();
      emitCond(asm, c, d.is64, next, pass);
      if (j < r.conds.length - 1) asm.place(pass);
    });
    if (i < d.rules.length - 1) asm.place(next);
  });
}

/** What a syscall number (range) leads to: a return, or the rule block of one syscall. */
type Verdict = { ret: number } | { block: Decision };

/**
 * [start, next interval's start) all get `verdict`, except single numbers in `points` (the
 * first interval starts at 0).
 */
interface Interval {
  start: number;
  verdict: Verdict;
  points: { nr: number; verdict: Verdict }[];
}

const NR_END = 0x1_0000_0000; // one past the largest u32 syscall number

/** Most single numbers one interval carries as `jeq` exceptions (each adds one to a search path). */
const MAX_POINTS = 3;

const sameRet = (a: Verdict, b: Verdict) => 'ret' in a && 'ret' in b && a.ret === b.ret;

/**
 * The number line [0, 2^32) of one architecture group as maximal intervals of one verdict:
 * syscalls with an unconditional verdict, numbers without rules (the default action), the
 * ranges that are the bad arch (the x32 bit, see the top of this file), and each syscall with
 * conditional rules as an interval of its own. Adjacent intervals that return the same action
 * are merged. Then a single number between two intervals of the same action (Docker's list
 * denies one syscall amid allowed ones, or gives one a rule block) becomes a point of one merged
 * interval: one `jeq` in place of the two `jge` that would bound it.
 */
function partition(blocks: Map<number, Decision>, badArch: [number, number][], def: number): Interval[] {
  const cuts = new Set<number>([0]);
  for (const [lo, hi] of badArch) [lo, hi + 1].forEach((x) => cuts.add(x));
  for (const nr of blocks.keys()) [nr, nr + 1].forEach((x) => cuts.add(x));
  const starts = [...cuts].filter((x) => x < NR_END).sort((a, b) => a - b);
  const runs: Interval[] = [];
  for (const start of starts) {
    // The verdict is constant on [start, next cut): every change of it is a cut.
    let verdict: Verdict;
    const d = blocks.get(start);
    if (badArch.some(([lo, hi]) => start >= lo && start <= hi)) verdict = { ret: BAD_ARCH_ACTION };
    else if (d === undefined) verdict = { ret: def };
    else if (d.unconditional !== undefined) verdict = { ret: d.unconditional };
    else verdict = { block: d };
    const last = runs[runs.length - 1];
    if (last && sameRet(last.verdict, verdict)) continue;
    runs.push({ start, verdict, points: [] });
  }
  const out: Interval[] = [];
  for (let i = 0; i < runs.length; i++) {
    const last = out[out.length - 1];
    const cur = runs[i];
    const next = runs[i + 1];
    const single = next !== undefined && next.start === cur.start + 1;
    if (last && single && sameRet(last.verdict, next.verdict) && last.points.length < MAX_POINTS) {
      last.points.push({ nr: cur.start, verdict: cur.verdict });
      i++; // `next` continues `last`
      continue;
    }
    out.push(cur);
  }
  return out;
}

/**
 * A search over this many intervals at most keeps its jumps within reach (255) of the shared
 * returns after it (past its rule blocks); a farther one would get an assembler trampoline.
 */
const CHUNK = 128;

/**
 * Binary search over the interval starts (`jge`), the accumulator holding the syscall number,
 * down to an interval: its points (`jeq` each), then its verdict. Leaves are not instructions:
 * a jump goes straight to a `ret` shared by all leaves of a chunk with that action, or to a rule
 * block (one per distinct block in the chunk). The shared returns and blocks follow each
 * chunk's search so that the jumps stay short.
 */
function emitSearch(asm: Assembler, ivs: Interval[], def: number): void {
  if (ivs.length > CHUNK) {
    const mid = ivs.length >> 1;
    const right = asm.label();
    asm.jump(BPF.JGE_K, ivs[mid].start, right, undefined);
    emitSearch(asm, ivs.slice(0, mid), def);
    asm.place(right);
    emitSearch(asm, ivs.slice(mid), def);
    return;
  }
  const rets = new Map<number, Label>();
  const blocks = new Map<string, { label: Label; d: Decision }>();
  const leaf = (v: Verdict): Label => {
    if ('ret' in v) {
      let l = rets.get(v.ret);
      if (l === undefined) rets.set(v.ret, (l = asm.label()));
      return l;
    }
    const key = blockKey(v.block);
    let b = blocks.get(key);
    if (!b) blocks.set(key, (b = { label: asm.label(), d: v.block }));
    return b.label;
  };
  /** Where a jump to intervals [lo, hi) goes: a leaf, or a label `range` then places. */
  const entry = (lo: number, hi: number): Label => (hi - lo === 1 && ivs[lo].points.length === 0 ? leaf(ivs[lo].verdict) : asm.label());
  const range = (lo: number, hi: number, here: Label | undefined): void => {
    if (here !== undefined) {
      if (hi - lo === 1 && ivs[lo].points.length === 0) return; // a leaf, nothing to place
      asm.place(here);
    }
    if (hi - lo === 1) {
      const { verdict, points } = ivs[lo];
      if (points.length === 0) {
        // The whole group is one interval.
        if ('ret' in verdict) asm.ret(verdict.ret);
        else asm.ja(leaf(verdict));
      }
      points.forEach((pt, i) => asm.jump(BPF.JEQ_K, pt.nr, leaf(pt.verdict), i === points.length - 1 ? leaf(verdict) : undefined));
      return;
    }
    const mid = (lo + hi) >> 1;
    const left = entry(lo, mid);
    const right = entry(mid, hi);
    asm.jump(BPF.JGE_K, ivs[mid].start, right, left);
    range(lo, mid, left);
    range(mid, hi, right);
  };
  range(0, ivs.length, undefined);
  // Blocks before the returns: BPF jumps only forward, and blocks end in those returns too.
  const ret = (action: number) => leaf({ ret: action });
  for (const { label, d } of blocks.values()) {
    asm.place(label);
    emitSyscall(asm, d, def, ret);
  }
  for (const [action, l] of rets) {
    asm.place(l);
    asm.ret(action);
  }
}

/** Two syscalls with equal blocks (same word width, same rules in the same order) share one. */
function blockKey(d: Decision): string {
  return JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

export function compileResolved(p: ResolvedProfile): { program: Buffer; notifies: boolean } {
  const asm = new Assembler();
  const def = p.defaultAction;
  let notifies = def === SECCOMP_RET.USER_NOTIF;

  // Architecture groups: x86_64 and x32 share AUDIT_ARCH_X86_64 and one block.
  const groups: Arch[][] = [];
  for (const a of p.arches) {
    if (a === 'x32' && p.arches.includes('x86_64')) continue;
    groups.push(a === 'x86_64' && p.arches.includes('x32') ? ['x86_64', 'x32'] : [a]);
  }
  const labels = groups.map(() => asm.label());
  asm.ld(OFF_ARCH);
  groups.forEach((g, i) => asm.jump(BPF.JEQ_K, AUDIT_ARCH[g[0]], labels[i], undefined));
  asm.ret(BAD_ARCH_ACTION);

  groups.forEach((g, i) => {
    asm.place(labels[i]);
    const blocks = new Map<number, Decision>();
    for (const arch of g) {
      for (const [nr, rules] of rulesForArch(p, arch)) {
        if (rules.some((r) => r.action === SECCOMP_RET.USER_NOTIF)) notifies = true;
        blocks.set(nr, decide(rules, IS_64[arch]));
      }
    }
    // The x32 bit (see the top of this file) as bad-arch ranges of the number line.
    const badArch: [number, number][] = [];
    if (g.length === 1 && g[0] === 'x86_64') badArch.push([X32_SYSCALL_BIT, 0xfffffffe]); // nr == -1 is not
    if (g.length === 1 && g[0] === 'x32') badArch.push([0, X32_SYSCALL_BIT - 1]);
    asm.ld(OFF_NR);
    emitSearch(asm, partition(blocks, badArch, def), def);
  });
  return { program: asm.assemble(), notifies };
}
