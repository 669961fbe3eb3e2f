// Docker's default seccomp profile, and how Docker resolves it into the OCI
// `linux.seccomp` of a container. The profile is an allow list: every system
// call not named fails with EPERM (defaultAction SCMP_ACT_ERRNO,
// defaultErrnoRet 1), so the kernel's larger attack surface (module loading,
// kexec, keyctl, bpf, perf, namespaces without CAP_SYS_ADMIN, …) is closed to
// ordinary containers; a syscall newer than every one the profile names gets
// ENOSYS instead (the compiler's runc-style stub, compile.ts). Entries may carry `includes`/`excludes` filters on the
// container's bounding capabilities, the CPU architecture and the kernel
// version; Docker applies them when it writes config.json, so the runtime
// sees a plain OCI profile. clone3 answers ENOSYS (38), not EPERM, without
// CAP_SYS_ADMIN: glibc then falls back to clone, whose flags the profile can
// inspect (clone3 passes them in memory, out of a filter's reach).
//
// Architectures, as moby resolves them: `architectures` is this machine's
// archMap entry, the native arch and its sub-architectures (on x86_64:
// SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32; on aarch64:
// SCMP_ARCH_AARCH64, SCMP_ARCH_ARM), and an entry's `includes.arches` /
// `excludes.arches` are matched against the NATIVE arch only (moby's
// runtime.GOARCH). The resulting rules then apply to every listed arch, each
// by its own syscall numbers: on x86_64 the compiler filters i386 and x32
// programs with the same rules as native ones (arch_prctl, included for
// "amd64", is also allowed to i386 programs, as with Docker and libseccomp);
// 32-bit ARM gets the default action, berth having no ARM table.
//
// The data is from moby/moby profiles/seccomp/default.json (Apache-2.0),
// reproduced as-is; the resolution follows setupSeccomp() in moby's
// profiles/seccomp/seccomp_linux.go.

import { release, endianness } from 'node:os';
import { systemError } from '../../util/errors.js';
import type { LinuxSeccomp, LinuxSyscall, SeccompAction, SeccompArch } from './types.js';

/** A condition of the profile: all of its parts must hold (includes) or any excludes. */
export interface DockerFilter {
  caps?: string[];
  arches?: string[];        // libseccomp's names: amd64, x86, x32, arm64, arm, s390x, …
  minKernel?: string;
}

export interface DockerSyscall extends LinuxSyscall {
  comment?: string;
  includes?: DockerFilter;
  excludes?: DockerFilter;
}

/** A profile in Docker's format (`--security-opt seccomp=profile.json`). */
export interface DockerProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  archMap?: { architecture: SeccompArch; subArchitectures: SeccompArch[] | null }[];
  /** The older format: architectures as they are, no archMap. */
  architectures?: SeccompArch[];
  flags?: LinuxSeccomp['flags'];
  syscalls: DockerSyscall[];
}

