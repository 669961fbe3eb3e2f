// The seccomp compiler, checked through the BPF interpreter: every assertion
// is the verdict the kernel would return for a call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeccomp, X32_SYSCALL_BIT } from '../../src/runtime/seccomp/compile.js';
import { checkFilter, runFilter } from '../../src/runtime/seccomp/bpf-interpreter.js';
import { SYSCALLS_X86_64 } from '../../src/runtime/seccomp/syscalls-x86_64.js';
import { SYSCALLS_AARCH64 } from '../../src/runtime/seccomp/syscalls-aarch64.js';
import { SYSCALLS_I386 } from '../../src/runtime/seccomp/syscalls-i386.js';
import { SYSCALLS_X32 } from '../../src/runtime/seccomp/syscalls-x32.js';
import type { LinuxSeccomp, LinuxSeccompInput, LinuxSyscallInput } from '../../src/runtime/seccomp/types.js';
import { BerthError } from '../../src/util/errors.js';
import { AARCH64, ARCH, ENOSYS, RET, compare, errno, expectedVerdict, prng } from './seccomp-reference.js';

const nrIn = (table: ReadonlyMap<string, number>) => (name: string): number => {
  const nr = table.get(name);
  if (nr === undefined) throw new Error(`no syscall ${name}`);
  return nr;
};
const NR = nrIn(SYSCALLS_X86_64);
const I386 = nrIn(SYSCALLS_I386);
const X32 = nrIn(SYSCALLS_X32);
const X86_ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

function run(spec: LinuxSeccompInput, nr: number, args: readonly (number | bigint)[] = [], arch: number = ARCH.X86_64): number {
  const { program } = compileSeccomp(spec, { arch: 'x64' });
  return runFilter(program, { nr, arch, args });
}

function rejects(spec: unknown, message: string): void {
  assert.throws(() => compileSeccomp(spec as LinuxSeccompInput, { arch: 'x64' }), (err: unknown) => {
    assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
    assert.equal(err.kind, 'invalid');
    assert.equal(err.message, message);
    return true;
  });
}

test('syscall tables are generated from the kernel headers', () => {
  assert.equal(SYSCALLS_X86_64.get('read'), 0);
  assert.equal(SYSCALLS_X86_64.get('write'), 1);
  assert.equal(SYSCALLS_X86_64.get('personality'), 135);
  assert.equal(SYSCALLS_X86_64.get('exit_group'), 231);
  assert.equal(SYSCALLS_X86_64.get('keyctl'), 250);
  assert.equal(SYSCALLS_X86_64.get('clone3'), 435);
  assert.equal(SYSCALLS_AARCH64.get('openat'), 56);
  assert.equal(SYSCALLS_AARCH64.get('fstat'), 80);
  assert.equal(SYSCALLS_AARCH64.get('clone3'), 435);
  assert.equal(SYSCALLS_AARCH64.has('open'), false);
  assert.equal(SYSCALLS_AARCH64.has('arch_specific_syscall'), false);
  // i386: its own numbers, with the socketcall/ipc multiplexers and the
  // direct socket calls added in 4.3.
  assert.equal(SYSCALLS_I386.get('read'), 3);
  assert.equal(SYSCALLS_I386.get('getpid'), 20);
  assert.equal(SYSCALLS_I386.get('socketcall'), 102);
  assert.equal(SYSCALLS_I386.get('ipc'), 117);
  assert.equal(SYSCALLS_I386.get('keyctl'), 288);
  assert.equal(SYSCALLS_I386.get('socket'), 359);
  assert.equal(SYSCALLS_I386.has('semop'), false);
  // x32: the numbers carry bit 30, and the x32-specific ones sit at 512-547.
  assert.equal(SYSCALLS_X32.get('read'), 0x40000000);
  assert.equal(SYSCALLS_X32.get('getpid'), 0x40000000 + 39);
  assert.equal(SYSCALLS_X32.get('execve'), 0x40000000 + 520);
  assert.equal(SYSCALLS_X32.get('rt_sigaction'), 0x40000000 + 512);
  assert.equal(SYSCALLS_X32.get('pwritev2'), 0x40000000 + 547);
  for (const nr of SYSCALLS_X32.values()) assert.ok(nr >= 0x40000000 && nr < 0x40000000 + 548, `x32 ${nr}`);
});

