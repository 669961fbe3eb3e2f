// Docker's default seccomp profile: how it resolves per capability, arch and
// kernel, and what the compiled filter decides for the calls that matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeccomp } from '../../src/runtime/seccomp/compile.js';
import { checkFilter, runFilter } from '../../src/runtime/seccomp/bpf-interpreter.js';
import { dockerDefaultSeccomp } from '../../src/runtime/seccomp/docker-default.js';
import { SYSCALLS_X86_64 } from '../../src/runtime/seccomp/syscalls-x86_64.js';
import { SYSCALLS_AARCH64 } from '../../src/runtime/seccomp/syscalls-aarch64.js';
import { SYSCALLS_I386 } from '../../src/runtime/seccomp/syscalls-i386.js';
import { SYSCALLS_X32 } from '../../src/runtime/seccomp/syscalls-x32.js';
import type { LinuxSeccomp } from '../../src/runtime/seccomp/types.js';
import { AARCH64, ARCH, RET, errno, expectedVerdict } from './seccomp-reference.js';

// Docker's default capability set (moby oci/caps/defaults.go).
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const KERNEL = '6.1.0';
const EPERM = errno(1);
const ENOSYS = errno(38);

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const SIGCHLD = 17;
const THREAD_FLAGS = 0x003d0f00; // what glibc's pthread_create passes

function filter(caps: readonly string[], kernelVersion = KERNEL): { spec: LinuxSeccomp; program: Buffer } {
  const spec = dockerDefaultSeccomp(caps, { arch: 'x64', kernelVersion });
  return { spec, program: compileSeccomp(spec, { arch: 'x64' }).program };
}

function verdictOf(program: Buffer, name: string, args: readonly (number | bigint)[] = [], arch: number = ARCH.X86_64): number {
  const nr = SYSCALLS_X86_64.get(name);
  if (nr === undefined) throw new Error(`no syscall ${name}`);
  return runFilter(program, { nr, arch, args });
}
const i386 = (program: Buffer, name: string, args: readonly (number | bigint)[] = []): number =>
  runFilter(program, { nr: SYSCALLS_I386.get(name) ?? -1, arch: ARCH.I386, args });
const x32 = (program: Buffer, name: string, args: readonly (number | bigint)[] = []): number =>
  runFilter(program, { nr: SYSCALLS_X32.get(name) ?? -1, arch: ARCH.X86_64, args });

test('the resolved profile: EPERM by default, x86_64 with its sub-arches', () => {
  const { spec } = filter(DOCKER_CAPS);
  assert.equal(spec.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(spec.defaultErrnoRet, 1);
  assert.deepEqual(spec.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const arm = dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'arm64', kernelVersion: KERNEL });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  // The arch spellings compileSeccomp accepts resolve the same way.
  assert.deepEqual(dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'x86_64', kernelVersion: KERNEL }), spec);
  assert.deepEqual(dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'amd64', kernelVersion: KERNEL }), spec);
  assert.deepEqual(dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'aarch64', kernelVersion: KERNEL }), arm);
});

