// Seccomp compiler: OCI `linux.seccomp` → a classic BPF program for
// seccomp(SECCOMP_SET_MODE_FILTER). The kernel runs the program on every
// system call of the filtered process, over `struct seccomp_data`
// { u32 nr; u32 arch; u64 instruction_pointer; u64 args[6]; }, and the 32-bit
// value it returns is the verdict: the action in the high 16 bits
// (SECCOMP_RET_ALLOW, _ERRNO, _KILL_PROCESS, …), its data (an errno) in the
// low 16. berth compiles here, in TypeScript, without libseccomp; the native
// helper only hands the bytes to the kernel (docs/plan-format.md, op 63).
//
// Shape of the program:
//
//   1. Architecture. seccomp_data.arch is the AUDIT_ARCH_* of the calling
//      convention, and syscall numbers mean different things per convention,
//      so it is checked first. The native arch (x86_64 or aarch64) is
//      filtered by the rules. The other conventions the native kernel can
//      run and that `architectures` lists (SCMP_ARCH_X86 and SCMP_ARCH_X32 on
//      x86_64, SCMP_ARCH_ARM on aarch64) get the DEFAULT ACTION for every
//      call: berth has no syscall tables for them. That is a deliberate
//      simplification, and it differs from libseccomp, which filters each
//      listed arch by its own numbers: with Docker's profile (default
//      SCMP_ACT_ERRNO) a 32-bit program cannot run at all; with a permissive
//      default (SCMP_ACT_ALLOW plus deny rules) a 32-bit or x32 program
//      BYPASSES the deny rules. Leave X86/X32/ARM out of `architectures` to
//      have them killed. Any arch not listed kills the process, as
//      libseccomp's "bad arch" action does.
//      On x86_64 an x32 call arrives with the native AUDIT_ARCH_X86_64 and bit
//      30 (__X32_SYSCALL_BIT) set in nr; such a number is treated as
//      SCMP_ARCH_X32 (default action if listed, else kill).
//   2. Syscall number. Numbers with rules and the gaps between them form
//      intervals of [0, 2^32); adjacent numbers with the same unconditional
//      verdict share one interval (Docker's allow list is mostly runs), and a
//      binary search of JGE instructions finds the interval. A leaf is one
//      RET, or, for a syscall with argument conditions, its rules in order.
//   3. Argument conditions compare 64-bit values as two 32-bit words (cBPF is
//      32-bit): the high word decides unless equal, then the low word.
//
// cBPF conditional jumps reach at most 255 instructions ahead and never
// back. The code is generated bottom-up with every size known, so each jump
// is checked; where the search tree must skip a left subtree longer than 255,
// it jumps to a JA (32-bit offset) placed just after it.
//
// Rule semantics, chosen to behave as runc (and therefore Docker) does:
// - a syscall name this table does not know is skipped (profiles list
//   syscalls of several arches and kernels);
// - a rule whose action equals the default action is dropped (runc skips it);
// - rules for one syscall are tried in profile order, the first whose
//   conditions all hold decides;
// - conditions on different argument indexes are ANDed; when a rule has two
//   conditions on the SAME index, runc adds each condition as a rule of its
//   own (so they are ORed), and so does berth;
// - errnoRet defaults to EPERM (OCI spec); defaultErrnoRet applies only to
//   the default action.

import { BugError, invalid, systemError } from '../../util/errors.js';
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';
import type { LinuxSeccompInput, SeccompArch } from './types.js';

/** Return values of a seccomp filter (linux/seccomp.h). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** seccomp(2) flags (linux/seccomp.h). */
export const SECCOMP_FILTER_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4 } as const;