test('syscalls newer than the build headers are in the tables, with the kernel\'s numbers', () => {
  const common: [string, number][] = [
    ['cachestat', 451], ['fchmodat2', 452], ['map_shadow_stack', 453], ['futex_wake', 454], ['futex_wait', 455],
    ['futex_requeue', 456], ['statmount', 457], ['listmount', 458], ['lsm_get_self_attr', 459], ['lsm_set_self_attr', 460],
    ['lsm_list_modules', 461], ['mseal', 462], ['setxattrat', 463], ['getxattrat', 464], ['listxattrat', 465],
    ['removexattrat', 466], ['open_tree_attr', 467], ['file_getattr', 468], ['file_setattr', 469],
  ];
  for (const [name, nr] of common) {
    assert.equal(SYSCALLS_X86_64.get(name), nr, `x86_64 ${name}`);
    assert.equal(SYSCALLS_AARCH64.get(name), nr, `aarch64 ${name}`);
    assert.equal(SYSCALLS_I386.get(name), nr, `i386 ${name}`);
    assert.equal(SYSCALLS_X32.get(name), 0x40000000 + nr, `x32 ${name}`);
  }
  // x86_64 and x32 only.
  assert.equal(SYSCALLS_X86_64.get('uretprobe'), 335);
  assert.equal(SYSCALLS_X86_64.get('uprobe'), 336);
  assert.equal(SYSCALLS_X32.get('uretprobe'), 0x40000000 + 335);
  assert.equal(SYSCALLS_I386.has('uretprobe'), false);
  assert.equal(SYSCALLS_AARCH64.has('uretprobe'), false);
  // Nothing after Linux 6.18 (listns is 470 from 6.19 on).
  for (const table of [SYSCALLS_X86_64, SYSCALLS_AARCH64, SYSCALLS_I386]) {
    assert.ok(Math.max(...[...table.values()].filter((nr) => nr < 512)) === 469);
  }
});

test('the default action applies to calls no rule names, with defaultErrnoRet or EPERM', () => {
  const allowRead: LinuxSyscallInput[] = [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }];
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls: allowRead }, NR('getpid')), 0x0005000d);
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: allowRead }, NR('getpid')), errno(1));
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: allowRead }, NR('read')), RET.ALLOW);
  assert.equal(run({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: allowRead }, NR('getpid')), RET.KILL_PROCESS);
  // Numbers beyond every known syscall fall to the default too when no
  // `architectures` are listed (no ENOSYS then, as with runc).
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: allowRead }, 0x3fffffff), errno(1));
  assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW' }, NR('getpid')), RET.ALLOW);
});

test('each action becomes its kernel return value', () => {
  const cases: [LinuxSyscallInput, number][] = [
    [{ names: ['getpid'], action: 'SCMP_ACT_KILL' }, RET.KILL_THREAD],
    [{ names: ['getpid'], action: 'SCMP_ACT_KILL_THREAD' }, RET.KILL_THREAD],
    [{ names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' }, RET.KILL_PROCESS],
    [{ names: ['getpid'], action: 'SCMP_ACT_TRAP' }, RET.TRAP],
    [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }, errno(38)],
    [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 0 }, errno(0)],
    [{ names: ['getpid'], action: 'SCMP_ACT_TRACE', errnoRet: 1234 }, RET.TRACE | 1234],
    [{ names: ['getpid'], action: 'SCMP_ACT_TRACE' }, RET.TRACE | 1],
    [{ names: ['getpid'], action: 'SCMP_ACT_LOG' }, RET.LOG],
  ];
  for (const [rule, expected] of cases) {
    assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule] }, NR('getpid')), expected >>> 0, JSON.stringify(rule));
    assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule] }, NR('getppid')), RET.ALLOW);
  }
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] }, NR('getpid')), RET.ALLOW);
});

test("a rule's SCMP_ACT_ERRNO without errnoRet is EPERM, not defaultErrnoRet (OCI spec)", () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_ALLOW' }],
  };
  assert.equal(run(spec, NR('getpid')), errno(1));
  assert.equal(run(spec, NR('getppid')), errno(38));
});

test('flags map to seccomp(2) flag bits', () => {
  const flags = (f: string[]): number => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: f }, { arch: 'x64' }).flags;
  assert.equal(flags([]), 0);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_TSYNC']), 1);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_LOG']), 2);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']), 4);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC']), 7);
});

// Values around the 32-bit boundary, where a comparison that looks at one
// word only would go wrong.
const EDGE: bigint[] = [
  0n, 1n, 5n, 6n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn,
  0x100000000n, 0x100000004n, 0x100000005n, 0x100000006n, 0x1ffffffffn, 0x200000000n, 0x200000005n,
  0xffffffff00000000n, 0xffffffff00000005n, 0xfffffffffffffffen, 0xffffffffffffffffn,
];
const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'] as const;