test('clone3 is ENOSYS without CAP_SYS_ADMIN, allowed with it, as moby says', () => {
  const { spec, program } = filter(DOCKER_CAPS);
  const clone3Rules = (spec.syscalls ?? []).filter((s) => s.names.includes('clone3'));
  assert.deepEqual(clone3Rules, [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  assert.equal(verdictOf(program, 'clone3'), ENOSYS);

  const admin = filter([...DOCKER_CAPS, 'CAP_SYS_ADMIN']);
  assert.equal((admin.spec.syscalls ?? []).some((s) => s.errnoRet === 38), false);
  assert.equal(verdictOf(admin.program, 'clone3'), RET.ALLOW);
});

test('ordinary calls are allowed; dangerous ones get EPERM', () => {
  const { program } = filter(DOCKER_CAPS);
  for (const name of ['read', 'write', 'exit_group', 'openat', 'mmap', 'futex', 'execve', 'rt_sigreturn', 'arch_prctl', 'chroot', 'io_uring_setup', 'name_to_handle_at']) {
    assert.equal(verdictOf(program, name), RET.ALLOW, name);
  }
  // keyctl, add_key and request_key are not in the profile at all.
  for (const name of ['keyctl', 'add_key', 'request_key', 'mount', 'umount2', 'unshare', 'setns', 'bpf', 'perf_event_open',
    'kexec_load', 'init_module', 'reboot', 'open_by_handle_at', 'userfaultfd', 'settimeofday', 'fsopen', 'pivot_root', 'syslog']) {
    assert.equal(verdictOf(program, name), EPERM, name);
  }
  // Newer than anything the profile names (runc's ENOSYS stub): ENOSYS, so
  // that a program probing a new syscall falls back to an older one.
  assert.equal(runFilter(program, { nr: 470, arch: ARCH.X86_64 }), ENOSYS);
  assert.equal(runFilter(program, { nr: 999, arch: ARCH.X86_64 }), ENOSYS);
});

test('ENOSYS above the newest syscall the resolved profile names, EPERM below', () => {
  // futex_waitv (449) is the newest x86_64 syscall this profile allows with
  // Docker's capabilities; set_mempolicy_home_node (450) needs CAP_SYS_NICE.
  const { program } = filter(DOCKER_CAPS);
  assert.equal(verdictOf(program, 'futex_waitv'), RET.ALLOW);
  assert.equal(verdictOf(program, 'kexec_load'), EPERM);          // 246: older, not listed
  assert.equal(verdictOf(program, 'quotactl_fd'), EPERM);         // 443: CAP_SYS_ADMIN only
  assert.equal(verdictOf(program, 'set_mempolicy_home_node'), ENOSYS);
  assert.equal(verdictOf(program, 'fchmodat2'), ENOSYS);          // glibc falls back to fchmodat
  assert.equal(verdictOf(program, 'mseal'), ENOSYS);
  assert.equal(runFilter(program, { nr: 470, arch: ARCH.X86_64 }), ENOSYS);
  const nice = filter([...DOCKER_CAPS, 'CAP_SYS_NICE']).program;
  assert.equal(verdictOf(nice, 'set_mempolicy_home_node'), RET.ALLOW);
  assert.equal(verdictOf(nice, 'cachestat'), ENOSYS);
  // i386 has the same limit (futex_waitv is 449 there too); x32's is pwritev2 (0x40000000 + 547).
  assert.equal(i386(program, 'kexec_load'), EPERM);
  assert.equal(runFilter(program, { nr: 470, arch: ARCH.I386 }), ENOSYS);
  assert.equal(x32(program, 'kexec_load'), EPERM);
  assert.equal(runFilter(program, { nr: 0x40000000 + 470, arch: ARCH.X86_64 }), EPERM);
  assert.equal(runFilter(program, { nr: 0x40000000 + 548, arch: ARCH.X86_64 }), ENOSYS);
});

test('clone: namespace flags are refused without CAP_SYS_ADMIN', () => {
  const { program } = filter(DOCKER_CAPS);
  assert.equal(verdictOf(program, 'clone', [THREAD_FLAGS]), RET.ALLOW);
  assert.equal(verdictOf(program, 'clone', [SIGCHLD]), RET.ALLOW);
  assert.equal(verdictOf(program, 'clone', [CLONE_NEWUSER | SIGCHLD]), EPERM);
  assert.equal(verdictOf(program, 'clone', [CLONE_NEWNS | SIGCHLD]), EPERM);
  assert.equal(verdictOf(program, 'clone', [CLONE_NEWNET]), EPERM);
  // The mask has no high word: bits above 32 do not matter (as with libseccomp).
  assert.equal(verdictOf(program, 'clone', [0x100000000n | BigInt(SIGCHLD)]), RET.ALLOW);

  const admin = filter([...DOCKER_CAPS, 'CAP_SYS_ADMIN']);
  assert.equal(verdictOf(admin.program, 'clone', [CLONE_NEWUSER | SIGCHLD]), RET.ALLOW);
  assert.equal(verdictOf(admin.program, 'mount'), RET.ALLOW);
  assert.equal(verdictOf(admin.program, 'unshare'), RET.ALLOW);
});

test('personality: only the values Docker lists', () => {
  const { program } = filter(DOCKER_CAPS);
  for (const persona of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
    assert.equal(verdictOf(program, 'personality', [persona]), RET.ALLOW, `personality(0x${persona.toString(16)})`);
  }
  for (const persona of [1, 9, 0x0040000 /* ADDR_NO_RANDOMIZE */, 0x20009, 0xfffffffe, 0xffffffffffffffffn, 0x100000000n]) {
    assert.equal(verdictOf(program, 'personality', [persona]), EPERM, `personality(0x${persona.toString(16)})`);
  }
});

test('socket: AF_VSOCK is refused, other families allowed', () => {
  const { program } = filter(DOCKER_CAPS);
  assert.equal(verdictOf(program, 'socket', [40, 1, 0]), EPERM);
  assert.equal(verdictOf(program, 'socket', [1, 1, 0]), RET.ALLOW);   // AF_UNIX
  assert.equal(verdictOf(program, 'socket', [2, 2, 17]), RET.ALLOW);  // AF_INET
});

test('capabilities and the kernel version open their syscalls', () => {
  assert.equal(verdictOf(filter(DOCKER_CAPS).program, 'chroot'), RET.ALLOW);
  assert.equal(verdictOf(filter(DOCKER_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')).program, 'chroot'), EPERM);
  // ptrace: allowed from kernel 4.8 on (earlier kernels let seccomp be bypassed with it).
  assert.equal(verdictOf(filter(DOCKER_CAPS, '4.8').program, 'ptrace'), RET.ALLOW);
  assert.equal(verdictOf(filter(DOCKER_CAPS, '4.4.0-210-generic').program, 'ptrace'), EPERM);
  assert.equal(verdictOf(filter([...DOCKER_CAPS, 'CAP_SYS_PTRACE'], '4.4.0').program, 'ptrace'), RET.ALLOW);
  assert.equal(verdictOf(filter(DOCKER_CAPS).program, 'kcmp'), EPERM);
  assert.equal(verdictOf(filter([...DOCKER_CAPS, 'CAP_SYS_PTRACE']).program, 'kcmp'), RET.ALLOW);
  assert.equal(verdictOf(filter([...DOCKER_CAPS, 'CAP_SYS_TIME']).program, 'settimeofday'), RET.ALLOW);
  assert.equal(verdictOf(filter([...DOCKER_CAPS, 'CAP_SYS_MODULE']).program, 'finit_module'), RET.ALLOW);
  assert.equal(verdictOf(filter([...DOCKER_CAPS, 'CAP_BPF']).program, 'bpf'), RET.ALLOW);
});

test('i386 and x32 programs are filtered by their own syscall numbers; anything else is killed', () => {
  const { program } = filter(DOCKER_CAPS);
  for (const name of ['read', 'write', 'exit_group', 'openat', 'mmap2', 'futex', 'execve', 'sigreturn', 'chown32', 'socketcall', 'set_thread_area', 'modify_ldt', 'arch_prctl']) {
    assert.equal(i386(program, name), RET.ALLOW, `i386 ${name}`);
  }
  for (const name of ['keyctl', 'add_key', 'mount', 'unshare', 'setns', 'bpf', 'kexec_load', 'init_module', 'reboot']) {
    assert.equal(i386(program, name), EPERM, `i386 ${name}`);
  }
  assert.equal(i386(program, 'clone', [CLONE_NEWUSER | SIGCHLD]), EPERM);
  assert.equal(i386(program, 'clone', [SIGCHLD]), RET.ALLOW);
  assert.equal(i386(program, 'clone3'), ENOSYS);
  assert.equal(i386(program, 'socket', [40, 1, 0]), EPERM);            // AF_VSOCK, direct
  assert.equal(i386(program, 'socket', [2, 1, 0]), RET.ALLOW);
  assert.equal(i386(program, 'socketcall', [1 /* SYS_SOCKET */]), RET.ALLOW); // allowed by name in the profile
  // The numbers are i386's: 3 is read there, 0 is restart_syscall, 250 (x86_64 keyctl) is fadvise64.
  assert.equal(runFilter(program, { nr: 288, arch: ARCH.I386 }), EPERM);
  assert.equal(runFilter(program, { nr: 250, arch: ARCH.I386 }), RET.ALLOW);

  for (const name of ['read', 'write', 'exit_group', 'openat', 'execve', 'rt_sigaction', 'ioctl', 'arch_prctl', 'pwritev2']) {
    assert.equal(x32(program, name), RET.ALLOW, `x32 ${name}`);
  }
  for (const name of ['keyctl', 'mount', 'unshare', 'bpf', 'kexec_load']) assert.equal(x32(program, name), EPERM, `x32 ${name}`);
  assert.equal(x32(program, 'clone', [CLONE_NEWUSER]), EPERM);
  assert.equal(x32(program, 'clone', [SIGCHLD]), RET.ALLOW);
  // 0x40000000 + 59 is x86_64's execve number with the x32 bit: not an x32 call.
  assert.equal(runFilter(program, { nr: 0x40000000 + 59, arch: ARCH.X86_64 }), EPERM);

  assert.equal(runFilter(program, { nr: 63, arch: ARCH.AARCH64 }), RET.KILL_PROCESS);
  assert.equal(runFilter(program, { nr: 3, arch: ARCH.ARM }), RET.KILL_PROCESS);
});

test('arch-specific entries follow the architecture', () => {
  const names = (spec: LinuxSeccomp): Set<string> => new Set((spec.syscalls ?? []).flatMap((s) => s.names));
  const x86 = names(dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'x64', kernelVersion: KERNEL }));
  const arm = names(dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'arm64', kernelVersion: KERNEL }));
  assert.ok(x86.has('arch_prctl') && x86.has('modify_ldt'));
  assert.ok(!x86.has('arm_fadvise64_64') && !x86.has('s390_runtime_instr'));
  assert.ok(arm.has('arm_fadvise64_64') && arm.has('set_tls'));
  assert.ok(!arm.has('arch_prctl') && !arm.has('modify_ldt'));
});

test('on aarch64 the same profile compiles against the arm64 table', () => {
  const spec = dockerDefaultSeccomp(DOCKER_CAPS, { arch: 'arm64', kernelVersion: KERNEL });
  const { program } = compileSeccomp(spec, { arch: 'arm64' });
  checkFilter(program);
  const v = (name: string, args: number[] = []): number => runFilter(program, { nr: SYSCALLS_AARCH64.get(name) ?? -1, arch: ARCH.AARCH64, args });
  assert.equal(v('openat'), RET.ALLOW);
  assert.equal(v('clone3'), ENOSYS);
  assert.equal(v('clone', [CLONE_NEWUSER]), EPERM);
  assert.equal(v('clone', [SIGCHLD]), RET.ALLOW);
  assert.equal(v('keyctl'), EPERM);
  assert.equal(runFilter(program, { nr: 470, arch: ARCH.AARCH64 }), ENOSYS);
  // 32-bit ARM: berth has no table, so every call gets the default.
  assert.equal(runFilter(program, { nr: 5, arch: ARCH.ARM }), EPERM);
  for (const [name, nr] of SYSCALLS_AARCH64) {
    for (const args of [[], [BigInt(CLONE_NEWUSER)]]) {
      assert.equal(runFilter(program, { nr, arch: ARCH.AARCH64, args }), expectedVerdict(spec, { nr, arch: ARCH.AARCH64, args }, AARCH64), name);
    }
  }
});

test('the compiled profile fits the kernel easily and passes its load-time checks', () => {
  for (const caps of [DOCKER_CAPS, [...DOCKER_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'], []]) {
    const { program } = filter(caps);
    checkFilter(program);
    const insns = program.length / 8;
    // ~740 today for x86_64 + x86 + x32; the bound guards against a layout
    // regression, far below 4096.
    assert.ok(insns < 1200, `${insns} instructions`);
  }
});

test('every x86_64, i386 and x32 syscall gets the verdict the resolved profile prescribes', () => {
  for (const caps of [DOCKER_CAPS, [...DOCKER_CAPS, 'CAP_SYS_ADMIN']]) {
    const { spec, program } = filter(caps);
    const tables: [string, ReadonlyMap<string, number>, number][] = [
      ['x86_64', SYSCALLS_X86_64, ARCH.X86_64], ['i386', SYSCALLS_I386, ARCH.I386], ['x32', SYSCALLS_X32, ARCH.X86_64],
    ];
    for (const [abi, table, arch] of tables) {
      const numbers = [...table].concat([['(470)', abi === 'x32' ? 0x40000000 + 470 : 470], ['(1000)', abi === 'x32' ? 0x40000000 + 1000 : 1000]]);
      for (const [name, nr] of numbers) {
        for (const args of [[], [1n, 2n, 3n], [0xffffffffn], [40n], [BigInt(CLONE_NEWUSER)]]) {
          const want = expectedVerdict(spec, { nr, arch, args });
          assert.equal(runFilter(program, { nr, arch, args }), want, `${abi} ${name}(${args.join(', ')})`);
        }
      }
    }
  }
});
