// The OCI runtime-spec `linux.seccomp` object (config.json), as runc and crun
// read it. Seccomp ("secure computing") lets a process install a filter that
// the kernel runs on every system call it makes from then on: a classic BPF
// program that sees the call's number, architecture and raw arguments and
// returns a verdict (allow, fail with an errno, kill, trap, log, …). The spec
// describes the filter declaratively, in libseccomp's vocabulary (SCMP_ACT_*,
// SCMP_CMP_*, SCMP_ARCH_*); compile.ts turns it into the BPF bytes.
//
// The string unions document the accepted values. config.json is input from
// outside, so compile.ts checks every field at run time anyway and names the
// one that is wrong.

export type SeccompAction =
  | 'SCMP_ACT_KILL'          // kill the thread (libseccomp's historical name)
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_TRAP'          // SIGSYS to the thread
  | 'SCMP_ACT_ERRNO'         // fail with errnoRet, the call does not run
  | 'SCMP_ACT_TRACE'         // notify a ptrace tracer (errnoRet is the event data)
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'           // allow, and log to the audit log
  | 'SCMP_ACT_NOTIFY';       // user-space notification: not supported by berth

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';    // (arg & value) == valueTwo

export type SeccompArch =
  | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X32'
  | 'SCMP_ARCH_ARM' | 'SCMP_ARCH_AARCH64'
  | 'SCMP_ARCH_MIPS' | 'SCMP_ARCH_MIPS64' | 'SCMP_ARCH_MIPS64N32'
  | 'SCMP_ARCH_MIPSEL' | 'SCMP_ARCH_MIPSEL64' | 'SCMP_ARCH_MIPSEL64N32'
  | 'SCMP_ARCH_PPC' | 'SCMP_ARCH_PPC64' | 'SCMP_ARCH_PPC64LE'
  | 'SCMP_ARCH_S390' | 'SCMP_ARCH_S390X'
  | 'SCMP_ARCH_PARISC' | 'SCMP_ARCH_PARISC64'
  | 'SCMP_ARCH_RISCV64' | 'SCMP_ARCH_LOONGARCH64' | 'SCMP_ARCH_M68K'
  | 'SCMP_ARCH_SH' | 'SCMP_ARCH_SHEB';

export type SeccompFlag =
  | 'SECCOMP_FILTER_FLAG_TSYNC'
  | 'SECCOMP_FILTER_FLAG_LOG'
  | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
  | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'; // only meaningful with NOTIFY: rejected

/**
 * One condition on a system call argument. Arguments are 64-bit unsigned in
 * seccomp_data, and `value`/`valueTwo` are uint64 in the spec (JSON numbers
 * are exact only up to 2^53; LinuxSeccompInput also takes a bigint).
 */
export interface LinuxSeccompArg {
  index: number;                 // 0..5
  value: number;
  valueTwo?: number;             // only used by SCMP_CMP_MASKED_EQ; default 0
  op: SeccompOperator;
}

/** A rule: when one of `names` is called and all `args` hold, take `action`. */
export interface LinuxSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;             // SCMP_ACT_ERRNO / SCMP_ACT_TRACE only; default EPERM
  args?: LinuxSeccompArg[];
}

/** `linux.seccomp` of config.json. Arrays are mutable: this is JSON-shaped data. */
export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;      // for defaultAction ERRNO / TRACE; default EPERM
  architectures?: SeccompArch[];
  flags?: SeccompFlag[];
  listenerPath?: string;         // SCMP_ACT_NOTIFY only: ignored
  listenerMetadata?: string;     // SCMP_ACT_NOTIFY only: ignored
  syscalls?: LinuxSyscall[];
}

/**
 * What compileSeccomp accepts: the same shape with plain strings, since a
 * config.json is only checked when it is compiled, and uint64 argument values
 * as number or bigint. Every LinuxSeccomp is a LinuxSeccompInput.
 */
export interface LinuxSeccompInput {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: readonly string[];
  flags?: readonly string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: readonly LinuxSyscallInput[];
}
export interface LinuxSyscallInput {
  names: readonly string[];
  action: string;
  errnoRet?: number;
  args?: readonly LinuxSeccompArgInput[];
}
export interface LinuxSeccompArgInput {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}