/** seccomp_data.arch values (linux/audit.h). */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** x86_64: an x32 system call has this bit set in seccomp_data.nr. */
export const X32_SYSCALL_BIT = 0x40000000;
/** The kernel refuses longer filters (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

// Offsets in struct seccomp_data. Argument words are little-endian on both
// supported arches: the low 32 bits first.
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number): number => 16 + 8 * i;
const argHigh = (i: number): number => 16 + 8 * i + 4;

// The few cBPF opcodes the compiler emits (linux/bpf_common.h).
const LD_W_ABS = 0x20;   // A = u32 at seccomp_data[k]
const ALU_AND_K = 0x54;  // A &= k
const JA = 0x05;         // pc += k
const JEQ_K = 0x15;      // pc += (A == k) ? jt : jf
const JGT_K = 0x25;      // unsigned >
const JGE_K = 0x35;      // unsigned >=
const JSET_K = 0x45;     // (A & k) != 0
const RET_K = 0x06;      // return k

const EPERM = 1;
const MAX_ERRNO = 4095;  // the kernel clamps SECCOMP_RET_ERRNO data to this
const MAX_JUMP = 255;

/** One `struct sock_filter`; jt/jf count instructions after the next one. */
interface Insn { code: number; jt: number; jf: number; k: number }

export interface CompileOptions {
  /** Node's process.arch of the machine the filter is for: 'x64' or 'arm64'. */
  arch?: string;
}

export interface CompiledSeccomp {
  /** `struct sock_filter[]`, 8 bytes each, little-endian. */
  program: Buffer;
  /** seccomp(2) flags. */
  flags: number;
  /** One line for `berth runtime plan` and logs. */
  summary: string;
}

interface NativeArch {
  name: SeccompArch;
  audit: number;
  table: ReadonlyMap<string, number>;
  /** Bit 30 of nr selects the x32 ABI (x86_64 only). */
  x32: boolean;
  /** Arches the kernel can also run here, and their seccomp_data.arch. */
  companions: ReadonlyMap<string, number>;
}

const NATIVE: Readonly<Record<string, NativeArch>> = {
  x64: {
    name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X86_64, x32: true,
    companions: new Map([['SCMP_ARCH_X86', AUDIT_ARCH.I386]]),
  },
  arm64: {
    name: 'SCMP_ARCH_AARCH64', audit: AUDIT_ARCH.AARCH64, table: SYSCALLS_AARCH64, x32: false,
    companions: new Map([['SCMP_ARCH_ARM', AUDIT_ARCH.ARM]]),
  },
};
const ARCH_ALIASES: Readonly<Record<string, string>> = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64' };

