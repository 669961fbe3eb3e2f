// A small classic-BPF machine for seccomp filters, so tests can ask "what
// would the kernel decide for this call?" without loading a filter. It runs
// over `struct seccomp_data` { u32 nr; u32 arch; u64 instruction_pointer;
// u64 args[6]; } (64 bytes, little-endian) with the two 32-bit registers A
// and X and 16 words of scratch memory, as net/core/filter.c does, and
// accepts only the instructions seccomp_check_filter() in kernel/seccomp.c
// accepts. checkFilter() repeats the kernel's load-time checks: a program the
// kernel would refuse with EINVAL fails here too.
//
// It decodes raw bytes and shares no code with compile.ts, so a test that
// runs a compiled program here checks the compiler, not itself.

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: readonly (number | bigint)[];
}

const SECCOMP_DATA_SIZE = 64;
const BPF_MAXINSNS = 4096;
const BPF_MEMWORDS = 16;

// linux/bpf_common.h
const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07 } as const;
const MODE = { IMM: 0x00, ABS: 0x20, MEM: 0x60, LEN: 0x80 } as const;
const SIZE_W = 0x00;
const SRC_X = 0x08;
const ALU = { ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, XOR: 0xa0 } as const;
const JMP = { JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40 } as const;
const RET_A = 0x10;
const MISC_TXA = 0x80;

interface Insn { code: number; jt: number; jf: number; k: number }

function decode(program: Buffer): Insn[] {
  if (program.length % 8 !== 0) throw new Error(`filter length ${program.length} is not a multiple of 8`);
  const insns: Insn[] = [];
  for (let off = 0; off < program.length; off += 8) {
    insns.push({
      code: program.readUInt16LE(off),
      jt: program.readUInt8(off + 2),
      jf: program.readUInt8(off + 3),
      k: program.readUInt32LE(off + 4),
    });
  }
  return insns;
}

/** The kernel's checks at seccomp(SECCOMP_SET_MODE_FILTER) time. Throws on what it would refuse. */
export function checkFilter(program: Buffer): void {
  const insns = decode(program);
  const len = insns.length;
  if (len === 0 || len > BPF_MAXINSNS) throw new Error(`filter has ${len} instructions (1..${BPF_MAXINSNS} allowed)`);
  insns.forEach((insn, pc) => {
    const where = `instruction ${pc} (code 0x${insn.code.toString(16)})`;
    const cls = insn.code & 0x07;
    switch (cls) {
      case CLASS.LD:
      case CLASS.LDX: {
        const mode = insn.code & 0xe0;
        if ((insn.code & 0x18) !== SIZE_W) throw new Error(`${where}: only 32-bit loads are allowed`);
        if (mode === MODE.ABS) {
          if (cls !== CLASS.LD) throw new Error(`${where}: LDX ABS is not allowed`);
          if (insn.k >= SECCOMP_DATA_SIZE || insn.k % 4 !== 0) throw new Error(`${where}: load outside seccomp_data or unaligned (k=${insn.k})`);
        } else if (mode === MODE.MEM) {
          if (insn.k >= BPF_MEMWORDS) throw new Error(`${where}: scratch memory index ${insn.k}`);
        } else if (mode !== MODE.IMM && mode !== MODE.LEN) {
          throw new Error(`${where}: load mode not allowed in seccomp`);
        }
        break;
      }
      case CLASS.ST:
      case CLASS.STX:
        if (insn.k >= BPF_MEMWORDS) throw new Error(`${where}: scratch memory index ${insn.k}`);
        break;
      case CLASS.ALU: {
        const op = insn.code & 0xf0;
        if (!(Object.values(ALU) as number[]).includes(op)) throw new Error(`${where}: ALU op not allowed in seccomp`);
        if ((insn.code & SRC_X) === 0 && op === ALU.DIV && insn.k === 0) throw new Error(`${where}: division by zero`);
        if ((insn.code & SRC_X) === 0 && (op === ALU.LSH || op === ALU.RSH) && insn.k >= 32) throw new Error(`${where}: shift by ${insn.k}`);
        break;
      }
      case CLASS.JMP: {
        const op = insn.code & 0xf0;
        if (op === JMP.JA) {
          if (pc + 1 + insn.k >= len) throw new Error(`${where}: JA beyond the end`);
        } else if (op === JMP.JEQ || op === JMP.JGT || op === JMP.JGE || op === JMP.JSET) {
          if (pc + 1 + insn.jt >= len || pc + 1 + insn.jf >= len) throw new Error(`${where}: jump beyond the end`);
        } else {
          throw new Error(`${where}: jump op not allowed`);
        }
        break;
      }
      case CLASS.RET:
        if (insn.code !== CLASS.RET && insn.code !== (CLASS.RET | RET_A)) throw new Error(`${where}: RET may return k or A only`);
        break;
      case CLASS.MISC:
        if (insn.code !== CLASS.MISC && insn.code !== (CLASS.MISC | MISC_TXA)) throw new Error(`${where}: only TAX and TXA are allowed`);
        break;
    }
  });
  if ((insns[len - 1].code & 0x07) !== CLASS.RET) throw new Error('the last instruction is not a RET');
}