test('each comparison operator is a 64-bit unsigned comparison, on every argument index', () => {
  let checked = 0;
  for (const op of OPS) {
    for (const value of [5n, 0xffffffffn, 0x100000005n, 0xffffffff00000000n]) {
      for (const index of [0, 3, 5]) {
        const spec: LinuxSeccompInput = {
          defaultAction: 'SCMP_ACT_ERRNO',
          syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index, value, op }] }],
        };
        const { program } = compileSeccomp(spec, { arch: 'x64' });
        for (const arg of EDGE) {
          // The other arguments hold a value that would pass, to catch a wrong offset.
          const args = [arg, arg, arg, arg, arg, arg].map((a, i) => (i === index ? a : value));
          const expected = compare(op, arg, value, 0n) ? RET.ALLOW : errno(1);
          assert.equal(runFilter(program, { nr: NR('getpid'), arch: ARCH.X86_64, args }), expected,
            `${op} args[${index}]=0x${arg.toString(16)} against 0x${value.toString(16)}`);
          checked++;
        }
      }
    }
  }
  assert.equal(checked, OPS.length * 4 * 3 * EDGE.length);
});

test('high words decide 64-bit comparisons (hand-picked cases)', () => {
  const spec = (op: string, value: bigint): LinuxSeccompInput => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op }] }],
  });
  const ok = (op: string, value: bigint, arg: bigint): boolean => run(spec(op, value), NR('getpid'), [arg]) === RET.ALLOW;
  assert.equal(ok('SCMP_CMP_GT', 0x100000005n, 0x200000000n), true);   // high word larger, low word smaller
  assert.equal(ok('SCMP_CMP_GT', 0x100000005n, 0x6n), false);          // low word larger, high word smaller
  assert.equal(ok('SCMP_CMP_LT', 0x100000005n, 0xffffffffn), true);
  assert.equal(ok('SCMP_CMP_LT', 0x100000005n, 0x200000000n), false);
  assert.equal(ok('SCMP_CMP_EQ', 5n, 0x100000005n), false);            // same low word only
  assert.equal(ok('SCMP_CMP_NE', 5n, 0x100000005n), true);
  assert.equal(ok('SCMP_CMP_EQ', 0xffffffffffffffffn, 0xffffffffffffffffn), true);
  assert.equal(ok('SCMP_CMP_LE', 0xffffffffffffffffn, 0xffffffffffffffffn), true);
  assert.equal(ok('SCMP_CMP_GE', 0n, 0n), true);
});

test('SCMP_CMP_MASKED_EQ compares (arg & value) with valueTwo in both words', () => {
  const cases: [bigint, bigint][] = [
    [0xff00000000000000n, 0x1200000000000000n],  // high word only
    [0xff00ff00n, 0x00001200n],                     // low word only
    [0xf0000000000000f0n, 0x1000000000000020n],     // both words
    [0x7e020000n, 0n],                              // Docker's clone rule: no namespace flags
    [0n, 0x100000000n],                             // impossible: zero mask, non-zero expected high word
  ];
  for (const [mask, expected] of cases) {
    const spec: LinuxSeccompInput = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: mask, valueTwo: expected, op: 'SCMP_CMP_MASKED_EQ' }] }],
    };
    const { program } = compileSeccomp(spec, { arch: 'x64' });
    const samples = [...EDGE, expected, expected | 1n, expected | 0x100000000n, 0x1234567812345678n, 0x1200000000001200n, 0x10000000000000f0n & 0xffffffffffffffffn, 0x1000000000000020n];
    for (const arg of samples) {
      const want = (arg & mask) === expected ? RET.ALLOW : errno(1);
      assert.equal(runFilter(program, { nr: NR('getpid'), arch: ARCH.X86_64, args: [0n, 0n, arg] }), want,
        `mask 0x${mask.toString(16)} == 0x${expected.toString(16)} for 0x${arg.toString(16)}`);
    }
  }
  // A concrete pair: the high byte must be 0x12.
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xff00000000000000n, valueTwo: 0x1200000000000000n, op: 'SCMP_CMP_MASKED_EQ' }] }],
  };
  assert.equal(run(spec, NR('getpid'), [0x123456789abcdef0n]), RET.ALLOW);
  assert.equal(run(spec, NR('getpid'), [0x133456789abcdef0n]), errno(1));
  assert.equal(run(spec, NR('getpid'), [0x12n]), errno(1));
});

test('conditions on different arguments are ANDed', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [
      { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
      { index: 1, value: 9, op: 'SCMP_CMP_NE' },
    ] }],
  };
  assert.equal(run(spec, NR('kill'), [1, 15]), RET.ALLOW);
  assert.equal(run(spec, NR('kill'), [1, 9]), errno(1));
  assert.equal(run(spec, NR('kill'), [2, 15]), errno(1));
});

test('two conditions on the same argument are ORed, as runc does', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [
      { index: 1, value: 9, op: 'SCMP_CMP_EQ' },
      { index: 1, value: 15, op: 'SCMP_CMP_EQ' },
    ] }],
  };
  assert.equal(run(spec, NR('kill'), [0, 9]), RET.ALLOW);
  assert.equal(run(spec, NR('kill'), [0, 15]), RET.ALLOW);
  assert.equal(run(spec, NR('kill'), [0, 2]), errno(1));
});

