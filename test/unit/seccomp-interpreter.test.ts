// The test-only cBPF interpreter, on hand-assembled programs: if it were
// wrong, the compiler tests that rely on it would prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFilter, runFilter } from '../../src/runtime/seccomp/bpf-interpreter.js';

type Insn = [code: number, jt: number, jf: number, k: number];
function asm(...insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}

const LD_ABS = 0x20, LD_IMM = 0x00, LDX_IMM = 0x01, LD_MEM = 0x60, ST = 0x02;
const ADD_K = 0x04, AND_K = 0x54, RSH_K = 0x74, ADD_X = 0x0c;
const JA = 0x05, JEQ = 0x15, JGT = 0x25, JGE = 0x35, JSET = 0x45, JEQ_X = 0x1d;
const RET_K = 0x06, RET_A = 0x16, TAX = 0x07, TXA = 0x87;

test('loads seccomp_data fields little-endian and follows jumps', () => {
  // if (nr == 39) return ALLOW; else if (args[1].hi >= 7) return ERRNO|7; else return arch
  const program = asm(
    [LD_ABS, 0, 0, 0],
    [JEQ, 0, 1, 39],
    [RET_K, 0, 0, 0x7fff0000],
    [LD_ABS, 0, 0, 28],  // args[1] high word
    [JGE, 0, 1, 7],
    [RET_K, 0, 0, 0x00050007],
    [LD_ABS, 0, 0, 4],
    [RET_A, 0, 0, 0],
  );
  assert.equal(runFilter(program, { nr: 39, arch: 1 }), 0x7fff0000);
  assert.equal(runFilter(program, { nr: 1, arch: 1, args: [0, 7n << 32n] }), 0x00050007);
  assert.equal(runFilter(program, { nr: 1, arch: 0xc000003e, args: [0, 6n << 32n] }), 0xc000003e);
  assert.equal(runFilter(program, { nr: 1, arch: 2, args: [0, 0xffffffffn] }), 2); // low word only
});

test('JGT, JSET, JA, ALU, X register and scratch memory', () => {
  const program = asm(
    [LD_ABS, 0, 0, 16],     // A = args[0] low
    [JSET, 0, 2, 0x80],     // bit 7 set?
    [RSH_K, 0, 0, 4],
    [RET_A, 0, 0, 0],       // (args0 >> 4)
    [ST, 0, 0, 3],          // mem[3] = A
    [LDX_IMM, 0, 0, 100],
    [LD_MEM, 0, 0, 3],
    [ADD_X, 0, 0, 0],       // A += 100
    [AND_K, 0, 0, 0x3f],
    [ADD_K, 0, 0, 1],
    [JGT, 1, 0, 50],
    [JA, 0, 0, 1],
    [RET_A, 0, 0, 0],       // > 50: A
    [TAX, 0, 0, 0],
    [LD_IMM, 0, 0, 0],
    [TXA, 0, 0, 0],
    [JEQ_X, 0, 1, 0],       // A == X
    [RET_K, 0, 0, 1234],
    [RET_K, 0, 0, 0],
  );
  checkFilter(program);
  assert.equal(runFilter(program, { nr: 0, arch: 0, args: [0x85] }), 0x8);   // bit 7: 0x85 >> 4
  assert.equal(runFilter(program, { nr: 0, arch: 0, args: [14] }), 51);      // ((14 + 100) & 0x3f) + 1 = 51 > 50
  assert.equal(runFilter(program, { nr: 0, arch: 0, args: [5] }), 1234);     // 42: JA, TAX, TXA, A == X
});

test('checkFilter refuses what the kernel refuses', () => {
  const bad: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /0 instructions/],
    ['no final RET', asm([LD_ABS, 0, 0, 0]), /not a RET/],
    ['jump past the end', asm([JEQ, 1, 0, 0], [RET_K, 0, 0, 0]), /beyond the end/],
    ['JA past the end', asm([JA, 0, 0, 1], [RET_K, 0, 0, 0]), /JA beyond/],
    ['unaligned load', asm([LD_ABS, 0, 0, 2], [RET_K, 0, 0, 0]), /unaligned/],
    ['load past seccomp_data', asm([LD_ABS, 0, 0, 64], [RET_K, 0, 0, 0]), /outside seccomp_data/],
    ['byte load', asm([0x30, 0, 0, 0], [RET_K, 0, 0, 0]), /32-bit/],
    ['scratch index', asm([ST, 0, 0, 16], [RET_K, 0, 0, 0]), /scratch memory/],
    ['division by zero', asm([0x34, 0, 0, 0], [RET_K, 0, 0, 0]), /division by zero/],
    ['too long', asm(...Array.from({ length: 4097 }, (): Insn => [RET_K, 0, 0, 0])), /4097 instructions/],
  ];
  for (const [what, program, message] of bad) {
    assert.throws(() => checkFilter(program), message, what);
  }
  checkFilter(asm(...Array.from({ length: 4096 }, (): Insn => [RET_K, 0, 0, 0])));
});
