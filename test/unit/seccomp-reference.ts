// A reference model of what a compiled seccomp filter must decide, written
// straight from the rule semantics (no BPF), for tests to compare the
// compiler's programs against. It mirrors the documented choices in
// src/runtime/seccomp/compile.ts: first matching rule wins, rules equal to
// the default are dropped, a repeated argument index splits a rule (runc),
// companion arches and x32 get the default action, unlisted arches are killed.

import type { LinuxSeccompInput } from '../../src/runtime/seccomp/types.js';

export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const ARCH = { X86_64: 0xc000003e, I386: 0x40000003, AARCH64: 0xc00000b7, ARM: 0x40000028 } as const;

export const errno = (e: number): number => RET.ERRNO | e;

function actionValue(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ERRNO': return (RET.ERRNO | (errnoRet ?? 1)) >>> 0;
    case 'SCMP_ACT_TRACE': return (RET.TRACE | (errnoRet ?? 1)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return RET.TRAP;
    case 'SCMP_ACT_ALLOW': return RET.ALLOW;
    case 'SCMP_ACT_LOG': return RET.LOG;
    default: throw new Error(`reference: action ${action}`);
  }
}

export function compare(op: string, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_NE': return arg !== value;
    case 'SCMP_CMP_LT': return arg < value;
    case 'SCMP_CMP_LE': return arg <= value;
    case 'SCMP_CMP_EQ': return arg === value;
    case 'SCMP_CMP_GE': return arg >= value;
    case 'SCMP_CMP_GT': return arg > value;
    case 'SCMP_CMP_MASKED_EQ': return (arg & value) === valueTwo;
    default: throw new Error(`reference: op ${op}`);
  }
}

export interface Call { nr: number; arch: number; args?: readonly bigint[] }

export function expectedVerdict(spec: LinuxSeccompInput, table: ReadonlyMap<string, number>, call: Call,
  native: { audit: number; companions: Record<string, number>; x32: boolean } =
  { audit: ARCH.X86_64, companions: { SCMP_ARCH_X86: ARCH.I386 }, x32: true }): number {
  const def = actionValue(spec.defaultAction, spec.defaultErrnoRet);
  const listed = new Set(spec.architectures ?? []);
  if (call.arch !== native.audit) {
    const companion = Object.entries(native.companions).find(([, audit]) => audit === call.arch);
    return companion && listed.has(companion[0]) ? def : RET.KILL_PROCESS;
  }
  if (native.x32 && (call.nr & 0x40000000) !== 0) return listed.has('SCMP_ARCH_X32') ? def : RET.KILL_PROCESS;
  const args = [...(call.args ?? []), 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6).map((a) => BigInt.asUintN(64, a));
  for (const rule of spec.syscalls ?? []) {
    if (!rule.names.some((n) => table.get(n) === call.nr)) continue;
    const value = actionValue(rule.action, rule.errnoRet);
    if (value === def) continue;
    const conds = (rule.args ?? []).map((a) => ({ index: a.index, op: a.op, v: BigInt(a.value), v2: BigInt(a.valueTwo ?? 0) }));
    const repeated = new Set(conds.map((c) => c.index)).size !== conds.length;
    const holds = (c: typeof conds[number]): boolean => compare(c.op, args[c.index], c.v, c.v2);
    const match = repeated ? conds.some(holds) : conds.every(holds);
    if (match) return value;
  }
  return def;
}

/** A small deterministic PRNG (mulberry32), so a failing random case can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