const KNOWN_ARCHES: ReadonlySet<string> = new Set<SeccompArch>([
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
};

const OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
type Operator = typeof OPERATORS[number];

/** A 64-bit value as the two words cBPF can compare. */
interface U64 { hi: number; lo: number }
interface Condition { index: number; op: Operator; a: U64; b: U64 }
interface Rule { ret: number; conditions: Condition[] }

const FIELD = 'linux.seccomp';

/**
 * Compile an OCI seccomp spec to a cBPF program for the machine `opts.arch`
 * (default: this one). Throws a BerthError ('invalid') naming the field when
 * the spec is malformed or asks for something berth does not support.
 */
export function compileSeccomp(spec: LinuxSeccompInput, opts: CompileOptions = {}): CompiledSeccomp {
  const nodeArch = opts.arch ?? process.arch;
  const native = NATIVE[ARCH_ALIASES[nodeArch] ?? nodeArch];
  if (!native) {
    throw systemError('seccomp.arch', `seccomp: berth has no syscall table for architecture "${nodeArch}" (x64 and arm64 are supported)`);
  }
  if (typeof spec !== 'object' || spec === null) throw invalid('seccomp.invalid', `${FIELD}: must be an object`);

  const defaultRet = actionRet(spec.defaultAction, spec.defaultErrnoRet, `${FIELD}.defaultAction`, `${FIELD}.defaultErrnoRet`);
  const { companions, x32Listed, archNames } = checkArchitectures(spec.architectures, native);
  const flags = checkFlags(spec.flags);

  // Rules per syscall number, in profile order.
  const rulesByNr = new Map<number, Rule[]>();
  const syscalls = optionalArray(spec.syscalls, `${FIELD}.syscalls`);
  syscalls.forEach((entry, i) => {
    const at = `${FIELD}.syscalls[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid('seccomp.invalid', `${at}: must be an object`);
    const names = entry.names as unknown;
    if (!Array.isArray(names) || names.length === 0) throw invalid('seccomp.invalid', `${at}.names: must be a non-empty array of syscall names`);
    names.forEach((n: unknown, j) => {
      if (typeof n !== 'string' || n === '') throw invalid('seccomp.invalid', `${at}.names[${j}]: must be a syscall name, got ${JSON.stringify(n)}`);
    });
    const ret = actionRet(entry.action, entry.errnoRet, `${at}.action`, `${at}.errnoRet`);
    const conditions = optionalArray(entry.args, `${at}.args`).map((arg, j) => checkArg(arg, `${at}.args[${j}]`));
    if (ret === defaultRet) return;
    // Unknown names belong to another arch or a newer kernel: skipped.
    const nrs = new Set((names as string[]).map((n) => native.table.get(n)).filter((nr) => nr !== undefined));
    for (const rule of splitLikeRunc(ret, conditions)) {
      for (const nr of nrs) {
        let list = rulesByNr.get(nr);
        if (!list) rulesByNr.set(nr, list = []);
        list.push(rule);
      }
    }
  });

  const insns = [
    ...archDispatch(native, companions, x32Listed, defaultRet),
    ...nrDispatch(rulesByNr, defaultRet),
  ];
  if (insns.length > BPF_MAXINSNS) {
    throw invalid('seccomp.tooLarge', `${FIELD}: the filter needs ${insns.length} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
  }
  const summary = `default ${describeRet(defaultRet)}, rules for ${rulesByNr.size} syscalls, arches ${archNames.join('+')}`;
  return { program: encode(insns), flags, summary };
}

// ---------------------------------------------------------------- validation

function optionalArray<T>(value: readonly T[] | undefined | null, field: string): readonly T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('seccomp.invalid', `${field}: must be an array`);
  return value;
}

/** The filter return value for an action, with its errno (or trace data). */
function actionRet(action: unknown, errnoRet: unknown, field: string, errnoField: string): number {
  const hasErrno = errnoRet !== undefined && errnoRet !== null;
  const data = (max: number): number => {
    if (!hasErrno) return EPERM;
    if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > max) {
      throw invalid('seccomp.invalid', `${errnoField}: must be an integer from 0 to ${max}, got ${JSON.stringify(errnoRet)}`);
    }
    return errnoRet;
  };
  const plain = (ret: number): number => {
    if (hasErrno) throw invalid('seccomp.invalid', `${errnoField}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not ${String(action)}`);
    return ret;
  };
  switch (action) {
    case 'SCMP_ACT_ERRNO': return (SECCOMP_RET.ERRNO | data(MAX_ERRNO)) >>> 0;
    case 'SCMP_ACT_TRACE': return (SECCOMP_RET.TRACE | data(SECCOMP_RET_DATA)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return plain(SECCOMP_RET.KILL_THREAD);
    case 'SCMP_ACT_KILL_PROCESS': return plain(SECCOMP_RET.KILL_PROCESS);
    case 'SCMP_ACT_TRAP': return plain(SECCOMP_RET.TRAP);
    case 'SCMP_ACT_ALLOW': return plain(SECCOMP_RET.ALLOW);
    case 'SCMP_ACT_LOG': return plain(SECCOMP_RET.LOG);
    case 'SCMP_ACT_NOTIFY':
      throw invalid('seccomp.unsupported', `${field}: SCMP_ACT_NOTIFY (user-space notification) is not supported by berth`);
    case undefined:
    case null:
      throw invalid('seccomp.invalid', `${field}: missing (an SCMP_ACT_* action is required)`);
    default:
      throw invalid('seccomp.invalid', `${field}: unknown action ${JSON.stringify(action)}`);
  }
}

function checkArchitectures(value: readonly string[] | undefined, native: NativeArch):
  { companions: Map<string, number>; x32Listed: boolean; archNames: string[] } {
  const field = `${FIELD}.architectures`;
  const companions = new Map<string, number>();
  let x32Listed = false;
  optionalArray(value, field).forEach((arch, i) => {
    if (typeof arch !== 'string' || !KNOWN_ARCHES.has(arch)) {
      throw invalid('seccomp.invalid', `${field}[${i}]: unknown architecture ${JSON.stringify(arch)}`);
    }
    const audit = native.companions.get(arch);
    if (audit !== undefined) companions.set(arch, audit);
    if (native.x32 && arch === 'SCMP_ARCH_X32') x32Listed = true;
    // Other arches (the native one, or one this kernel cannot run) need no check.
  });
  const archNames = [native.name, ...companions.keys(), ...(x32Listed ? ['SCMP_ARCH_X32'] : [])]
    .map((a) => a.replace('SCMP_ARCH_', '').toLowerCase());
  return { companions, x32Listed, archNames };
}

function checkFlags(value: readonly string[] | undefined): number {
  const field = `${FIELD}.flags`;
  let flags = 0;
  optionalArray(value, field).forEach((flag, i) => {
    if (flag === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV') {
      throw invalid('seccomp.unsupported', `${field}[${i}]: ${flag} only applies to SCMP_ACT_NOTIFY, which berth does not support`);
    }
    const bit = typeof flag === 'string' ? FLAGS[flag] : undefined;
    if (bit === undefined) throw invalid('seccomp.invalid', `${field}[${i}]: unknown flag ${JSON.stringify(flag)}`);
    flags |= bit;
  });
  return flags;
}

function checkArg(arg: unknown, field: string): Condition {
  if (typeof arg !== 'object' || arg === null) throw invalid('seccomp.invalid', `${field}: must be an object`);
  const { index, value, valueTwo, op } = arg as Record<string, unknown>;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw invalid('seccomp.invalid', `${field}.index: must be an argument index from 0 to 5, got ${JSON.stringify(index)}`);
  }
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    throw invalid('seccomp.invalid', `${field}.op: unknown operator ${JSON.stringify(op)}`);
  }
  return {
    index,
    op: op as Operator,
    a: toU64(value, `${field}.value`),
    b: valueTwo === undefined || valueTwo === null ? { hi: 0, lo: 0 } : toU64(valueTwo, `${field}.valueTwo`),
  };
}