test('rules for one syscall are tried in order; the first match decides', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, args: [{ index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 6, args: [{ index: 1, value: 1, op: 'SCMP_CMP_GE' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 7, args: [{ index: 1, value: 100, op: 'SCMP_CMP_GE' }] },
    ],
  };
  assert.equal(run(spec, NR('ioctl'), [0, 1]), errno(5));
  assert.equal(run(spec, NR('ioctl'), [0, 2]), errno(6));
  assert.equal(run(spec, NR('ioctl'), [0, 200]), errno(6)); // rule 3 is shadowed by rule 2
  assert.equal(run(spec, NR('ioctl'), [0, 0]), RET.ALLOW);
});

test('an unconditional rule after conditional ones is the fallback for that syscall', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 25, args: [{ index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ioctl'], action: 'SCMP_ACT_KILL' },
    ],
  };
  assert.equal(run(spec, NR('ioctl'), [0, 0x5401]), errno(25));
  assert.equal(run(spec, NR('ioctl'), [0, 0x5402]), RET.ALLOW);
});

test('a rule with the default action is dropped, as runc drops it', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
    ],
  };
  assert.equal(run(spec, NR('getpid'), [1]), RET.ALLOW);
});

test('syscall names unknown to this architecture are skipped', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['no_such_syscall', 'chown32', 'getpid'], action: 'SCMP_ACT_ALLOW' }],
  };
  assert.equal(run(spec, NR('getpid')), RET.ALLOW);
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['only_on_s390'], action: 'SCMP_ACT_ALLOW' }] }, NR('getpid')), errno(1));
});

test('architecture: native always filtered, listed companions by their own numbers, others killed', () => {
  const rules: LinuxSyscallInput[] = [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }];
  const listed: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ERRNO', architectures: X86_ARCHES, syscalls: rules };
  const nativeOnly: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: rules };
  const none: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: rules };
  const x86Only: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], syscalls: rules };
  // i386 getpid is 20; x86_64's getpid number, 39, is i386 mkdir.
  assert.equal(run(listed, I386('getpid'), [], ARCH.I386), RET.ALLOW);
  assert.equal(run(listed, I386('read'), [], ARCH.I386), errno(1));
  assert.equal(run(listed, NR('getpid'), [], ARCH.I386), ENOSYS);  // above 20, the profile's i386 limit
  assert.equal(run(x86Only, I386('getpid'), [], ARCH.I386), RET.ALLOW);
  assert.equal(run(nativeOnly, I386('getpid'), [], ARCH.I386), RET.KILL_PROCESS);
  assert.equal(run(none, I386('getpid'), [], ARCH.I386), RET.KILL_PROCESS);
  for (const spec of [listed, nativeOnly, none, x86Only]) {
    assert.equal(run(spec, NR('getpid'), [], ARCH.AARCH64), RET.KILL_PROCESS);
    assert.equal(run(spec, NR('getpid'), [], 0), RET.KILL_PROCESS);
    // The native convention is filtered even when not listed (libseccomp always has it).
    assert.equal(run(spec, NR('getpid')), RET.ALLOW);
    assert.equal(run(spec, NR('read')), errno(1));
  }
  // Arches this kernel cannot run are accepted and need no check.
  assert.equal(run({ ...none, architectures: ['SCMP_ARCH_S390X'] }, NR('getpid')), RET.ALLOW);
});

test('i386 deny rules hold: a permissive default no longer lets 32-bit programs past them', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['keyctl', 'add_key'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_NE' }] },
    ],
  };
  assert.equal(run(spec, I386('keyctl'), [], ARCH.I386), errno(13));
  assert.equal(run(spec, I386('add_key'), [], ARCH.I386), errno(13));
  assert.equal(run(spec, NR('keyctl'), [], ARCH.I386), RET.ALLOW);   // 250 is madvise on i386
  assert.equal(run(spec, I386('personality'), [8], ARCH.I386), errno(1));
  assert.equal(run(spec, I386('personality'), [0xffffffff], ARCH.I386), RET.ALLOW);
  assert.equal(run(spec, I386('read'), [], ARCH.I386), RET.ALLOW);
});

