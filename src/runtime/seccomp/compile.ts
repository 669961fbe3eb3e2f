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
//      so it is checked first, and each convention is filtered by the rules
//      against its own table, as libseccomp does:
//
//        SCMP_ARCH_X86_64   native on x86_64: AUDIT_ARCH_X86_64, syscalls-x86_64.ts
//        SCMP_ARCH_X32      AUDIT_ARCH_X86_64 with bit 30 (__X32_SYSCALL_BIT)
//                           set in nr: syscalls-x32.ts, whose numbers include it
//        SCMP_ARCH_X86      32-bit x86 on x86_64: AUDIT_ARCH_I386, syscalls-i386.ts
//        SCMP_ARCH_AARCH64  native on aarch64: AUDIT_ARCH_AARCH64, syscalls-aarch64.ts
//        SCMP_ARCH_ARM      32-bit ARM on aarch64: AUDIT_ARCH_ARM, NO table in
//                           berth: every call gets the DEFAULT ACTION (with a
//                           permissive default, an ARM program gets past deny
//                           rules; leave SCMP_ARCH_ARM out to have it killed)
//
//      The native convention is always filtered (libseccomp's filter always
//      has the native arch); X32, X86 and ARM only when `architectures` lists
//      them. A call in any other convention kills the process, as
//      libseccomp's "bad arch" action does. Arches this kernel cannot run
//      (s390x on x86_64, …) are accepted in `architectures` and need no code.
//      On i386 the socket calls (socket, bind, …, sendmmsg) and the SysV IPC
//      calls (semop, …, shmctl) can also be made through the multiplexers
//      socketcall(2) and ipc(2), whose first argument says which call is
//      meant. As libseccomp does, a rule naming one of them is also a rule on
//      the multiplexer with args[0] == that call's number, which REPLACES any
//      condition the rule had on args[0] (conditions on other indexes are
//      kept, and then test the multiplexer's own arguments).
//   2. ENOSYS for syscalls newer than the profile, as runc does (its -ENOSYS
//      stub, libcontainer/seccomp/patchbpf/enosys_linux.go). A profile that
//      refuses what it does not name would answer EPERM for a syscall it has
//      never heard of, and a program probing a new syscall (glibc trying
//      clone3, fchmodat2, …) takes EPERM as a refusal instead of falling back
//      to the older call; ENOSYS is what an older kernel would say. Per
//      convention:
//      - only when the default action is not permissive: SCMP_ACT_ERRNO,
//        _KILL*, _TRAP qualify; _ALLOW, _LOG and _TRACE do not (runc counts
//        TRACE as permissive: a tracer handles ENOSYS itself);
//      - only for the conventions `architectures` lists, native included
//        (runc derives the stub from that list: without `architectures`
//        there is no ENOSYS at all);
//      - the limit is the highest number, in that convention's table, of any
//        name the profile lists, in any rule and whatever its action (a rule
//        equal to the default counts too). Names the table does not know do
//        not count; on i386 neither do the socket and IPC names (libseccomp
//        resolves them to pseudo-numbers there). A limit of 0 counts as none,
//        as in runc;
//      - a call numbered ABOVE the limit gets ENOSYS before any rule is
//        considered. At or below it, an unlisted syscall gets the default
//        action, even a new one in a gap of the numbering (runc has the same
//        imprecision).
//      A syscall the profile allows but the table does not know would fall
//      above the limit too, and get ENOSYS: the tables carry the syscalls
//      newer than the build machine's headers for that reason
//      (scripts/gen-syscalls.py). With Docker's profile and default
//      capabilities the x86_64 and i386 limit is futex_waitv (449): syscall
//      470 gets ENOSYS, kexec_load (not listed) EPERM. x32's limit is
//      pwritev2, 547 in the x32-only range 512-547, so new x32 calls (470…)
//      get EPERM there, as with runc.
//   3. Syscall number. Numbers with rules and the gaps between them form
//      intervals of [0, 2^32) (of [2^30, 2^32) for x32); adjacent numbers
//      with the same unconditional verdict share one interval (Docker's allow
//      list is mostly runs), the ENOSYS range is the last interval, and a
//      binary search of JGE instructions finds the interval. A leaf is one
//      RET, or, for a syscall with argument conditions, its rules in order.
//   4. Argument conditions compare 64-bit values as two 32-bit words (cBPF is
//      32-bit): the high word decides unless equal, then the low word.
//
// Docker's default profile compiles to about 740 instructions on x86_64
// (x86_64, x86 and x32 code) and 170 on aarch64; the kernel takes 4096.
//
// cBPF conditional jumps reach at most 255 instructions ahead and never
// back. The code is generated bottom-up with every size known, so each jump
// is checked; where a jump must reach further (the search tree skipping a
// long left subtree, the arch check reaching a later convention's code), it
// goes through a JA (32-bit offset) placed just after it.
//
// Rule semantics, chosen to behave as runc (and therefore Docker) does:
// - a syscall name the convention's table does not know is skipped there
//   (profiles list syscalls of several arches and kernels);
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
import { SYSCALLS_I386 } from './syscalls-i386.js';
import { SYSCALLS_X32 } from './syscalls-x32.js';
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
const ENOSYS = 38;
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

