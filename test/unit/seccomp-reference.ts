// A reference model of what a compiled seccomp filter must decide, written
// straight from the rule semantics (no BPF), for tests to compare the
// compiler's programs against. It mirrors the documented choices in
// src/runtime/seccomp/compile.ts: each convention (x86_64, x32, i386,
// aarch64) is filtered against its own table, arm gets the default, an
// unlisted convention is killed; first matching rule wins, rules equal to
// the default are dropped, a repeated argument index splits a rule (runc);
// on i386 a socket/IPC rule also applies to socketcall/ipc with args[0] ==
// the call (replacing the rule's args[0] condition, as libseccomp does);
// above the highest number the profile names, a non-permissive default
// turns into ENOSYS for the listed conventions (runc's stub).

import type { LinuxSeccompInput } from '../../src/runtime/seccomp/types.js';
import { SYSCALLS_AARCH64 } from '../../src/runtime/seccomp/syscalls-aarch64.js';
import { SYSCALLS_I386 } from '../../src/runtime/seccomp/syscalls-i386.js';
import { SYSCALLS_X32 } from '../../src/runtime/seccomp/syscalls-x32.js';
import { SYSCALLS_X86_64 } from '../../src/runtime/seccomp/syscalls-x86_64.js';

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
export const X32_BIT = 0x40000000;

export const errno = (e: number): number => RET.ERRNO | e;
export const ENOSYS = errno(38);

// linux/net.h SYS_* and linux/ipc.h: the first argument of socketcall(2) and ipc(2).
const SOCKETCALL = ['socket', 'bind', 'connect', 'listen', 'accept', 'getsockname', 'getpeername', 'socketpair',
  'send', 'recv', 'sendto', 'recvfrom', 'shutdown', 'setsockopt', 'getsockopt', 'sendmsg', 'recvmsg', 'accept4',
  'recvmmsg', 'sendmmsg'];
const IPC: Record<string, number> = {
  semop: 1, semget: 2, semctl: 3, semtimedop: 4, msgsnd: 11, msgrcv: 12, msgget: 13, msgctl: 14,
  shmat: 21, shmdt: 22, shmget: 23, shmctl: 24,
};
/** On i386: which multiplexer (by its number) and which first argument reach `name`. */
function multiplexedAs(name: string): { nr: number; call: number } | null {
  const s = SOCKETCALL.indexOf(name);
  if (s >= 0) return { nr: 102, call: s + 1 };
  if (Object.hasOwn(IPC, name)) return { nr: 117, call: IPC[name] };
  return null;
}

export interface AbiModel {
  name: string;
  table: ReadonlyMap<string, number> | null;
  multiplexed?: boolean;
}
export interface PlatformModel {
  audit: number;
  native: AbiModel;
  x32?: AbiModel;
  companions: Record<number, AbiModel>;
}

export const X86_64: PlatformModel = {
  audit: ARCH.X86_64,
  native: { name: 'SCMP_ARCH_X86_64', table: SYSCALLS_X86_64 },
  x32: { name: 'SCMP_ARCH_X32', table: SYSCALLS_X32 },
  companions: { [ARCH.I386]: { name: 'SCMP_ARCH_X86', table: SYSCALLS_I386, multiplexed: true } },
};
export const AARCH64: PlatformModel = {
  audit: ARCH.AARCH64,
  native: { name: 'SCMP_ARCH_AARCH64', table: SYSCALLS_AARCH64 },
  companions: { [ARCH.ARM]: { name: 'SCMP_ARCH_ARM', table: null } },
};

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

export function expectedVerdict(spec: LinuxSeccompInput, call: Call, platform: PlatformModel = X86_64): number {
  const def = actionValue(spec.defaultAction, spec.defaultErrnoRet);
  const listed = new Set(spec.architectures ?? []);
  const nr = call.nr >>> 0;

  // Which convention, if any, the call belongs to.
  let abi: AbiModel;
  if (call.arch === platform.audit) {
    if (platform.x32 && (nr & X32_BIT) !== 0) {
      if (!listed.has(platform.x32.name)) return RET.KILL_PROCESS;
      abi = platform.x32;
    } else {
      abi = platform.native;
    }
  } else {
    const companion = platform.companions[call.arch] as AbiModel | undefined;
    if (!companion || !listed.has(companion.name)) return RET.KILL_PROCESS;
    abi = companion;
  }
  const table = abi.table;
  if (!table) return def;

  // runc's ENOSYS stub: above the highest number the profile names.
  const permissive = def === RET.ALLOW || def === RET.LOG || (def & 0xffff0000) >>> 0 === RET.TRACE;
  if (!permissive && listed.has(abi.name)) {
    let highest = 0;
    for (const rule of spec.syscalls ?? []) {
      for (const name of rule.names) {
        if (abi.multiplexed && multiplexedAs(name)) continue; // a pseudo-number in libseccomp
        highest = Math.max(highest, table.get(name) ?? 0);
      }
    }
    if (highest !== 0 && nr > highest) return ENOSYS;
  }

  const args = [...(call.args ?? []), 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6).map((a) => BigInt.asUintN(64, a));
  for (const rule of spec.syscalls ?? []) {
    const value = actionValue(rule.action, rule.errnoRet);
    if (value === def) continue;
    const conds = (rule.args ?? []).map((a) => ({ index: a.index, op: a.op, v: BigInt(a.value), v2: BigInt(a.valueTwo ?? 0) }));
    // runc: conditions on distinct indexes are one rule; a repeated index makes one rule per condition.
    const subRules = new Set(conds.map((c) => c.index)).size === conds.length ? [conds] : conds.map((c) => [c]);
    for (const name of rule.names) {
      const mux = abi.multiplexed ? multiplexedAs(name) : null;
      for (const sub of subRules) {
        const holds = (c: typeof conds[number]): boolean => compare(c.op, args[c.index], c.v, c.v2);
        if (table.get(name) === nr && sub.every(holds)) return value;
        if (mux && mux.nr === nr && args[0] === BigInt(mux.call) && sub.filter((c) => c.index !== 0).every(holds)) return value;
      }
    }
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