test('i386: a socket or SysV IPC rule also covers socketcall(2) and ipc(2), as libseccomp makes it', () => {
  const deny: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ALLOW', architectures: X86_ARCHES,
    syscalls: [{ names: ['socket', 'semop', 'shmat'], action: 'SCMP_ACT_ERRNO', errnoRet: 97 }],
  };
  const socketcall = I386('socketcall');
  const ipc = I386('ipc');
  assert.equal(run(deny, I386('socket'), [2, 1, 0], ARCH.I386), errno(97));
  assert.equal(run(deny, socketcall, [1 /* SYS_SOCKET */, 0xffd0], ARCH.I386), errno(97));
  assert.equal(run(deny, socketcall, [3 /* SYS_CONNECT */, 0xffd0], ARCH.I386), RET.ALLOW);
  assert.equal(run(deny, ipc, [1 /* SEMOP */], ARCH.I386), errno(97));      // i386 has no direct semop
  assert.equal(run(deny, ipc, [21 /* SHMAT */], ARCH.I386), errno(97));
  assert.equal(run(deny, I386('shmat'), [], ARCH.I386), errno(97));
  assert.equal(run(deny, ipc, [2 /* SEMGET */], ARCH.I386), RET.ALLOW);
  // x86_64 has no multiplexer: socket is just socket.
  assert.equal(run(deny, NR('socket')), errno(97));
  assert.equal(run(deny, X32('socket')), errno(97));

  // libseccomp replaces the rule's own args[0] condition with the selector:
  // socketcall(SYS_SOCKET, …) cannot see the family, so the rule takes it whole.
  const vsock: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ALLOW', architectures: X86_ARCHES,
    syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }, { index: 2, value: 0, op: 'SCMP_CMP_EQ' }] }],
  };
  assert.equal(run(vsock, I386('socket'), [40, 1, 0], ARCH.I386), errno(1));
  assert.equal(run(vsock, I386('socket'), [2, 1, 0], ARCH.I386), RET.ALLOW);
  assert.equal(run(vsock, socketcall, [1, 0xffd0, 0], ARCH.I386), errno(1));   // args[2] of socketcall: kept
  assert.equal(run(vsock, socketcall, [1, 0xffd0, 5], ARCH.I386), RET.ALLOW);
});

test('x32 calls (bit 30 of nr) are filtered by the x32 table when SCMP_ARCH_X32 is listed, else killed', () => {
  const rules: LinuxSyscallInput[] = [{ names: ['getpid', 'execve'], action: 'SCMP_ACT_ALLOW' }];
  const x32getpid = (X32_SYSCALL_BIT | 39) >>> 0;
  assert.equal(x32getpid, X32('getpid'));
  const listed: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'], syscalls: rules };
  assert.equal(run(listed, x32getpid), RET.ALLOW);
  assert.equal(run(listed, X32('execve')), RET.ALLOW);                      // x32's own execve, 520
  assert.equal(run(listed, (X32_SYSCALL_BIT | NR('execve')) >>> 0), errno(1)); // 59 is not an x32 call
  assert.equal(run(listed, X32('getppid')), errno(1));
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: rules }, x32getpid), RET.KILL_PROCESS);
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: rules }, 0xffffffff), RET.KILL_PROCESS);
  // Deny rules hold for x32 too.
  const deny: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_KILL' }] };
  assert.equal(run(deny, NR('getpid')), RET.KILL_THREAD);
  assert.equal(run(deny, x32getpid), RET.KILL_THREAD);
  assert.equal(run(deny, X32('getppid')), RET.ALLOW);
});

test('aarch64: its own table and audit arch, no x32 rule; arm gets the default (no table)', () => {
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [{ names: ['openat', 'open'], action: 'SCMP_ACT_ALLOW' }],
  };
  const { program } = compileSeccomp(spec, { arch: 'arm64' });
  const v = (nr: number, arch: number = ARCH.AARCH64): number => runFilter(program, { nr, arch });
  assert.equal(v(56), RET.ALLOW);                 // openat on arm64
  assert.equal(v(2), errno(1));                   // x86_64's open number means io_submit here
  assert.equal(v(56, ARCH.ARM), errno(1));        // listed companion without a table: default
  assert.equal(v(470, ARCH.ARM), errno(1));       // … and no ENOSYS there
  assert.equal(v(56, ARCH.X86_64), RET.KILL_PROCESS);
  assert.equal(v(0x40000000 | 56), ENOSYS);       // bit 30 means nothing special on arm64: just a big number
  const withoutArm = compileSeccomp({ ...spec, architectures: ['SCMP_ARCH_AARCH64'] }, { arch: 'arm64' }).program;
  assert.equal(runFilter(withoutArm, { nr: 56, arch: ARCH.ARM }), RET.KILL_PROCESS);
});

