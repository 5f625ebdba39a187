/**
 * A classic BPF interpreter for seccomp programs, over struct seccomp_data
 * { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; } laid out little-endian.
 */

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: bigint[];
}

export function seccompDataBuffer(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(BigInt.asUintN(64, d.ip ?? 0n), 8);
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, d.args?.[i] ?? 0n), 16 + 8 * i);
  return b;
}

/** Runs a program (struct sock_filter[]) and returns the filter's 32-bit return value. */
export function runBpf(program: Buffer, data: SeccompData | Buffer): number {
  const mem = Buffer.isBuffer(data) ? data : seccompDataBuffer(data);
  const n = program.length / 8;
  if (!Number.isInteger(n) || n === 0 || n > 4096) throw new Error(`bad program length ${program.length}`);
  let A = 0;
  let X = 0;
  const M = new Uint32Array(16);
  let pc = 0;
  for (let steps = 0; steps <= n; steps++) {
    if (pc >= n) throw new Error('fell off the end of the program');
    const o = pc * 8;
    const code = program.readUInt16LE(o);
    const jt = program.readUInt8(o + 2);
    const jf = program.readUInt8(o + 3);
    const k = program.readUInt32LE(o + 4);
    pc++;
    const cls = code & 0x07;
    switch (cls) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        const size = code & 0x18;
        let v: number;
        if (mode === 0x20 && size === 0x00) {
          if (k % 4 !== 0 || k + 4 > 64) throw new Error(`bad load offset ${k}`);
          v = mem.readUInt32LE(k);
        } else if (mode === 0x00) v = k; // IMM
        else if (mode === 0x60) v = M[k]; // MEM
        else if (mode === 0x80) v = 64; // LEN
        else throw new Error(`unsupported load 0x${code.toString(16)}`);
        if (cls === 0x00) A = v >>> 0;
        else X = v >>> 0;
        break;
      }
      case 0x02:
        M[k] = A;
        break;
      case 0x03:
        M[k] = X;
        break;
      case 0x04: {
        // ALU
        const src = code & 0x08 ? X : k;
        switch (code & 0xf0) {
          case 0x00: A = (A + src) >>> 0; break;
          case 0x10: A = (A - src) >>> 0; break;
          case 0x20: A = Math.imul(A, src) >>> 0; break;
          case 0x30: if (src === 0) return 0; A = Math.floor(A / src) >>> 0; break;
          case 0x40: A = (A | src) >>> 0; break;
          case 0x50: A = (A & src) >>> 0; break;
          case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case 0x70: A = src >= 32 ? 0 : A >>> src; break;
          case 0x80: A = -A >>> 0; break;
          case 0x90: if (src === 0) return 0; A = (A % src) >>> 0; break;
          case 0xa0: A = (A ^ src) >>> 0; break;
          default: throw new Error(`unsupported alu 0x${code.toString(16)}`);
        }
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const src = code & 0x08 ? X : k;
        let cond: boolean;
        if (op === 0x10) cond = A === src;
        else if (op === 0x20) cond = A > src;
        else if (op === 0x30) cond = A >= src;
        else if (op === 0x40) cond = (A & src) !== 0;
        else throw new Error(`unsupported jump 0x${code.toString(16)}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06: // RET
        return (code & 0x18) === 0x10 ? A : k >>> 0;
      case 0x07: // MISC
        if ((code & 0xf8) === 0x00) X = A;
        else A = X;
        break;
    }
  }
  throw new Error('program did not terminate');
}
