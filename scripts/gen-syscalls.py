#!/usr/bin/env python3
"""Generate berth's syscall name -> number tables from the kernel's UAPI headers.

A seccomp filter sees a system call only as a number (seccomp_data.nr), and
the numbers differ per ABI, so the compiler in src/runtime/seccomp/ needs one
table per native architecture. The kernel publishes them as C headers:

  x86_64   asm/unistd_64.h       plain `#define __NR_name N` lines
  aarch64  asm-generic/unistd.h  the generic table, with #if blocks chosen by
                                 the __ARCH_WANT_* macros arm64 defines and by
                                 __BITS_PER_LONG (64), and __NR3264_* numbers
                                 that 64-bit ABIs expose under the plain name

Usage (from the repository root):
  python3 scripts/gen-syscalls.py [--x86-64 HEADER] [--generic HEADER]

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

DEFINE = re.compile(r'^#define\s+(__NR(?:3264)?_\w+)\s+(\S+)\s*$')


def parse_x86_64(path):
    table = {}
    with open(path) as f:
        for line in f:
            m = DEFINE.match(line.strip())
            if m and m.group(1).startswith('__NR_'):
                table[m.group(1)[len('__NR_'):]] = int(m.group(2), 0)
    return table


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


def emit(path, const, source, arch, table):
    rows = sorted(table.items(), key=lambda kv: (kv[1], kv[0]))
    body = '\n'.join(f"  ['{name}', {nr}]," for name, nr in rows)
    text = f"""// GENERATED by scripts/gen-syscalls.py from {source}. Do not edit by hand.
//
// System call numbers for the {arch} ABI: a seccomp filter sees a call only as
// seccomp_data.nr, so a profile's syscall names are turned into these numbers.
// A name missing here (a newer syscall than the header knows, or one of another
// architecture) is skipped by the compiler, as runc and crun do.

export const {const}: ReadonlyMap<string, number> = new Map<string, number>([
{body}
]);
"""
    with open(path, 'w') as f:
        f.write(text)
    print(f'{os.path.relpath(path, ROOT)}: {len(rows)} syscalls', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--x86-64', default='/usr/include/x86_64-linux-gnu/asm/unistd_64.h')
    ap.add_argument('--generic', default='/usr/include/asm-generic/unistd.h')
    args = ap.parse_args()

    x86 = parse_x86_64(args.x86_64)
    if x86.get('read') != 0 or x86.get('exit_group') != 231:
        raise SystemExit(f'gen-syscalls: {args.x86_64} does not look like the x86_64 table')
    emit(os.path.join(OUT_DIR, 'syscalls-x86_64.ts'), 'SYSCALLS_X86_64', args.x86_64, 'x86_64', x86)

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
    emit(os.path.join(OUT_DIR, 'syscalls-aarch64.ts'), 'SYSCALLS_AARCH64', args.generic, 'aarch64', arm)


if __name__ == '__main__':
    main()