test('ENOSYS above the highest syscall the profile names, as runc\'s stub does', () => {
  const allow = (names: string[]): LinuxSyscallInput => ({ names, action: 'SCMP_ACT_ALLOW' });
  const spec: LinuxSeccompInput = {
    defaultAction: 'SCMP_ACT_ERRNO', architectures: X86_ARCHES,
    syscalls: [allow(['read', 'write', 'openat', 'not_a_syscall'])],
  };
  // x86_64: openat (257) is the highest.
  assert.equal(run(spec, NR('openat')), RET.ALLOW);
  assert.equal(run(spec, NR('kexec_load')), errno(1));   // 246: older, not listed
  assert.equal(run(spec, 258), ENOSYS);
  assert.equal(run(spec, NR('mseal')), ENOSYS);
  assert.equal(run(spec, 470), ENOSYS);
  assert.equal(run(spec, 0x3fffffff), ENOSYS);
  assert.equal(run(spec, 0x80000000), ENOSYS);
  // Each convention has its own limit: i386 openat is 295, x32's is 257 with bit 30.
  assert.equal(run(spec, 296, [], ARCH.I386), ENOSYS);
  assert.equal(run(spec, 290, [], ARCH.I386), errno(1));
  assert.equal(run(spec, (X32_SYSCALL_BIT | 258) >>> 0), ENOSYS);
  assert.equal(run(spec, (X32_SYSCALL_BIT | 200) >>> 0), errno(1));
  assert.equal(run(spec, 0xffffffff), ENOSYS);           // bit 30 set: x32, above its limit

  // Every named syscall counts, whatever its rule's action, even one equal to the default.
  const named: LinuxSeccompInput = { ...spec, syscalls: [allow(['read']), { names: ['mseal'], action: 'SCMP_ACT_ERRNO' }] };
  assert.equal(run(named, NR('mseal')), errno(1));
  assert.equal(run(named, NR('cachestat')), errno(1));
  assert.equal(run(named, 463), ENOSYS);
  // A rule above the limit cannot exist, but a multiplexer can: i386 socketcall
  // (102) above a limit of 3 (read) gets ENOSYS, as runc's stub comes first.
  const mux: LinuxSeccompInput = { ...spec, syscalls: [allow(['read', 'socket'])] };
  assert.equal(run(mux, I386('read'), [], ARCH.I386), RET.ALLOW);
  assert.equal(run(mux, I386('socketcall'), [1], ARCH.I386), ENOSYS);
  assert.equal(run(mux, I386('socket'), [2], ARCH.I386), ENOSYS);
  assert.equal(run(mux, NR('socket')), RET.ALLOW);

  // Non-permissive defaults get it; ALLOW, LOG and TRACE do not.
  for (const [defaultAction, beyond] of [
    ['SCMP_ACT_KILL_PROCESS', ENOSYS], ['SCMP_ACT_KILL', ENOSYS], ['SCMP_ACT_TRAP', ENOSYS],
    ['SCMP_ACT_ALLOW', RET.ALLOW], ['SCMP_ACT_LOG', RET.LOG], ['SCMP_ACT_TRACE', RET.TRACE | 1],
  ] as const) {
    const s: LinuxSeccompInput = { defaultAction, architectures: X86_ARCHES, syscalls: [{ names: ['openat'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }] };
    assert.equal(run(s, 470), beyond >>> 0, defaultAction);
    assert.equal(run(s, NR('openat')), errno(5), defaultAction);
  }
  // Only the listed conventions: none listed, none stubbed; native unlisted, native not stubbed.
  assert.equal(run({ ...spec, architectures: [] }, 470), errno(1));
  assert.equal(run({ ...spec, architectures: ['SCMP_ARCH_X86'] }, 470), errno(1));
  assert.equal(run({ ...spec, architectures: ['SCMP_ARCH_X86'] }, 470, [], ARCH.I386), ENOSYS);
  // runc takes a highest number of 0 for "none found": a profile of read alone has no stub.
  assert.equal(run({ ...spec, syscalls: [allow(['read'])] }, 470), errno(1));
  assert.equal(run({ ...spec, syscalls: [allow(['read'])] }, 470, [], ARCH.I386), ENOSYS);  // i386 read is 3
  // A profile with no syscall the table knows: no stub either.
  assert.equal(run({ ...spec, syscalls: [allow(['not_a_syscall'])] }, 470), errno(1));
  // defaultErrnoRet ENOSYS: the same answer either way.
  assert.equal(run({ ...spec, defaultErrnoRet: 38 }, NR('kexec_load')), ENOSYS);
});

test('a program far larger than 255 instructions keeps every jump in range', () => {
  // One conditional rule per syscall: ~360 blocks, so the search tree must
  // skip subtrees of thousands of instructions.
  const syscalls: LinuxSyscallInput[] = [...SYSCALLS_X86_64].map(([name, nr]) => ({
    names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: (nr % 4000) + 1, args: [{ index: 0, value: nr, op: 'SCMP_CMP_EQ' }],
  }));
  const spec: LinuxSeccompInput = { defaultAction: 'SCMP_ACT_ALLOW', syscalls };
  const { program } = compileSeccomp(spec, { arch: 'x64' });
  checkFilter(program);
  const insns = program.length / 8;
  assert.ok(insns > 2000 && insns <= 4096, `${insns} instructions`);
  let longJumps = 0;
  for (let off = 0; off < program.length; off += 8) if (program.readUInt16LE(off) === 0x05) longJumps++;
  assert.ok(longJumps > 0, 'expected JA trampolines');
  for (const [name, nr] of SYSCALLS_X86_64) {
    assert.equal(runFilter(program, { nr, arch: ARCH.X86_64, args: [nr] }), errno((nr % 4000) + 1), name);
    assert.equal(runFilter(program, { nr, arch: ARCH.X86_64, args: [nr + 1] }), RET.ALLOW, name);
    assert.equal(runFilter(program, { nr, arch: ARCH.X86_64, args: [BigInt(nr) + (1n << 32n)] }), RET.ALLOW, name);
  }
});

test('a filter over the kernel limit of 4096 instructions is refused with a message', () => {
  const syscalls: LinuxSyscallInput[] = [...SYSCALLS_X86_64.keys()].map((name) => ({
    names: [name], action: 'SCMP_ACT_ERRNO', args: [
      { index: 0, value: 1, op: 'SCMP_CMP_GT' }, { index: 1, value: 1, op: 'SCMP_CMP_LT' }, { index: 2, value: 1, op: 'SCMP_CMP_NE' },
    ],
  }));
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }, { arch: 'x64' }),
    (err: unknown) => err instanceof BerthError && /^linux\.seccomp: the filter needs \d+ BPF instructions, more than the kernel's limit of 4096$/.test(err.message));
});

