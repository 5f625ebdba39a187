/** A small classic-BPF assembler: symbolic labels, forward jumps, `ja` trampolines for far targets. */

export const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

export type Label = number;

interface Insn {
  code: number;
  k: number;
  jt?: Label; // conditional targets; undefined = the next instruction
  jf?: Label;
  ja?: Label; // target of an unconditional jump
}

type Item = Insn | { label: Label };

export class Assembler {
  private items: Item[] = [];
  private nextLabel = 0;

  label(): Label {
    return this.nextLabel++;
  }

  place(l: Label): void {
    this.items.push({ label: l });
  }

  ld(offset: number): void {
    this.items.push({ code: BPF.LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.items.push({ code: BPF.ALU_AND_K, k: k >>> 0 });
  }

  jump(code: number, k: number, jt?: Label, jf?: Label): void {
    this.items.push({ code, k: k >>> 0, jt, jf });
  }

  ja(target: Label): void {
    this.items.push({ code: BPF.JA, k: 0, ja: target });
  }

  ret(k: number): void {
    this.items.push({ code: BPF.RET_K, k: k >>> 0 });
  }

  /**
   * Lay out the program. Conditional jumps reach at most 255 instructions ahead; a farther target
   * gets a `ja` trampoline right after the jump (repeated until every jump fits).
   */
  assemble(): Buffer {
    let items = this.items;
    for (;;) {
      const { insns, pos } = layout(items);
      let far = false;
      const out: Item[] = [];
      let i = 0;
      for (const it of items) {
        out.push(it);
        if ('label' in it) continue;
        const at = i++;
        if (it.ja !== undefined || (it.jt === undefined && it.jf === undefined)) continue;
        const farT = it.jt !== undefined && target(pos, it.jt) - (at + 1) > 255;
        const farF = it.jf !== undefined && target(pos, it.jf) - (at + 1) > 255;
        if (!farT && !farF) continue;
        far = true;
        // Rewrite: jcc → local trampolines "ja T" / "ja F" placed just after the jump.
        const copy: Insn = { ...it };
        out[out.length - 1] = copy;
        const skip = this.label();
        if (farT) {
          const t = this.label();
          const dest = it.jt as Label;
          copy.jt = t;
          if (!farF && it.jf === undefined) copy.jf = skip;
          out.push({ label: t }, { code: BPF.JA, k: 0, ja: dest });
        }
        if (farF) {
          const f = this.label();
          const dest = it.jf as Label;
          copy.jf = f;
          if (!farT && it.jt === undefined) copy.jt = skip;
          out.push({ label: f }, { code: BPF.JA, k: 0, ja: dest });
        }
        out.push({ label: skip });
      }
      items = out;
      if (!far) {
        void insns;
        return encode(items);
      }
    }
  }
}

function layout(items: Item[]): { insns: Insn[]; pos: Map<Label, number> } {
  const insns: Insn[] = [];
  const pos = new Map<Label, number>();
  for (const it of items) {
    if ('label' in it) pos.set(it.label, insns.length);
    else insns.push(it);
  }
  return { insns, pos };
}

function target(pos: Map<Label, number>, l: Label): number {
  const p = pos.get(l);
  if (p === undefined) throw new Error(`seccomp compiler: unplaced label ${l}`);
  return p;
}

function encode(items: Item[]): Buffer {
  const { insns, pos } = layout(items);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((it, i) => {
    let jt = 0;
    let jf = 0;
    let k = it.k;
    if (it.ja !== undefined) {
      k = target(pos, it.ja) - (i + 1);
    } else {
      if (it.jt !== undefined) jt = target(pos, it.jt) - (i + 1);
      if (it.jf !== undefined) jf = target(pos, it.jf) - (i + 1);
    }
    if (jt < 0 || jf < 0 || jt > 255 || jf > 255 || k < 0) throw new Error(`seccomp compiler: bad jump at ${i}`);
    buf.writeUInt16LE(it.code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}