function toU64(value: unknown, field: string): U64 {
  let big: bigint;
  if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    // JSON.parse already rounded anything above 2^53: refuse rather than
    // compare against a value the author did not write.
    if (!Number.isSafeInteger(value)) {
      throw invalid('seccomp.invalid', `${field}: ${value} is above 2^53 and not exact as a JSON number`);
    }
    big = BigInt(value);
  } else {
    throw invalid('seccomp.invalid', `${field}: must be an unsigned 64-bit integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  if (big < 0n || big > 0xffffffffffffffffn) {
    throw invalid('seccomp.invalid', `${field}: must be an unsigned 64-bit integer, got ${big}`);
  }
  return { hi: Number(big >> 32n), lo: Number(big & 0xffffffffn) };
}

/** runc's rule: conditions on distinct indexes form one rule; a repeated index makes one rule per condition. */
function splitLikeRunc(ret: number, conditions: Condition[]): Rule[] {
  const indexes = new Set(conditions.map((c) => c.index));
  if (indexes.size === conditions.length) return [{ ret, conditions }];
  return conditions.map((c) => ({ ret, conditions: [c] }));
}

// ------------------------------------------------------------------ codegen

const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const ret = (k: number): Insn => stmt(RET_K, k);

function jump(code: number, k: number, jt: number, jf: number): Insn {
  if (jt < 0 || jt > MAX_JUMP || jf < 0 || jf > MAX_JUMP) throw new BugError(`seccomp: jump out of range (${jt}, ${jf})`);
  return { code, jt, jf, k: k >>> 0 };
}

/**
 *   ld arch
 *   jeq NATIVE → native          (jumps over the lines below)
 *   jeq COMPANION → ret default  (per listed companion arch)
 *   ret KILL_PROCESS
 * native:
 *   ld nr
 *   jset X32_BIT → ret (default if X32 listed, else KILL_PROCESS)
 */
function archDispatch(native: NativeArch, companions: Map<string, number>, x32Listed: boolean, defaultRet: number): Insn[] {
  const others: Insn[] = [];
  for (const audit of companions.values()) others.push(jump(JEQ_K, audit, 0, 1), ret(defaultRet));
  others.push(ret(SECCOMP_RET.KILL_PROCESS));
  const code = [stmt(LD_W_ABS, OFF_ARCH), jump(JEQ_K, native.audit, others.length, 0), ...others, stmt(LD_W_ABS, OFF_NR)];
  if (native.x32) code.push(jump(JSET_K, X32_SYSCALL_BIT, 0, 1), ret(x32Listed ? defaultRet : SECCOMP_RET.KILL_PROCESS));
  return code;
}

type Verdict = { ret: number } | { block: Insn[] };
interface Interval { start: number; verdict: Verdict }

/** Binary search over the syscall number (in A) down to one verdict per interval. */
function nrDispatch(rulesByNr: Map<number, Rule[]>, defaultRet: number): Insn[] {
  const intervals: Interval[] = [];
  const push = (start: number, verdict: Verdict): void => {
    const last = intervals[intervals.length - 1];
    if (last && 'ret' in last.verdict && 'ret' in verdict && last.verdict.ret === verdict.ret) return;
    intervals.push({ start, verdict });
  };
  let next = 0;
  for (const nr of [...rulesByNr.keys()].sort((x, y) => x - y)) {
    if (nr > next) push(next, { ret: defaultRet });
    push(nr, syscallVerdict(rulesByNr.get(nr) ?? [], defaultRet));
    next = nr + 1;
  }
  push(next, { ret: defaultRet });
  return searchTree(intervals, 0, intervals.length);
}

function searchTree(intervals: Interval[], from: number, to: number): Insn[] {
  if (to - from === 1) {
    const { verdict } = intervals[from];
    return 'ret' in verdict ? [ret(verdict.ret)] : verdict.block;
  }
  const mid = (from + to) >> 1;
  const left = searchTree(intervals, from, mid);   // nr < start of mid
  const right = searchTree(intervals, mid, to);
  const k = intervals[mid].start;
  // Every subtree ends in RET, so left never falls through into right.
  if (left.length <= MAX_JUMP) return [jump(JGE_K, k, left.length, 0), ...left, ...right];
  return [jump(JGE_K, k, 0, 1), stmt(JA, left.length), ...left, ...right];
}

/** The code for one syscall number: a RET when its first rule is unconditional. */
function syscallVerdict(rules: Rule[], defaultRet: number): Verdict {
  if (rules[0].conditions.length === 0) return { ret: rules[0].ret };
  const block: Insn[] = [];
  let fallback = defaultRet;
  for (const rule of rules) {
    if (rule.conditions.length === 0) { fallback = rule.ret; break; } // later rules are unreachable
    block.push(...ruleCode(rule));
  }
  block.push(ret(fallback));
  return { block };
}

// Symbolic jump targets inside one rule, resolved by ruleCode.
const PASS = -1;  // the next condition (or the rule's RET)
const FAIL = -2;  // the instruction after the rule's RET: the next rule
interface SymInsn { code: number; k: number; jt: number; jf: number }

/** Conditions in sequence, then RET; any failing condition skips the RET. */
function ruleCode(rule: Rule): Insn[] {
  const pieces = rule.conditions.map(conditionCode);
  const length = pieces.reduce((n, p) => n + p.length, 0) + 1;
  const out: Insn[] = [];
  for (const piece of pieces) {
    const passAt = out.length + piece.length;
    for (const s of piece) {
      const pc = out.length;
      const target = (t: number): number => (t === PASS ? passAt : t === FAIL ? length : pc + 1 + t) - (pc + 1);
      out.push(s.code === JEQ_K || s.code === JGT_K || s.code === JGE_K
        ? jump(s.code, s.k, target(s.jt), target(s.jf))
        : stmt(s.code, s.k));
    }
  }
  out.push(ret(rule.ret));
  return out;
}

/**
 * One 64-bit unsigned comparison of args[index] with `a` (for MASKED_EQ: the
 * mask is `a`, the expected value `b`). jt/jf 0 means the next instruction.
 */
function conditionCode(c: Condition): SymInsn[] {
  const ld = (off: number): SymInsn => ({ code: LD_W_ABS, k: off, jt: 0, jf: 0 });
  const j = (code: number, k: number, jt: number, jf: number): SymInsn => ({ code, k, jt, jf });
  const hi = argHigh(c.index);
  const lo = argLow(c.index);
  const { a } = c;
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return [ld(hi), j(JEQ_K, a.hi, 0, FAIL), ld(lo), j(JEQ_K, a.lo, PASS, FAIL)];
    case 'SCMP_CMP_NE':
      return [ld(hi), j(JEQ_K, a.hi, 0, PASS), ld(lo), j(JEQ_K, a.lo, FAIL, PASS)];
    case 'SCMP_CMP_GT':   // hi > a.hi, or hi == a.hi and lo > a.lo
      return [ld(hi), j(JGT_K, a.hi, PASS, 0), j(JEQ_K, a.hi, 0, FAIL), ld(lo), j(JGT_K, a.lo, PASS, FAIL)];
    case 'SCMP_CMP_GE':
      return [ld(hi), j(JGT_K, a.hi, PASS, 0), j(JEQ_K, a.hi, 0, FAIL), ld(lo), j(JGE_K, a.lo, PASS, FAIL)];
    case 'SCMP_CMP_LT':   // hi < a.hi, or hi == a.hi and lo < a.lo
      return [ld(hi), j(JGE_K, a.hi, 0, PASS), j(JEQ_K, a.hi, 0, FAIL), ld(lo), j(JGE_K, a.lo, FAIL, PASS)];
    case 'SCMP_CMP_LE':
      return [ld(hi), j(JGE_K, a.hi, 0, PASS), j(JEQ_K, a.hi, 0, FAIL), ld(lo), j(JGT_K, a.lo, FAIL, PASS)];
    case 'SCMP_CMP_MASKED_EQ': {
      const { b } = c;
      const low = [ld(lo), { code: ALU_AND_K, k: a.lo, jt: 0, jf: 0 }, j(JEQ_K, b.lo, PASS, FAIL)];
      // A zero mask and expected high word always match: Docker's clone rule.
      if (a.hi === 0 && b.hi === 0) return low;
      return [ld(hi), { code: ALU_AND_K, k: a.hi, jt: 0, jf: 0 }, j(JEQ_K, b.hi, 0, FAIL), ...low];
    }
  }
}

function encode(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

/** A filter return value in libseccomp's words: `SCMP_ACT_ERRNO(38)`. */
export function describeRet(value: number): string {
  const action = (value & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = value & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET.KILL_PROCESS: return 'SCMP_ACT_KILL_PROCESS';
    case SECCOMP_RET.KILL_THREAD: return 'SCMP_ACT_KILL_THREAD';
    case SECCOMP_RET.TRAP: return 'SCMP_ACT_TRAP';
    case SECCOMP_RET.ERRNO: return `SCMP_ACT_ERRNO(${data})`;
    case SECCOMP_RET.USER_NOTIF: return 'SCMP_ACT_NOTIFY';
    case SECCOMP_RET.TRACE: return `SCMP_ACT_TRACE(${data})`;
    case SECCOMP_RET.LOG: return 'SCMP_ACT_LOG';
    case SECCOMP_RET.ALLOW: return 'SCMP_ACT_ALLOW';
    default: return `0x${value.toString(16)}`;
  }
}