test('random profiles decide exactly as the reference model', () => {
  const rand = prng(20240611);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const pool = ['read', 'write', 'ioctl', 'getpid', 'kill', 'clone', 'socket', 'personality', 'mmap', 'futex', 'not_a_syscall',
    'connect', 'semop', 'shmat', 'socketcall', 'ipc', 'execve', 'rt_sigaction', 'mseal', 'pwritev2', 'chown32'];
  const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'];
  const values = [0n, 1n, 2n, 3n, 21n, 40n, 0xffffffffn, 0x100000000n, 0x100000001n, 0xffffffffffffffffn, 0x7e020000n];
  const ops = [...OPS, 'SCMP_CMP_MASKED_EQ'];
  let calls = 0;
  for (let round = 0; round < 150; round++) {
    const syscalls: LinuxSyscallInput[] = [];
    const n = 1 + Math.floor(rand() * 12);
    for (let i = 0; i < n; i++) {
      const action = pick(actions);
      const withErrno = (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') && rand() < 0.7;
      const nargs = Math.floor(rand() * 4);
      syscalls.push({
        names: [pick(pool), ...(rand() < 0.3 ? [pick(pool)] : [])],
        action,
        ...(withErrno ? { errnoRet: pick([1, 2, 38, 4095]) } : {}),
        args: Array.from({ length: nargs }, () => ({ index: Math.floor(rand() * 3), value: pick(values), valueTwo: pick(values), op: pick(ops) })),
      });
    }
    const spec: LinuxSeccompInput = {
      defaultAction: pick(actions),
      architectures: pick([[], ['SCMP_ARCH_X86_64'], X86_ARCHES, X86_ARCHES, ['SCMP_ARCH_X86'], ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']]),
      syscalls,
    };
    const { program } = compileSeccomp(spec, { arch: 'x64' });
    for (let k = 0; k < 40; k++) {
      const name = pick(pool);
      // Mostly x86_64, some i386 and x32 calls by their own numbers, some
      // numbers no table has (ENOSYS territory).
      const abi = rand();
      const arch = abi < 0.2 ? ARCH.I386 : ARCH.X86_64;
      const table = abi < 0.2 ? SYSCALLS_I386 : abi < 0.35 ? SYSCALLS_X32 : SYSCALLS_X86_64;
      const base = table === SYSCALLS_X32 ? X32_SYSCALL_BIT : 0;
      const nr = rand() < 0.1 ? (base | pick([470, 600, 1000, 0x3fffffff])) >>> 0 : table.get(name) ?? (base | 1000) >>> 0;
      const args = [pick(values), pick(values), pick(values)];
      const got = runFilter(program, { nr, arch, args });
      const want = expectedVerdict(spec, { nr, arch, args });
      assert.equal(got, want, `round ${round}, ${name}(${args.join(', ')}) nr 0x${nr.toString(16)} arch 0x${arch.toString(16)}\n${JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`);
      calls++;
    }
  }
  assert.equal(calls, 150 * 40);
});

test('random profiles on aarch64 decide exactly as the reference model', () => {
  const rand = prng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const pool = ['read', 'openat', 'open', 'ioctl', 'getpid', 'clone', 'socket', 'mseal', 'set_tls', 'not_a_syscall'];
  const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG'];
  for (let round = 0; round < 60; round++) {
    const spec: LinuxSeccompInput = {
      defaultAction: pick(actions),
      architectures: pick([[], ['SCMP_ARCH_AARCH64'], ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'], ['SCMP_ARCH_ARM']]),
      syscalls: Array.from({ length: 1 + Math.floor(rand() * 6) }, () => ({
        names: [pick(pool)], action: pick(actions),
        args: rand() < 0.3 ? [{ index: 0, value: pick([0, 1, 40]), op: pick(OPS) }] : [],
      })),
    };
    const { program } = compileSeccomp(spec, { arch: 'arm64' });
    for (let k = 0; k < 30; k++) {
      const arch = rand() < 0.2 ? ARCH.ARM : ARCH.AARCH64;
      const nr = rand() < 0.15 ? pick([470, 1000, 0x40000038]) : SYSCALLS_AARCH64.get(pick(pool)) ?? 999;
      const args = [BigInt(pick([0, 1, 40, 41]))];
      assert.equal(runFilter(program, { nr, arch, args }), expectedVerdict(spec, { nr, arch, args }, AARCH64),
        `round ${round} nr ${nr} arch 0x${arch.toString(16)} ${JSON.stringify(spec)}`);
    }
  }
});

test('bigint argument values are accepted; inexact JSON numbers are not', () => {
  const spec = (value: number | bigint): LinuxSeccompInput => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] }],
  });
  assert.equal(run(spec(0xffffffffffffffffn), NR('getpid'), [-1n]), RET.ALLOW);
  assert.equal(run(spec(0xffffffffffffffffn), NR('getpid'), [0xffffffffn]), errno(1));
  rejects(spec(2 ** 60), 'linux.seccomp.syscalls[0].args[0].value: 1152921504606847000 is above 2^53 and not exact as a JSON number');
  rejects(spec(-1), 'linux.seccomp.syscalls[0].args[0].value: must be an unsigned 64-bit integer, got -1');
  rejects(spec(1.5), 'linux.seccomp.syscalls[0].args[0].value: must be an unsigned 64-bit integer, got 1.5');
  rejects(spec(1n << 64n), 'linux.seccomp.syscalls[0].args[0].value: must be an unsigned 64-bit integer, got 18446744073709551616');
});