const PROFILE: DockerProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
    { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
    { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
    { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
  ],
  syscalls: [
    {
      names: [
      'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'capget', 'capset',
      'chdir', 'chmod', 'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64', 'clock_getres',
      'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
      'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range', 'creat',
      'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old',
      'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2',
      'execve', 'execveat', 'exit', 'exit_group', 'faccessat', 'faccessat2', 'fadvise64',
      'fadvise64_64', 'fallocate', 'fanotify_mark', 'fchdir', 'fchmod', 'fchmodat', 'fchown',
      'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock',
      'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64',
      'fsync', 'ftruncate', 'ftruncate64', 'futex', 'futex_time64', 'futex_waitv', 'futimesat',
      'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid', 'geteuid32',
      'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getitimer', 'getpeername', 'getpgid',
      'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresgid32',
      'getresuid', 'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage', 'getsid',
      'getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid',
      'getuid32', 'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1',
      'inotify_rm_watch', 'io_cancel', 'ioctl', 'io_destroy', 'io_getevents', 'io_pgetevents',
      'io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit', 'io_uring_enter',
      'io_uring_register', 'io_uring_setup', 'ipc', 'kill', 'landlock_add_rule',
      'landlock_create_ruleset', 'landlock_restrict_self', 'lchown', 'lchown32', 'lgetxattr',
      'link', 'linkat', 'listen', 'listxattr', 'llistxattr', '_llseek', 'lremovexattr', 'lseek',
      'lsetxattr', 'lstat', 'lstat64', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret',
      'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall', 'mmap',
      'mmap2', 'mprotect', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive',
      'mq_timedreceive_time64', 'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'mremap',
      'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall', 'munmap',
      'name_to_handle_at', 'nanosleep', 'newfstatat', '_newselect', 'open', 'openat', 'openat2',
      'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free',
      'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl', 'pread64', 'preadv', 'preadv2',
      'prlimit64', 'process_mrelease', 'pselect6', 'pselect6_time64', 'pwrite64', 'pwritev',
      'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom',
      'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'remap_file_pages', 'removexattr', 'rename',
      'renameat', 'renameat2', 'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending',
      'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait',
      'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sched_getaffinity', 'sched_getattr',
      'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_getscheduler',
      'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr',
      'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select', 'semctl',
      'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send', 'sendfile', 'sendfile64',
      'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid',
      'setgid32', 'setgroups', 'setgroups32', 'setitimer', 'setpgid', 'setpriority', 'setregid',
      'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid',
      'setreuid32', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_thread_area',
      'set_tid_address', 'setuid', 'setuid32', 'setxattr', 'shmat', 'shmctl', 'shmdt', 'shmget',
      'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask', 'sigreturn', 'socketcall',
      'socketpair', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink',
      'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time',
      'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64',
      'timer_settime', 'timer_settime64', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64',
      'timerfd_settime', 'timerfd_settime64', 'times', 'tkill', 'truncate', 'truncate64',
      'ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'utime', 'utimensat',
      'utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid', 'write',
      'writev',
      ],
      action: 'SCMP_ACT_ALLOW',
    },
    {
      names: ['process_vm_readv', 'process_vm_writev', 'ptrace'],
      action: 'SCMP_ACT_ALLOW',
      includes: { minKernel: '4.8' },
    },
    {
      names: ['socket'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }],
    },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 131072, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 131080, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
    {
      names: ['sync_file_range2', 'swapcontext'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['ppc64le'] },
    },
    {
      names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['arm', 'arm64'] },
    },
    {
      names: ['arch_prctl'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['amd64', 'x32'] },
    },
    {
      names: ['modify_ldt'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['amd64', 'x32', 'x86'] },
    },
    {
      names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['s390', 's390x'] },
    },
    {
      names: ['riscv_flush_icache'],
      action: 'SCMP_ACT_ALLOW',
      includes: { arches: ['riscv64'] },
    },
    {
      names: ['open_by_handle_at'],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_DAC_READ_SEARCH'] },
    },
    {
      names: [
        'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
        'lookup_dcookie', 'mount', 'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open',
        'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount',
        'umount2', 'unshare',
      ],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      // CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 1, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
      comment: 's390 parameter ordering for clone is different',
      includes: { arches: ['s390', 's390x'] },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 38,
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    { names: ['reboot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_BOOT'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
    {
      names: ['delete_module', 'init_module', 'finit_module'],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_SYS_MODULE'] },
    },
    { names: ['acct'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_PACCT'] } },
    {
      names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_SYS_PTRACE'] },
    },
    { names: ['iopl', 'ioperm'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_RAWIO'] } },
    {
      names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_SYS_TIME'] },
    },
    { names: ['vhangup'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_TTY_CONFIG'] } },
    {
      names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_SYS_NICE'] },
    },
    { names: ['syslog'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYSLOG'] } },
    { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_BPF'] } },
    { names: ['perf_event_open'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_PERFMON'] } },
  ],
};

/**
 * Node's process.arch → the libseccomp arch name moby matches `arches` against
 * (goToNative). The kernel's spellings compileSeccomp also accepts (x86_64,
 * aarch64) mean the same machines here.
 */
function mobyArchName(nodeArch: string): string {
  switch (nodeArch) {
    case 'x64':
    case 'x86_64':
    case 'amd64': return 'amd64';
    case 'aarch64': return 'arm64';
    case 'ia32': return 'x86';
    case 'ppc64': return endianness() === 'LE' ? 'ppc64le' : 'ppc64';
    default: return nodeArch; // arm64, arm, s390x, s390, riscv64, mips64, … are spelled alike
  }
}

/** moby's nativeToSeccomp: which archMap entry is this machine's. */
const SECCOMP_ARCH: Readonly<Record<string, SeccompArch>> = {
  amd64: 'SCMP_ARCH_X86_64', x86: 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
  mips64: 'SCMP_ARCH_MIPS64', mips64n32: 'SCMP_ARCH_MIPS64N32', mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32', mipsel: 'SCMP_ARCH_MIPSEL', ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64', ppc64le: 'SCMP_ARCH_PPC64LE', s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X', riscv64: 'SCMP_ARCH_RISCV64',
};

function parseKernel(version: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw systemError('seccomp.kernelVersion', `cannot read the kernel version from "${version}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Is the running kernel at least `min`? (moby's kernelGreaterEqualThan) */
function kernelAtLeast(kernel: [number, number, number], min: string): boolean {
  const want = parseKernel(min);
  for (let i = 0; i < 3; i++) {
    if (kernel[i] !== want[i]) return kernel[i] > want[i];
  }
  return true;
}

export interface DockerSeccompOptions {
  /** Node's process.arch of the machine (default: this one). */
  arch?: string;
  /** The kernel release, as os.release() gives it (default: this one). */
  kernelVersion?: string;
}

/**
 * Docker's default profile resolved for a container whose bounding set is
 * `caps` (names as in the OCI spec: "CAP_SYS_ADMIN"), on this architecture and
 * kernel: what moby writes into config.json's `linux.seccomp`.
 */
export function dockerDefaultSeccomp(caps: readonly string[], opts: DockerSeccompOptions = {}): LinuxSeccomp {
  return resolveDockerProfile(PROFILE, caps, opts);
}

/** Any profile in Docker's format, resolved as Docker resolves its default one (setupSeccomp). */
export function resolveDockerProfile(profile: DockerProfile, caps: readonly string[], opts: DockerSeccompOptions = {}): LinuxSeccomp {
  const arch = mobyArchName(opts.arch ?? process.arch);
  const kernel = parseKernel(opts.kernelVersion ?? release());
  const bounding = new Set(caps);

  const architectures: SeccompArch[] = [...(profile.architectures ?? [])];
  const entry = profile.archMap?.find((a) => a.architecture === SECCOMP_ARCH[arch]);
  if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));

  const syscalls: LinuxSyscall[] = [];
  for (const call of profile.syscalls) {
    const { includes: inc = {}, excludes: exc = {} } = call;
    // Excluded when any excluded arch or cap matches, or the kernel is new enough.
    if (exc.arches?.includes(arch)) continue;
    if (exc.caps?.some((c) => bounding.has(c))) continue;
    if (exc.minKernel !== undefined && kernelAtLeast(kernel, exc.minKernel)) continue;
    // Included only when the arch is listed, every cap is held and the kernel is new enough.
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(arch)) continue;
    if (inc.caps?.some((c) => !bounding.has(c))) continue;
    if (inc.minKernel !== undefined && !kernelAtLeast(kernel, inc.minKernel)) continue;

    const out: LinuxSyscall = { names: [...call.names], action: call.action };
    if (call.errnoRet !== undefined) out.errnoRet = call.errnoRet;
    if (call.args) out.args = call.args.map((a) => ({ ...a }));
    syscalls.push(out);
  }

  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures.length > 0 ? { architectures: [...new Set(architectures)] } : {}),
    ...(profile.flags?.length ? { flags: [...profile.flags] } : {}),
    syscalls,
  };
}