function encodeData(data: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA_SIZE);
  buf.writeUInt32LE(data.nr >>> 0, 0);
  buf.writeUInt32LE(data.arch >>> 0, 4);
  buf.writeBigUInt64LE(BigInt.asUintN(64, data.instructionPointer ?? 0n), 8);
  (data.args ?? []).forEach((arg, i) => {
    if (i >= 6) throw new Error('seccomp_data has 6 arguments');
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(arg)), 16 + 8 * i);
  });
  return buf;
}

/** Run a filter (after checkFilter) and return its 32-bit verdict. */
export function runFilter(program: Buffer, data: SeccompData): number {
  checkFilter(program);
  const insns = decode(program);
  const input = encodeData(data);
  const mem = new Uint32Array(BPF_MEMWORDS);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc];
    switch (code & 0x07) {
      case CLASS.LD:
      case CLASS.LDX: {
        const mode = code & 0xe0;
        const v = mode === MODE.ABS ? input.readUInt32LE(k)
          : mode === MODE.MEM ? mem[k]
          : mode === MODE.LEN ? SECCOMP_DATA_SIZE
          : k;
        if ((code & 0x07) === CLASS.LD) a = v; else x = v;
        break;
      }
      case CLASS.ST: mem[k] = a; break;
      case CLASS.STX: mem[k] = x; break;
      case CLASS.ALU: {
        const operand = code & SRC_X ? x : k;
        switch (code & 0xf0) {
          case ALU.ADD: a = (a + operand) >>> 0; break;
          case ALU.SUB: a = (a - operand) >>> 0; break;
          case ALU.MUL: a = Math.imul(a, operand) >>> 0; break;
          case ALU.DIV: if (operand === 0) return 0; a = Math.floor(a / operand) >>> 0; break; // the kernel returns 0 (kill)
          case ALU.OR: a = (a | operand) >>> 0; break;
          case ALU.AND: a = (a & operand) >>> 0; break;
          case ALU.LSH: a = operand >= 32 ? 0 : (a << operand) >>> 0; break;
          case ALU.RSH: a = operand >= 32 ? 0 : a >>> operand; break;
          case ALU.NEG: a = (-a) >>> 0; break;
          case ALU.XOR: a = (a ^ operand) >>> 0; break;
        }
        break;
      }
      case CLASS.JMP: {
        const operand = code & SRC_X ? x : k;
        const op = code & 0xf0;
        if (op === JMP.JA) { pc += k; break; }
        const taken = op === JMP.JEQ ? a === operand
          : op === JMP.JGT ? a > operand
          : op === JMP.JGE ? a >= operand
          : (a & operand) !== 0;
        pc += taken ? jt : jf;
        break;
      }
      case CLASS.RET:
        return (code & 0x18) === RET_A ? a : k;
      case CLASS.MISC:
        if (code & MISC_TXA) a = x; else x = a;
        break;
    }
  }
  throw new Error('filter ran off its end'); // unreachable after checkFilter
}