test('malformed specs are refused with a message naming the field', () => {
  const ok: LinuxSyscallInput = { names: ['read'], action: 'SCMP_ACT_ALLOW' };
  rejects({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [ok, ok, ok, { names: ['write'], action: 'SCMP_ACT_FOO' }] },
    'linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"');
  rejects({ defaultAction: 'ALLOW' }, 'linux.seccomp.defaultAction: unknown action "ALLOW"');
  rejects({}, 'linux.seccomp.defaultAction: missing (an SCMP_ACT_* action is required)');
  rejects({ defaultAction: 'SCMP_ACT_NOTIFY' }, 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY (user-space notification) is not supported by berth');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] },
    'linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY (user-space notification) is not supported by berth');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_FOO' }] }] },
    'linux.seccomp.syscalls[0].args[1].op: unknown operator "SCMP_CMP_FOO"');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
    'linux.seccomp.syscalls[0].args[0].index: must be an argument index from 0 to 5, got 6');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'] },
    'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] },
    'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] },
    'linux.seccomp.syscalls[0].names: must be a non-empty array of syscall names');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 7], action: 'SCMP_ACT_ERRNO' }] },
    'linux.seccomp.syscalls[0].names[1]: must be a syscall name, got 7');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: ['read'] }, 'linux.seccomp.syscalls[0]: must be an object');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: { names: ['read'] } }, 'linux.seccomp.syscalls: must be an array');
  rejects({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] },
    'linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 },
    'linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW');
  rejects({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 5000 },
    'linux.seccomp.defaultErrnoRet: must be an integer from 0 to 4095, got 5000');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }] },
    'linux.seccomp.syscalls[0].errnoRet: must be an integer from 0 to 4095, got -1');
  rejects({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] },
    'linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to SCMP_ACT_NOTIFY, which berth does not support');
  rejects(null, 'linux.seccomp: must be an object');
});

test('validation errors carry exit status 125; an unsupported host arch is a system error', () => {
  try {
    compileSeccomp({ defaultAction: 'SCMP_ACT_FOO' }, { arch: 'x64' });
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof BerthError);
    assert.equal(err.exitStatus, 125);
  }
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { arch: 'ppc64' }),
    (err: unknown) => err instanceof BerthError && err.kind === 'system' && /ppc64/.test(err.message));
});
