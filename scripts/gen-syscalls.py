#!/usr/bin/env python3
"""Generate berth's syscall name -> number tables from the kernel's UAPI headers.

A seccomp filter sees a system call only as a number (seccomp_data.nr), and
the numbers differ per ABI, so the compiler in src/runtime/seccomp/ needs one
table per ABI it filters. The kernel publishes them as C headers:

  x86_64   asm/unistd_64.h       plain `#define __NR_name N` lines
  i386     asm/unistd_32.h       the same, for 32-bit x86 programs on x86_64
  x32      asm/unistd_x32.h      `#define __NR_name (__X32_SYSCALL_BIT + N)`:
                                 the table keeps the bit (0x40000000), since
                                 seccomp_data.nr carries it
  aarch64  asm-generic/unistd.h  the generic table, with #if blocks chosen by
                                 the __ARCH_WANT_* macros arm64 defines and by
                                 __BITS_PER_LONG (64), and __NR3264_* numbers
                                 that 64-bit ABIs expose under the plain name

The headers of the machine that runs this script may be older than the
kernels berth runs on: SUPPLEMENT below adds, explicitly, the syscalls newer
than this machine's headers (Debian 12's linux-libc-dev 6.1 stops at 450).
A supplement entry the headers already have must agree with them.

Usage (from the repository root):
  python3 scripts/gen-syscalls.py [--x86-64 H] [--i386 H] [--x32 H] [--generic H]

Newer headers (e.g. from a kernel source tree's usr/include after
`make headers_install`) give newer syscalls; the output records which file
was used. No C compiler is needed: the few preprocessor conditions of the
generic header are evaluated here, and anything unexpected is an error rather
than a guess.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'src', 'runtime', 'seccomp')

# What arch/arm64/include/uapi/asm/unistd.h defines before including the
# generic header (kernel 5.x-6.x). __ARCH_WANT_SYNC_FILE_RANGE2 and
# __ARCH_NOMMU are not defined on arm64, __SYSCALL_COMPAT only for the
# kernel's own compat table.
AARCH64_MACROS = {
    '__ARCH_WANT_RENAMEAT',
    '__ARCH_WANT_NEW_STAT',
    '__ARCH_WANT_SET_GET_RLIMIT',
    '__ARCH_WANT_TIME32_SYSCALLS',
    '__ARCH_WANT_SYS_CLONE3',
    '__ARCH_WANT_MEMFD_SECRET',
}
BITS_PER_LONG = 64

X32_SYSCALL_BIT = 0x40000000

# Syscalls newer than this machine's headers, through Linux 6.18. Since
# Linux 5.1 a new syscall takes the same number on every architecture (x32:
# plus __X32_SYSCALL_BIT), so one number serves all four tables; ABIS says
# where it exists. Checked against the kernel's
# arch/x86/entry/syscalls/syscall_64.tbl and syscall_32.tbl,
# include/uapi/asm-generic/unistd.h and scripts/syscall.tbl, and the
# installed headers of 6.10, 6.18 and 6.19-rc1 (which adds listns, 470: after
# 6.18, left out).
ALL = ('x86_64', 'i386', 'x32', 'generic')
X86_64_X32 = ('x86_64', 'x32')   # syscall_64.tbl "common", not in syscall_32.tbl
SUPPLEMENT = [
    # name                 nr   ABIs        first kernel
    ('uretprobe',          335, X86_64_X32),  # 6.11
    ('uprobe',             336, X86_64_X32),  # 6.18
    ('cachestat',          451, ALL),         # 6.5
    ('fchmodat2',          452, ALL),         # 6.6
    ('map_shadow_stack',   453, ALL),         # 6.6; the number is reserved on every arch
                                              # (x86 shadow stacks; arm64 GCS since 6.13)
    ('futex_wake',         454, ALL),         # 6.7
    ('futex_wait',         455, ALL),         # 6.7
    ('futex_requeue',      456, ALL),         # 6.7
    ('statmount',          457, ALL),         # 6.8
    ('listmount',          458, ALL),         # 6.8
    ('lsm_get_self_attr',  459, ALL),         # 6.8
    ('lsm_set_self_attr',  460, ALL),         # 6.8
    ('lsm_list_modules',   461, ALL),         # 6.8
    ('mseal',              462, ALL),         # 6.10
    ('setxattrat',         463, ALL),         # 6.13
    ('getxattrat',         464, ALL),         # 6.13
    ('listxattrat',        465, ALL),         # 6.13
    ('removexattrat',      466, ALL),         # 6.13
    ('open_tree_attr',     467, ALL),         # 6.15
    ('file_getattr',       468, ALL),         # 6.17
    ('file_setattr',       469, ALL),         # 6.17
]

DEFINE = re.compile(r'^#define\s+(__NR(?:3264)?_\w+)\s+(\S+)\s*$')
X32_DEFINE = re.compile(r'^#define\s+__NR_(\w+)\s+\(__X32_SYSCALL_BIT\s*\+\s*(\d+)\)\s*$')


def parse_plain(path):
    """asm/unistd_64.h or asm/unistd_32.h: `#define __NR_name N` lines."""
    table = {}
    with open(path) as f:
        for line in f:
            m = DEFINE.match(line.strip())
            if m and m.group(1).startswith('__NR_'):
                table[m.group(1)[len('__NR_'):]] = int(m.group(2), 0)
    return table


def parse_x32(path):
    """asm/unistd_x32.h: every number is written (__X32_SYSCALL_BIT + N)."""
    table = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith('#define __NR_'):
                continue
            m = X32_DEFINE.match(line)
            if not m:
                raise SystemExit(f'gen-syscalls: unexpected x32 define {line!r}')
            table[m.group(1)] = X32_SYSCALL_BIT | int(m.group(2))
    return table


def supplement(table, abi):
    """Add SUPPLEMENT's entries for this ABI; headers that have one must agree."""
    base = X32_SYSCALL_BIT if abi == 'x32' else 0
    by_number = {nr: name for name, nr in table.items()}
    added = 0
    for name, nr, abis in SUPPLEMENT:
        if abi not in abis:
            if name in table:
                raise SystemExit(f'gen-syscalls: {abi} header has {name}, which SUPPLEMENT says it lacks')
            continue
        nr |= base
        if name in table:
            if table[name] != nr:
                raise SystemExit(f'gen-syscalls: {abi} {name} is {table[name]} in the header, {nr} in SUPPLEMENT')
            continue
        if nr in by_number:
            raise SystemExit(f'gen-syscalls: {abi} number {nr} is {by_number[nr]} in the header, {name} in SUPPLEMENT')
        table[name] = nr
        added += 1
    return added