/** One calling convention: how its calls are told apart, and their numbers. */
interface Abi {
  name: SeccompArch;
  /** seccomp_data.arch of its calls. */
  audit: number;
  /** Name → seccomp_data.nr; null when berth has none (every call gets the default action). */
  table: ReadonlyMap<string, number> | null;
  /** Its lowest syscall number: x32 numbers start at bit 30. */
  base: number;
  /** i386: socketcall(2) and ipc(2) multiplex the socket and SysV IPC calls. */
  multiplexers: { socketcall: number; ipc: number } | null;
}

/** The conventions a kernel of one architecture runs. */
interface Platform {
  native: Abi;
  /** x86_64 only: x32, which shares native.audit and sets bit 30 of nr. */
  x32: Abi | null;
  /** The other conventions, each with its own seccomp_data.arch. */
  companions: readonly Abi[];
}

function tableNr(table: ReadonlyMap<string, number>, name: string): number {
  const nr = table.get(name);
  if (nr === undefined) throw new BugError(`seccomp: the syscall table has no ${name}`);
  return nr;
}

const PLATFORMS: Readonly<Record<string, Platform>> = {
  x64: {
    native: { name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X86_64, base: 0, multiplexers: null },
    x32: { name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X32, base: X32_SYSCALL_BIT, multiplexers: null },
    companions: [{
      name: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, table: SYSCALLS_I386, base: 0,
      multiplexers: { socketcall: tableNr(SYSCALLS_I386, 'socketcall'), ipc: tableNr(SYSCALLS_I386, 'ipc') },
    }],
  },
  arm64: {
    native: { name: 'SCMP_ARCH_AARCH64', audit: AUDIT_ARCH.AARCH64, table: SYSCALLS_AARCH64, base: 0, multiplexers: null },
    x32: null,
    companions: [{ name: 'SCMP_ARCH_ARM', audit: AUDIT_ARCH.ARM, table: null, base: 0, multiplexers: null }],
  },
};

/** socketcall(2)'s first argument for each socket call (linux/net.h SYS_*). */
const SOCKETCALL_CALLS: ReadonlyMap<string, number> = new Map([
  ['socket', 1], ['bind', 2], ['connect', 3], ['listen', 4], ['accept', 5], ['getsockname', 6],
  ['getpeername', 7], ['socketpair', 8], ['send', 9], ['recv', 10], ['sendto', 11], ['recvfrom', 12],
  ['shutdown', 13], ['setsockopt', 14], ['getsockopt', 15], ['sendmsg', 16], ['recvmsg', 17],
  ['accept4', 18], ['recvmmsg', 19], ['sendmmsg', 20],
]);
/** ipc(2)'s first argument for each SysV IPC call (linux/ipc.h). */
const IPC_CALLS: ReadonlyMap<string, number> = new Map([
  ['semop', 1], ['semget', 2], ['semctl', 3], ['semtimedop', 4], ['msgsnd', 11], ['msgrcv', 12],
  ['msgget', 13], ['msgctl', 14], ['shmat', 21], ['shmdt', 22], ['shmget', 23], ['shmctl', 24],
]);

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