def eval_condition(expr, defined):
    """Evaluate the small subset of #if expressions the generic header uses."""
    py = re.sub(r'defined\s*\(\s*(\w+)\s*\)', lambda m: str(m.group(1) in defined), expr)
    py = py.replace('__BITS_PER_LONG', str(BITS_PER_LONG))
    py = py.replace('||', ' or ').replace('&&', ' and ')
    py = re.sub(r'!(?!=)', ' not ', py)
    if not re.fullmatch(r'[\sA-Za-z0-9=!()]*', py) or re.search(r'\b(?!True\b|False\b|and\b|or\b|not\b)[A-Za-z_]\w*', py):
        raise SystemExit(f'gen-syscalls: cannot evaluate #if {expr!r}; update eval_condition')
    return bool(eval(py, {'__builtins__': {}}))  # noqa: S307 (checked above: only literals and operators)


def parse_generic(path, macros):
    defined = set(macros)
    values = {}          # every __NR* macro seen in an active region, unresolved
    stack = []           # (active_before, this_branch_taken, any_branch_taken)
    active = True
    with open(path) as f:
        for raw in f:
            line = raw.split('/*')[0].strip()
            if not line.startswith('#'):
                continue
            directive = line[1:].strip()
            word, _, rest = directive.partition(' ')
            rest = rest.strip()
            if word in ('if', 'ifdef', 'ifndef'):
                if word == 'ifdef':
                    cond = rest in defined
                elif word == 'ifndef':
                    cond = rest not in defined
                else:
                    cond = eval_condition(rest, defined)
                stack.append((active, cond))
                active = active and cond
            elif word == 'else':
                outer, taken = stack.pop()
                stack.append((outer, True))
                active = outer and not taken
            elif word == 'elif':
                raise SystemExit('gen-syscalls: #elif in the generic header; update parse_generic')
            elif word == 'endif':
                active, _ = stack.pop()
            elif not active:
                continue
            elif word == 'define':
                name, _, value = rest.partition(' ')
                defined.add(name)
                if name.startswith('__NR'):
                    values[name] = value.strip()
            elif word == 'undef':
                defined.discard(rest)
                values.pop(rest, None)
            elif word == 'include':
                pass  # asm/bitsperlong.h: BITS_PER_LONG is fixed above
            else:
                raise SystemExit(f'gen-syscalls: unexpected directive #{word}')
    if stack:
        raise SystemExit('gen-syscalls: unbalanced #if in the generic header')

    def resolve(name, seen=()):
        value = values[name]
        if value in values:
            if value in seen:
                raise SystemExit(f'gen-syscalls: circular define {name}')
            return resolve(value, seen + (name,))
        return int(value, 0)

    table = {}
    for name in values:
        # __NR_arch_specific_syscall marks where an architecture's own calls
        # begin (arm64 has none); it is not a syscall.
        if name.startswith('__NR_') and name not in ('__NR_syscalls', '__NR_arch_specific_syscall'):
            table[name[len('__NR_'):]] = resolve(name)
    return table