export const OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
type Operator = typeof OPERATORS[number];

/** A 64-bit value as the two words cBPF can compare. */
interface U64 { hi: number; lo: number }
interface Condition { index: number; op: Operator; a: U64; b: U64 }
interface Rule { ret: number; conditions: Condition[] }

const FIELD = 'linux.seccomp';

/** A validated `syscalls` entry: its names, and its rules as runc adds them. */
interface Entry { names: readonly string[]; ret: number; rules: Rule[] }

/**
 * Compile an OCI seccomp spec to a cBPF program for the machine `opts.arch`
 * (default: this one). Throws a BerthError ('invalid') naming the field when
 * the spec is malformed or asks for something berth does not support.
 */
export function compileSeccomp(spec: LinuxSeccompInput, opts: CompileOptions = {}): CompiledSeccomp {
  const nodeArch = opts.arch ?? process.arch;
  const platform = PLATFORMS[ARCH_ALIASES[nodeArch] ?? nodeArch];
  if (!platform) {
    throw systemError('seccomp.arch', `seccomp: berth has no syscall table for architecture "${nodeArch}" (x64 and arm64 are supported)`);
  }
  if (typeof spec !== 'object' || spec === null) throw invalid('seccomp.invalid', `${FIELD}: must be an object`);

  const defaultRet = actionRet(spec.defaultAction, spec.defaultErrnoRet, `${FIELD}.defaultAction`, `${FIELD}.defaultErrnoRet`);
  const listed = checkArchitectures(spec.architectures);
  const flags = checkFlags(spec.flags);

  const entries: Entry[] = optionalArray(spec.syscalls, `${FIELD}.syscalls`).map((entry, i) => {
    const at = `${FIELD}.syscalls[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid('seccomp.invalid', `${at}: must be an object`);
    const names = entry.names as unknown;
    if (!Array.isArray(names) || names.length === 0) throw invalid('seccomp.invalid', `${at}.names: must be a non-empty array of syscall names`);
    names.forEach((n: unknown, j) => {
      if (typeof n !== 'string' || n === '') throw invalid('seccomp.invalid', `${at}.names[${j}]: must be a syscall name, got ${JSON.stringify(n)}`);
    });
    const ret = actionRet(entry.action, entry.errnoRet, `${at}.action`, `${at}.errnoRet`);
    const conditions = optionalArray(entry.args, `${at}.args`).map((arg, j) => checkArg(arg, `${at}.args[${j}]`));
    return { names: names as string[], ret, rules: splitLikeRunc(ret, conditions) };
  });

  // The conventions to filter: the native one always, the others if listed.
  const abis = [platform.native, ...(platform.x32 ? [platform.x32] : []), ...platform.companions]
    .filter((abi) => abi === platform.native || listed.has(abi.name));
  const enosys = !isPermissive(defaultRet);
  const code = new Map<Abi, Insn[]>();
  const counts: string[] = [];
  for (const abi of abis) {
    const archName = abi.name.replace('SCMP_ARCH_', '').toLowerCase();
    if (!abi.table) {
      code.set(abi, [ret(defaultRet)]);
      counts.push(`${archName}: default action only`);
      continue;
    }
    const limit = enosys && listed.has(abi.name) ? enosysLimit(abi, entries) : null;
    const rules = rulesByNr(abi, entries, defaultRet);
    code.set(abi, nrDispatch(rules, defaultRet, abi.base, limit));
    counts.push(`${archName}: ${rules.size} syscalls${limit === null ? '' : `, ENOSYS above ${limit & ~X32_SYSCALL_BIT}`}`);
  }

  const insns = archDispatch(platform, code);
  if (insns.length > BPF_MAXINSNS) {
    throw invalid('seccomp.tooLarge', `${FIELD}: the filter needs ${insns.length} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
  }
  const summary = `default ${describeRet(defaultRet)}; rules for ${counts.join('; ')}`;
  return { program: encode(insns), flags, summary };
}

/** runc leaves no ENOSYS stub for a permissive default: ALLOW, LOG, TRACE. */
function isPermissive(defaultRet: number): boolean {
  const action = (defaultRet & SECCOMP_RET_ACTION_FULL) >>> 0;
  return action === SECCOMP_RET.ALLOW || action === SECCOMP_RET.LOG || action === SECCOMP_RET.TRACE;
}

/**
 * The number above which calls get ENOSYS: the highest number of any name
 * the profile lists (in any rule), as runc's findLastSyscalls computes it; on
 * i386 libseccomp resolves the multiplexed names to pseudo-numbers, which do
 * not count. null when no name is known (runc: also when the highest is 0).
 */
function enosysLimit(abi: Abi, entries: readonly Entry[]): number | null {
  const table = abi.table;
  if (!table) return null;
  let highest = 0;
  for (const { names } of entries) {
    for (const name of names) {
      if (abi.multiplexers && (SOCKETCALL_CALLS.has(name) || IPC_CALLS.has(name))) continue;
      const nr = table.get(name);
      if (nr !== undefined && nr > highest) highest = nr;
    }
  }
  return highest === 0 ? null : highest;
}

/** One convention's rules per syscall number, in profile order. */
function rulesByNr(abi: Abi, entries: readonly Entry[], defaultRet: number): Map<number, Rule[]> {
  const table = abi.table;
  const byNr = new Map<number, Rule[]>();
  if (!table) return byNr;
  for (const entry of entries) {
    if (entry.ret === defaultRet) continue; // runc drops it
    // Where the entry's rules go: each name's number (unknown names belong to
    // another arch or a newer kernel: skipped) and, on i386, the multiplexer
    // with the call's number in args[0].
    const targets = new Map<string, { nr: number; call: number | null }>();
    for (const name of entry.names) {
      const nr = table.get(name);
      if (nr !== undefined) targets.set(`${nr}`, { nr, call: null });
      if (!abi.multiplexers) continue;
      const socketcall = SOCKETCALL_CALLS.get(name);
      if (socketcall !== undefined) targets.set(`${abi.multiplexers.socketcall}:${socketcall}`, { nr: abi.multiplexers.socketcall, call: socketcall });
      const ipc = IPC_CALLS.get(name);
      if (ipc !== undefined) targets.set(`${abi.multiplexers.ipc}:${ipc}`, { nr: abi.multiplexers.ipc, call: ipc });
    }
    for (const rule of entry.rules) {
      for (const { nr, call } of targets.values()) {
        let list = byNr.get(nr);
        if (!list) byNr.set(nr, list = []);
        list.push(call === null ? rule : multiplexed(rule, call));
      }
    }
  }
  return byNr;
}

/** libseccomp's rewrite of a rule for socketcall/ipc: args[0] must be the call, replacing the rule's own condition there. */
function multiplexed(rule: Rule, call: number): Rule {
  const selector: Condition = { index: 0, op: 'SCMP_CMP_EQ', a: { hi: 0, lo: call }, b: { hi: 0, lo: 0 } };
  return { ret: rule.ret, conditions: [selector, ...rule.conditions.filter((c) => c.index !== 0)] };
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

/** The listed architecture names, each checked. */
function checkArchitectures(value: readonly string[] | undefined): Set<string> {
  const field = `${FIELD}.architectures`;
  const listed = new Set<string>();
  optionalArray(value, field).forEach((arch, i) => {
    if (typeof arch !== 'string' || !KNOWN_ARCHES.has(arch)) {
      throw invalid('seccomp.invalid', `${field}[${i}]: unknown architecture ${JSON.stringify(arch)}`);
    }
    listed.add(arch);
  });
  return listed;
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
 * The whole program: the arch check, then each convention's code.
 *
 *   ld arch
 *   jeq NATIVE → native        (a JEQ, or JEQ+JA when the code is far)
 *   jeq COMPANION → companion  (per filtered companion: i386, arm)
 *   ret KILL_PROCESS
 * native:
 *   ld nr
 *   jset X32_BIT → x32 code, or ret KILL_PROCESS when x32 is not listed
 *   …native code…
 * companion:
 *   ld nr
 *   …its code…               (arm: only "ret default")
 */
function archDispatch(platform: Platform, code: ReadonlyMap<Abi, Insn[]>): Insn[] {
  const codeOf = (abi: Abi): Insn[] => {
    const insns = code.get(abi);
    if (!insns) throw new BugError(`seccomp: no code for ${abi.name}`);
    return insns;
  };
  const native = codeOf(platform.native);
  let nativeSection: Insn[];
  if (!platform.x32) {
    nativeSection = [stmt(LD_W_ABS, OFF_NR), ...native];
  } else {
    const x32 = code.get(platform.x32) ?? [ret(SECCOMP_RET.KILL_PROCESS)];
    nativeSection = [stmt(LD_W_ABS, OFF_NR), ...branch(JSET_K, X32_SYSCALL_BIT, x32, native)];
  }
  const sections: { audit: number; insns: Insn[] }[] = [{ audit: platform.native.audit, insns: nativeSection }];
  for (const abi of platform.companions) {
    const insns = code.get(abi);
    if (!insns) continue; // not listed: killed below
    sections.push({ audit: abi.audit, insns: abi.table ? [stmt(LD_W_ABS, OFF_NR), ...insns] : insns });
  }

  // The checks, built from the last one back so that each knows how far its
  // section is: everything after it in the header, then the sections before.
  let header: Insn[] = [ret(SECCOMP_RET.KILL_PROCESS)];
  const starts: number[] = [];
  sections.reduce((at, section) => { starts.push(at); return at + section.insns.length; }, 0);
  for (let i = sections.length - 1; i >= 0; i--) {
    const distance = header.length + starts[i];
    header = distance <= MAX_JUMP
      ? [jump(JEQ_K, sections[i].audit, distance, 0), ...header]
      : [jump(JEQ_K, sections[i].audit, 0, 1), stmt(JA, distance), ...header];
  }
  return [stmt(LD_W_ABS, OFF_ARCH), ...header, ...sections.flatMap((section) => section.insns)];
}

/** `if (A op k) whenTrue else whenFalse`, for two blocks that each end in RET. */
function branch(code: number, k: number, whenTrue: Insn[], whenFalse: Insn[]): Insn[] {
  if (whenTrue.length <= MAX_JUMP) return [jump(code, k, 0, whenTrue.length), ...whenTrue, ...whenFalse];
  if (whenFalse.length <= MAX_JUMP) return [jump(code, k, whenFalse.length, 0), ...whenFalse, ...whenTrue];
  return [jump(code, k, 0, 1), stmt(JA, whenTrue.length), ...whenTrue, ...whenFalse];
}

type Verdict = { ret: number } | { block: Insn[] };
interface Interval { start: number; verdict: Verdict }

/**
 * Binary search over the syscall number (in A) down to one verdict per
 * interval. Numbers start at `base` (lower ones never get here); numbers
 * above `enosysAbove` get ENOSYS, rules there included (runc's stub runs
 * before the rules).
 */
function nrDispatch(byNr: ReadonlyMap<number, Rule[]>, defaultRet: number, base: number, enosysAbove: number | null): Insn[] {
  const intervals: Interval[] = [];
  const push = (start: number, verdict: Verdict): void => {
    const last = intervals[intervals.length - 1];
    if (last && 'ret' in last.verdict && 'ret' in verdict && last.verdict.ret === verdict.ret) return;
    intervals.push({ start, verdict });
  };
  const end = enosysAbove === null ? 0xffffffff : enosysAbove;
  let next = base;
  for (const nr of [...byNr.keys()].sort((x, y) => x - y)) {
    if (nr < base) throw new BugError(`seccomp: syscall number ${nr} below ${base}`);
    if (nr > end) break;
    if (nr > next) push(next, { ret: defaultRet });
    push(nr, syscallVerdict(byNr.get(nr) ?? [], defaultRet));
    next = nr + 1;
  }
  if (next <= end) push(next, { ret: defaultRet });
  if (end < 0xffffffff) push(end + 1, { ret: (SECCOMP_RET.ERRNO | ENOSYS) >>> 0 });
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