def emit(path, const, source, arch, table, added, note=''):
    rows = sorted(table.items(), key=lambda kv: (kv[1], kv[0]))
    fmt = (lambda nr: f'0x40000000 + {nr & ~X32_SYSCALL_BIT}') if arch == 'x32' else str
    body = '\n'.join(f"  ['{name}', {fmt(nr)}]," for name, nr in rows)
    extra = f'\n// {added} syscalls newer than that header come from SUPPLEMENT in the script.' if added else ''
    text = f"""// GENERATED by scripts/gen-syscalls.py from {source}. Do not edit by hand.{extra}
//
// System call numbers for the {arch} ABI: a seccomp filter sees a call only as
// seccomp_data.nr, so a profile's syscall names are turned into these numbers.
// A name missing here (a newer syscall than the table knows, or one of another
// architecture) is skipped by the compiler, as runc and crun do.{note}

export const {const}: ReadonlyMap<string, number> = new Map<string, number>([
{body}
]);
"""
    with open(path, 'w') as f:
        f.write(text)
    print(f'{os.path.relpath(path, ROOT)}: {len(rows)} syscalls ({added} from SUPPLEMENT)', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--x86-64', default='/usr/include/x86_64-linux-gnu/asm/unistd_64.h')
    ap.add_argument('--i386', default='/usr/include/x86_64-linux-gnu/asm/unistd_32.h')
    ap.add_argument('--x32', default='/usr/include/x86_64-linux-gnu/asm/unistd_x32.h')
    ap.add_argument('--generic', default='/usr/include/asm-generic/unistd.h')
    args = ap.parse_args()

    x86 = parse_plain(args.x86_64)
    if x86.get('read') != 0 or x86.get('exit_group') != 231:
        raise SystemExit(f'gen-syscalls: {args.x86_64} does not look like the x86_64 table')
    added = supplement(x86, 'x86_64')
    emit(os.path.join(OUT_DIR, 'syscalls-x86_64.ts'), 'SYSCALLS_X86_64', args.x86_64, 'x86_64', x86, added)

    i386 = parse_plain(args.i386)
    if i386.get('read') != 3 or i386.get('exit_group') != 252 or i386.get('socketcall') != 102 or i386.get('ipc') != 117:
        raise SystemExit(f'gen-syscalls: {args.i386} does not look like the i386 table')
    added = supplement(i386, 'i386')
    emit(os.path.join(OUT_DIR, 'syscalls-i386.ts'), 'SYSCALLS_I386', args.i386, 'i386', i386, added,
         '\n// socketcall (102) and ipc (117) multiplex the socket and SysV IPC calls;\n'
         '// compile.ts adds the multiplexed form of a rule on one of those, as\n'
         '// libseccomp does.')

    x32 = parse_x32(args.x32)
    if x32.get('read') != X32_SYSCALL_BIT or x32.get('execve') != X32_SYSCALL_BIT | 520 or 'rt_sigaction' not in x32 \
            or x32['rt_sigaction'] != X32_SYSCALL_BIT | 512:
        raise SystemExit(f'gen-syscalls: {args.x32} does not look like the x32 table')
    added = supplement(x32, 'x32')
    emit(os.path.join(OUT_DIR, 'syscalls-x32.ts'), 'SYSCALLS_X32', args.x32, 'x32', x32, added,
         '\n// x32 calls arrive with AUDIT_ARCH_X86_64 and __X32_SYSCALL_BIT (0x40000000)\n'
         '// set in seccomp_data.nr; the numbers here include it.')

    arm = parse_generic(args.generic, AARCH64_MACROS)
    # Spot checks against numbers fixed since arm64 was added: a wrong
    # condition in the header walk shows up as a shifted or missing entry.
    expected = {'io_setup': 0, 'openat': 56, 'read': 63, 'fstat': 80, 'newfstatat': 79,
                'exit_group': 94, 'clone': 220, 'mmap': 222, 'fcntl': 25, 'renameat': 38,
                'getrlimit': 163, 'sync_file_range': 84}
    for name, nr in expected.items():
        if arm.get(name) != nr:
            raise SystemExit(f'gen-syscalls: aarch64 {name} = {arm.get(name)}, expected {nr}')
    for absent in ('open', 'fcntl64', 'mmap2', 'sync_file_range2'):
        if absent in arm:
            raise SystemExit(f'gen-syscalls: aarch64 table must not contain {absent}')
    added = supplement(arm, 'generic')
    emit(os.path.join(OUT_DIR, 'syscalls-aarch64.ts'), 'SYSCALLS_AARCH64', args.generic, 'aarch64', arm, added)


if __name__ == '__main__':
    main()
