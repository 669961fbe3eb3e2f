// The native helper against real namespaces: each test encodes a plan with
// the TypeScript encoder, runs native/berth-helper on it (plan on fd 3,
// reports on fd 4) and checks what can be observed from outside: report
// lines, exit status, the container's output, files and /proc. Needs root.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync, closeSync, constants as fsConstants, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync,
  rmSync, rmdirSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { encodePlan, MountCreate, type PlanOp } from '../../src/runtime/plan.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HELPER = join(REPO, 'native', 'berth-helper');

// Kernel constants (linux/sched.h, linux/mount.h, linux/capability.h).
const CLONE_NEWNS = 0x20000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const CLONE_NEWTIME = 0x80;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_PRIVATE = 1 << 18;
const CAP_KILL = 5n;
const CAP_NET_BIND_SERVICE = 10n;
const RLIMIT_NOFILE = 7;
const RLIMIT_CORE = 4;

const MARK = `BERTH_HELPER_TEST_${process.pid}`;
const ALL_NS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET;
const ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'];

const isRoot = process.getuid?.() === 0;
const hasBusybox = existsSync('/bin/busybox');
const skip = !isRoot ? 'needs root (namespaces, mounts)' : !hasBusybox ? 'needs /bin/busybox (apt-get install busybox-static)' : false;

let work = '';
let rootfs = '';
const seenPids = new Set<number>();

interface Helper {
  proc: ChildProcess;
  reports: string[];
  stdout: () => string;
  stderr: () => string;
  waitFor: (re: RegExp) => Promise<RegExpMatchArray>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** extraFd: a pipe, or the given fd, as the helper's fd 5. */
function startHelper(ops: PlanOp[], stdin: 'ignore' | 'pipe' = 'ignore', extraFd: boolean | number = false): Helper {
  const extra = typeof extraFd === 'number' ? [extraFd] : extraFd ? ['pipe' as const] : [];
  const proc = spawn(HELPER, [], { stdio: [stdin, 'pipe', 'pipe', 'pipe', 'pipe', ...extra], env: { ...process.env, [MARK]: '1' } });
  if (proc.pid) seenPids.add(proc.pid);
  (proc.stdio[3] as Writable).end(encodePlan(ops));
  let out = '';
  let err = '';
  let partial = '';
  const reports: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      for (const line of reports) {
        const m = line.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
          break;
        }
      }
    }
  };
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  (proc.stdio[4] as Readable).on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      reports.push(line);
      const created = line.match(/^created (\d+)$/);
      if (created) seenPids.add(Number(created[1]));
    }
    check();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    reports,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        check();
        void done.then(() => setTimeout(() => reject(new Error(`no report ${re} in ${JSON.stringify(reports)}`)), 50));
      }),
    done,
  };
}

async function run(ops: PlanOp[], extraFd: boolean | number = false) {
  const h = startHelper(ops, 'ignore', extraFd);
  const { code } = await h.done;
  return { code, reports: h.reports, stdout: h.stdout(), stderr: h.stderr() };
}

interface ContainerOptions {
  flags?: number;
  argv: string[];
  monitor?: PlanOp[];
  parent?: PlanOp[];
  first?: PlanOp[];      // right after clone, before any mount
  inRoot?: PlanOp[];     // after the rootfs mounts, before pivot_root
  afterPivot?: PlanOp[]; // inside the new root, before WAIT_START
  afterStart?: PlanOp[]; // between WAIT_START and EXEC
  file?: string;
}

/** A container in the busybox rootfs: private mounts, proc, a tmpfs /dev
 * with its own devpts, pivot_root, hostname. */
function containerPlan(o: ContainerOptions): PlanOp[] {
  const root = rootfs;
  const flags = o.flags ?? ALL_NS;
  const ops: PlanOp[] = [...(o.monitor ?? []), { op: 'clone', flags, why: 'test' }, ...(o.parent ?? []), ...(o.first ?? [])];
  ops.push(
    { op: 'mount', source: '', target: '/', fstype: '', flags: MS_REC | MS_PRIVATE, data: '', why: 'no propagation to the host' },
    { op: 'mount', source: root, target: root, fstype: '', flags: MS_BIND | MS_REC, data: '', why: 'rootfs is a mount point' },
    { op: 'mountInRoot', root, target: '/proc', source: 'proc', fstype: 'proc', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: '', create: MountCreate.Directory, why: 'proc' },
    { op: 'mountInRoot', root, target: '/dev', source: 'tmpfs', fstype: 'tmpfs', flags: MS_NOSUID, data: 'mode=755', create: MountCreate.Directory, why: 'dev' },
    { op: 'mountInRoot', root, target: '/dev/null', source: '/dev/null', fstype: '', flags: MS_BIND, data: '', create: MountCreate.File, why: 'null' },
    { op: 'mountInRoot', root, target: '/dev/pts', source: 'devpts', fstype: 'devpts', flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620', create: MountCreate.Directory, why: 'pts' },
    { op: 'symlinkInRoot', root, linkpath: '/dev/ptmx', target: 'pts/ptmx' },
    ...(o.inRoot ?? []),
    { op: 'pivotRoot', root },
  );
  if (flags & CLONE_NEWUTS) ops.push({ op: 'sethostname', name: 'berth-test' });
  ops.push(...(o.afterPivot ?? []), { op: 'waitStart' }, ...(o.afterStart ?? []));
  ops.push({ op: 'exec', file: o.file ?? o.argv[0], argv: o.argv, env: ENV });
  return ops;
}

function stepOf(ops: PlanOp[], pred: (op: PlanOp) => boolean): number {
  const i = ops.findIndex(pred);
  assert.ok(i >= 0);
  return i;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Helpers started by this test file, and their children that never exec'd
 * (they still run the helper's image with the helper's environment). */
function helperProcesses(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The helper runs from a sealed copy of itself (native/self.c).
      const exe = readlinkSync(`/proc/${name}/exe`);
      if (exe !== HELPER && !exe.startsWith('/memfd:berth-helper')) continue;
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`${MARK}=1`)) pids.push(Number(name));
    } catch { /* gone, or a kernel thread */ }
  }
  return pids;
}

async function settle(pred: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

describe('berth-helper', { skip, timeout: 120_000 }, () => {
  before(() => {
    execFileSync('make', ['-s', '-C', join(REPO, 'native')], { stdio: 'inherit' });
    work = mkdtempSync(join(tmpdir(), 'berth-helper-'));
    chmodSync(work, 0o755); // reachable by the mapped root of a user namespace
    rootfs = join(work, 'rootfs');
    execFileSync('bash', [join(REPO, 'scripts', 'make-busybox-rootfs.sh'), rootfs]);
    chmodSync(rootfs, 0o755); // made by mktemp -d: 0700, closed to other uids
    writeFileSync(join(rootfs, 'bin', 'noexec'), '#!/bin/sh\necho never\n', { mode: 0o644 });
    symlinkSync('/etc', join(rootfs, 'evil'));
    writeFileSync(join(rootfs, 'etc', 'secret'), 'secret\n');
    mkdirSync(join(rootfs, 'secretdir'));
    writeFileSync(join(rootfs, 'secretdir', 'file'), 'x');
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  afterEach(async () => {
    // Every test leaves no process behind: not the helper, not its child.
    const gone = await settle(() => [...seenPids].every((p) => !alive(p)) && helperProcesses().length === 0);
    const left = [...seenPids].filter(alive);
    seenPids.clear();
    assert.ok(gone, `processes left behind: ${left.join(' ')} ${helperProcesses().join(' ')}`);
  });

  test('new pid, mount, uts, ipc and net namespaces; proc; pivot_root; hostname', async () => {
    const r = await run(containerPlan({ argv: ['/bin/sh', '-c', 'echo $$; hostname; ls /proc/1/ns/net >/dev/null && echo proc-ok'] }));
    assert.equal(r.stdout, '1\nberth-test\nproc-ok\n', r.stderr);
    assert.equal(r.code, 0);
    assert.match(r.reports[0], /^created \d+$/);
    assert.deepEqual(r.reports.slice(1), ['started', 'exited 0']);
  });

  test('exit status propagates, to the report, the exit file and the helper', async () => {
    const exitFile = join(work, 'exit-3');
    const r = await run(containerPlan({ argv: ['/bin/sh', '-c', 'exit 3'], monitor: [{ op: 'monitorExitFile', path: exitFile }] }));
    assert.equal(r.code, 3);
    assert.equal(r.reports.at(-1), 'exited 3');
    const line = readFileSync(exitFile, 'utf8');
    assert.match(line, /^exited 3 \d{19}\n$/);
    const ns = BigInt(line.split(' ')[2]);
    assert.ok(ns <= BigInt(Date.now()) * 1_000_000n && ns > (BigInt(Date.now()) - 60_000n) * 1_000_000n);
    assert.ok(!existsSync(`${exitFile}.tmp`));
  });

  test('death by a signal: signaled 9, helper exits 137', async () => {
    // No pid namespace: an init process cannot SIGKILL itself.
    const exitFile = join(work, 'exit-9');
    const r = await run(containerPlan({ flags: CLONE_NEWNS | CLONE_NEWUTS, argv: ['/bin/sh', '-c', 'kill -9 $$'], monitor: [{ op: 'monitorExitFile', path: exitFile }] }));
    assert.equal(r.reports.at(-1), 'signaled 9');
    assert.equal(r.code, 137);
    assert.match(readFileSync(exitFile, 'utf8'), /^signaled 9 \d+\n$/);
  });

  test('a missing program: exec-failed ENOENT, 127 (by path and by PATH search)', async () => {
    let r = await run(containerPlan({ argv: ['/bin/nope'] }));
    assert.ok(r.reports.includes('exec-failed 2 /bin/nope'), r.reports.join('|'));
    assert.equal(r.code, 127);
    r = await run(containerPlan({ argv: ['nope'] }));
    assert.ok(r.reports.includes('exec-failed 2 nope'), r.reports.join('|'));
    assert.equal(r.code, 127);
    r = await run(containerPlan({ argv: ['echo', 'found-in-path'] }));
    assert.equal(r.stdout, 'found-in-path\n');
  });

  test('a program that is not executable: exec-failed EACCES, 126', async () => {
    const r = await run(containerPlan({ argv: ['/bin/noexec'] }));
    assert.ok(r.reports.includes('exec-failed 13 /bin/noexec'), r.reports.join('|'));
    assert.equal(r.code, 126);
  });

  test('a failing step reports its index, op, errno and path; exit 125', async () => {
    const ops = containerPlan({
      argv: ['/bin/true'],
      inRoot: [{ op: 'mount', source: '/nonexistent-berth-source', target: join(rootfs, 'tmp'), fstype: '', flags: MS_BIND, data: '', why: 'test' }],
    });
    const step = stepOf(ops, (o) => o.op === 'mount' && o.source === '/nonexistent-berth-source');
    const r = await run(ops);
    assert.equal(r.code, 125);
    assert.equal(r.reports.length, 1, r.reports.join('|'));
    assert.match(r.reports[0], new RegExp(`^error ${step} 2 MOUNT mount /nonexistent-berth-source on ${join(rootfs, 'tmp')}`));
  });

  test('a failing parent step (bad uid_map) is reported by the monitor; the child is killed', async () => {
    const ops = containerPlan({
      flags: ALL_NS | CLONE_NEWUSER,
      argv: ['/bin/true'],
      parent: [{ op: 'parentWriteProc', relpath: 'uid_map', data: 'not a map\n' }],
    });
    const r = await run(ops);
    assert.equal(r.code, 125);
    assert.deepEqual(r.reports.map((l) => l.split(' ').slice(0, 4).join(' ')), [`error ${stepOf(ops, (o) => o.op === 'parentWriteProc')} 22 PARENT_WRITE_PROC`]);
  });

  test('malformed plans are refused before anything runs', async () => {
    const h = spawn(HELPER, [], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], env: { ...process.env, [MARK]: '1' } });
    (h.stdio[3] as Writable).end(Buffer.from('NOTAPLAN'));
    let rep = '';
    (h.stdio[4] as Readable).on('data', (d: Buffer) => (rep += d.toString()));
    const code = await new Promise((r) => h.on('close', r));
    assert.equal(code, 125);
    assert.match(rep, /^error -1 22 PLAN not a plan/);

    const noWait = containerPlan({ argv: ['/bin/true'] }).filter((o) => o.op !== 'waitStart');
    let r = await run(noWait);
    assert.equal(r.code, 125);
    assert.match(r.reports[0], /^error -1 22 PLAN a plan needs CLONE, WAIT_START and EXEC/);

    const outOfOrder: PlanOp[] = [{ op: 'clone', flags: 0, why: '' }, { op: 'monitorExitFile', path: '/x' }, { op: 'waitStart' }, { op: 'exec', file: '/bin/true', argv: ['true'], env: [] }];
    r = await run(outOfOrder);
    assert.equal(r.code, 125);
    assert.equal(r.reports[0], 'error 1 22 MONITOR_EXIT_FILE op out of phase order');
  });

  test('the kept-output ops are checked with the plan: stdin needs clients, a terminal one consumer, commands absolute paths', async () => {
    const cases: [PlanOp[], boolean, RegExp][] = [
      [[{ op: 'monitorLogFile', path: join(work, 'x.log') }, { op: 'monitorOpenStdin', stdinOnce: false }], false, /MONITOR_OPEN_STDIN needs MONITOR_ATTACH_SOCKET/],
      [[{ op: 'monitorLogFile', path: join(work, 'x.log') }, { op: 'monitorRelayTerminal' }], true, /TERMINAL needs exactly one of/],
      [[{ op: 'monitorRelayTerminal' }], false, /TERMINAL needs exactly one of/],
      [[{ op: 'monitorExitCommand', argv: ['true'] }], false, /^error 0 22 MONITOR_EXIT_COMMAND a command needs an absolute path first/],
      [[{ op: 'monitorHealthcheck', probePlan: '/p', results: '/r', hook: ['true'], intervalNs: 1n, timeoutNs: 1n, startPeriodNs: 0n, startIntervalNs: 1n, retries: 1, pausedFile: '', pausedText: '' }], false, /^error 0 22 MONITOR_HEALTHCHECK a command needs an absolute path first/],
      [[{ op: 'monitorHealthcheck', probePlan: '/p', results: '/r', hook: ['/bin/true'], intervalNs: 0n, timeoutNs: 1n, startPeriodNs: 0n, startIntervalNs: 1n, retries: 1, pausedFile: '', pausedText: '' }], false, /^error 0 22 MONITOR_HEALTHCHECK a zero interval, timeout, start interval or retries/],
      [[{ op: 'monitorLogFile', path: '/a' }, { op: 'monitorLogFile', path: '/b' }], false, /^error 1 22 MONITOR_LOG_FILE op given twice/],
      [[{ op: 'monitorAttachSocket', path: join(work, 'x'.repeat(110)) }], false, /^error 0 36 MONITOR_ATTACH_SOCKET .* at most 107 bytes/],
      [[{ op: 'monitorExitFile', path: join(work, 'x.exit') }, { op: 'monitorStartFifo', path: join(work, 'x.fifo') }, { op: 'monitorHandOff' }], false, /^error -1 22 PLAN MONITOR_HAND_OFF excludes what needs the monitor to stay/],
    ];
    for (const [monitor, terminal, message] of cases) {
      const r = await run(containerPlan({ argv: ['/bin/true'], monitor, afterPivot: terminal ? [{ op: 'terminal' }] : [] }));
      assert.equal(r.code, 125, monitor.map((o) => o.op).join(' '));
      assert.match(r.reports[0] ?? '', message);
      assert.equal(r.reports.length, 1);
    }
    assert.equal(existsSync(join(work, 'x.log')), false, 'nothing was opened');
  });

  test('with a log file the caller\'s stdio never reaches the container: output goes to the log, stdin is /dev/null', async () => {
    const log = join(work, 'caller-stdio.log');
    const h = startHelper(containerPlan({ argv: ['/bin/sh', '-c', 'cat; echo out; echo err >&2; readlink /proc/self/fd/0'], monitor: [{ op: 'monitorLogFile', path: log }] }), 'pipe');
    (h.proc.stdin as Writable).end('from the caller\n');
    const { code } = await h.done;
    assert.equal(code, 0);
    assert.deepEqual([h.stdout(), h.stderr()], ['', '']);
    const entries = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string });
    // Each stream in order; between them, order is what the monitor read first.
    assert.deepEqual(entries.filter((e) => e.stream === 'stdout').map((e) => e.log), ['out\n', '/dev/null\n']);
    assert.deepEqual(entries.filter((e) => e.stream === 'stderr').map((e) => e.log), ['err\n']);
  });

  test('without a report channel (fd 4 closed) it still runs the container', async () => {
    const h = spawn(HELPER, [], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'ignore'], env: { ...process.env, [MARK]: '1' } });
    (h.stdio[3] as Writable).end(encodePlan(containerPlan({ argv: ['/bin/sh', '-c', 'echo ok; exit 4'] })));
    let out = '';
    h.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => h.on('close', r));
    assert.equal(out, 'ok\n');
    assert.equal(code, 4);
  });

  test('start FIFO: created <pid> and the pid file, then nothing until a byte arrives', async () => {
    const fifo = join(work, 'start.fifo'); // made by the helper
    const pidFile = join(work, 'pid');
    const exitFile = join(work, 'exit-fifo');
    const h = startHelper(containerPlan({
      argv: ['/bin/echo', 'went'],
      monitor: [{ op: 'monitorStartFifo', path: fifo }, { op: 'monitorPidFile', path: pidFile }, { op: 'monitorExitFile', path: exitFile }],
    }));
    const pid = Number((await h.waitFor(/^created (\d+)$/))[1]);
    assert.equal(readFileSync(pidFile, 'utf8'), String(pid));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(alive(pid));
    assert.deepEqual(h.reports, [`created ${pid}`]);
    assert.equal(h.stdout(), '');
    assert.ok(!existsSync(exitFile));
    writeFileSync(fifo, 'x');
    const { code } = await h.done;
    assert.equal(code, 0);
    assert.equal(h.stdout(), 'went\n');
    assert.deepEqual(h.reports, [`created ${pid}`, 'started', 'exited 0']);
    assert.match(readFileSync(exitFile, 'utf8'), /^exited 0 \d+\n$/);
  });

  test('a container killed while it waits to start: signaled 9, exit file written', async () => {
    const fifo = join(work, 'start2.fifo');
    const exitFile = join(work, 'exit-killed');
    execFileSync('mkfifo', [fifo]);
    const h = startHelper(containerPlan({ argv: ['/bin/true'], monitor: [{ op: 'monitorStartFifo', path: fifo }, { op: 'monitorExitFile', path: exitFile }] }));
    const pid = Number((await h.waitFor(/^created (\d+)$/))[1]);
    process.kill(pid, 'SIGKILL');
    const { code } = await h.done;
    assert.equal(code, 137);
    assert.deepEqual(h.reports, [`created ${pid}`, 'signaled 9']);
    assert.match(readFileSync(exitFile, 'utf8'), /^signaled 9 /);
  });

  test('user namespace: root inside, uid 100000 on the host', async () => {
    const fifo = join(work, 'userns.fifo');
    execFileSync('mkfifo', [fifo]);
    const h = startHelper(containerPlan({
      flags: ALL_NS | CLONE_NEWUSER,
      argv: ['/bin/sh', '-c', 'id -u; id -g; cat /proc/self/uid_map'],
      monitor: [{ op: 'monitorStartFifo', path: fifo }],
      parent: [
        { op: 'parentWriteProc', relpath: 'uid_map', data: '0 100000 65536\n' },
        { op: 'parentWriteProc', relpath: 'gid_map', data: '0 100000 65536\n' },
      ],
      first: [{ op: 'setIds', uid: 0, gid: 0 }],
    }));
    const pid = Number((await h.waitFor(/^created (\d+)$/))[1]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\t100000\t100000\t100000\t100000$/m);
    assert.match(status, /^Gid:\t100000\t100000\t100000\t100000$/m);
    writeFileSync(fifo, 'x');
    const { code } = await h.done;
    assert.equal(code, 0, h.stderr() + h.reports.join('|'));
    assert.match(h.stdout(), /^0\n0\n\s+0\s+100000\s+65536\n$/);
  });

  test('bounding set, setuid, capset, ambient and no_new_privs, seen in /proc/self/status', async () => {
    const keep = (1n << CAP_KILL) | (1n << CAP_NET_BIND_SERVICE);
    const r = await run(containerPlan({
      argv: ['/bin/cat', '/proc/self/status'],
      afterPivot: [
        { op: 'boundingSet', keep },
        { op: 'setgroups', groups: [1000, 1001] },
        { op: 'setuidGid', uid: 1000, gid: 1000 },
        { op: 'capset', effective: keep, permitted: keep, inheritable: keep },
        { op: 'ambient', raise: keep },
        { op: 'noNewPrivs' },
      ],
    }));
    assert.equal(r.code, 0, r.stderr + r.reports.join('|'));
    const hex = keep.toString(16).padStart(16, '0');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.match(r.stdout, new RegExp(`^${set}:\\t${hex}$`, 'm'));
    assert.match(r.stdout, /^Uid:\t1000\t1000\t1000\t1000$/m);
    assert.match(r.stdout, /^Groups:\t1000 1001 ?$/m);
    assert.match(r.stdout, /^NoNewPrivs:\t1$/m);
  });

  test('seccomp: a loaded filter fails sethostname with EPERM', async (t) => {
    const arch = { x64: { audit: 0xc000003e, nr: 170 }, arm64: { audit: 0xc00000b7, nr: 161 } }[process.arch as 'x64' | 'arm64'];
    if (!arch) return t.skip(`no sethostname syscall number for ${process.arch}`);
    const insn = (code: number, jt: number, jf: number, k: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(code, 0); b[2] = jt; b[3] = jf; b.writeUInt32LE(k >>> 0, 4);
      return b;
    };
    const program = Buffer.concat([
      insn(0x20, 0, 0, 4),            // ld [arch]
      insn(0x15, 0, 3, arch.audit),   // jeq arch, else allow
      insn(0x20, 0, 0, 0),            // ld [nr]
      insn(0x15, 0, 1, arch.nr),      // jeq sethostname, else allow
      insn(0x06, 0, 0, 0x00050001),   // ret ERRNO(EPERM)
      insn(0x06, 0, 0, 0x7fff0000),   // ret ALLOW
    ]);
    const r = await run(containerPlan({
      argv: ['/bin/sh', '-c', 'hostname other 2>/dev/null; echo rc=$?; hostname'],
      afterPivot: [{ op: 'seccomp', program, flags: 0, summary: 'deny sethostname' }],
    }));
    assert.equal(r.stdout, 'rc=1\nberth-test\n', r.stderr + r.reports.join('|'));
  });

  test('MOUNT_IN_ROOT resolves symlinks and .. inside the root, never out to the host', async () => {
    const probe = `berth-probe-${process.pid}`;
    const r = await run(containerPlan({
      argv: ['/bin/sh', '-c', `grep -c " /etc/${probe} " /proc/self/mountinfo; grep -c " /tmp/${probe}-up " /proc/self/mountinfo`],
      inRoot: [
        { op: 'mountInRoot', root: rootfs, target: `/evil/${probe}`, source: 'tmpfs', fstype: 'tmpfs', flags: 0, data: 'size=64k', create: MountCreate.Directory, why: 'through an absolute symlink' },
        { op: 'mountInRoot', root: rootfs, target: `../../../../../tmp/${probe}-up`, source: 'tmpfs', fstype: 'tmpfs', flags: 0, data: 'size=64k', create: MountCreate.Directory, why: 'through ..' },
      ],
    }));
    try {
      assert.equal(r.code, 0, r.stderr + r.reports.join('|'));
      assert.equal(r.stdout, '1\n1\n');
      assert.ok(!existsSync(`/etc/${probe}`), 'created on the host through the symlink');
      assert.ok(!existsSync(`/tmp/${probe}-up`), 'created on the host through ..');
      assert.ok(existsSync(join(rootfs, 'etc', probe)));
      assert.ok(existsSync(join(rootfs, 'tmp', `${probe}-up`)));
    } finally {
      for (const p of [`/etc/${probe}`, `/tmp/${probe}-up`, join(rootfs, 'etc', probe), join(rootfs, 'tmp', `${probe}-up`)]) {
        try { rmdirSync(p); } catch { /* absent */ }
      }
    }
  });

  test('MKNOD_IN_ROOT and SYMLINK_IN_ROOT act inside the root; the node has exactly its mode and owner, whatever the umask', async () => {
    const zero = { op: 'mknodInRoot', root: rootfs, target: '/dev/berth/zero', mode: 0o20666, dev: (1 << 8) | 5, uid: 1000, gid: 1001, bindIfDenied: '' } as const;
    const before = process.umask(0o077);
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(containerPlan({
        argv: ['/bin/sh', '-c', 'ls -ln /dev/berth/zero | tr -s " " | cut -d" " -f1,3,4; head -c 3 /dev/berth/zero | od -An -tx1; readlink /dev/fd'],
        inRoot: [
          zero,
          zero,
          { op: 'symlinkInRoot', root: rootfs, linkpath: '/dev/fd', target: '/proc/self/fd' },
          { op: 'symlinkInRoot', root: rootfs, linkpath: '/dev/fd', target: '/elsewhere' },
        ],
      }));
    } finally {
      process.umask(before);
    }
    assert.equal(r.code, 0, r.stderr + r.reports.join('|'));
    assert.equal(r.stdout, 'crw-rw-rw- 1000 1001\n 00 00 00\n/proc/self/fd\n');
  });

  test('MASK_PATH and READONLY_PATH', async () => {
    const r = await run(containerPlan({
      argv: ['/bin/sh', '-c', 'cat /etc/secret; ls /secretdir; touch /etc/new 2>/dev/null && echo rw || echo ro; touch /secretdir/x 2>/dev/null && echo rw || echo ro; grep " /etc " /proc/self/mountinfo | cut -d" " -f6'],
      afterPivot: [
        { op: 'readonlyPath', path: '/etc' },
        { op: 'maskPath', path: '/etc/secret' },
        { op: 'maskPath', path: '/secretdir' },
        { op: 'maskPath', path: '/does/not/exist' },
        { op: 'readonlyPath', path: '/does/not/exist' },
      ],
    }));
    assert.equal(r.code, 0, r.stderr + r.reports.join('|'));
    assert.equal(r.stdout, 'ro\nro\nro,relatime\n');
    assert.ok(!existsSync(join(rootfs, 'etc', 'new')));
  });

  test('rlimits: values set, -1 is unlimited', async () => {
    const r = await run(containerPlan({
      argv: ['/bin/sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -c'],
      afterPivot: [
        { op: 'setrlimit', resource: RLIMIT_NOFILE, soft: 256n, hard: 512n, name: 'nofile' },
        { op: 'setrlimit', resource: RLIMIT_CORE, soft: -1n, hard: -1n, name: 'core' },
      ],
    }));
    assert.equal(r.stdout, '256\n512\nunlimited\n', r.stderr + r.reports.join('|'));
  });

  test('terminal sent to a console socket (SCM_RIGHTS, as runc --console-socket)', async (t) => {
    let python = '';
    try { python = execFileSync('sh', ['-c', 'command -v python3']).toString().trim(); } catch { /* none */ }
    if (!python) return t.skip('needs python3 to receive an fd over SCM_RIGHTS');
    const sock = join(work, 'console.sock');
    const receiver = spawn(python, ['-c', `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 64, 1)
out = b""
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(msg.decode() + "|" + out.decode())
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    receiver.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    await settle(() => got.startsWith('ready\n'), 5000);
    const r = await run(containerPlan({
      argv: ['/bin/sh', '-c', 'tty; echo term-ok; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty'],
      monitor: [{ op: 'monitorConsoleSocket', path: sock }],
      afterPivot: [{ op: 'terminal' }],
    }));
    await new Promise((r) => receiver.on('close', r));
    assert.equal(r.code, 0, r.reports.join('|'));
    assert.equal(got, 'ready\n/dev/ptmx|/dev/pts/0\r\nterm-ok\r\nall-tty\r\n');
  });

  test('terminal relayed through the helper\'s own stdin/stdout', async () => {
    const h = startHelper(containerPlan({
      argv: ['/bin/sh', '-c', 'tty; read x; echo got-$x'],
      monitor: [{ op: 'monitorRelayTerminal' }],
      afterPivot: [{ op: 'terminal' }],
    }), 'pipe');
    await h.waitFor(/^started$/);
    assert.ok(await settle(() => h.stdout().includes('\r\n'), 5000));
    h.proc.stdin!.write('hello\n');
    const { code } = await h.done;
    assert.equal(code, 0, h.reports.join('|'));
    assert.equal(h.stdout(), '/dev/pts/0\r\nhello\r\ngot-hello\r\n'); // the pty echoes the input
  });

  test('signals to the helper are forwarded to the container', async () => {
    const h = startHelper(containerPlan({ flags: CLONE_NEWNS | CLONE_NEWUTS, argv: ['/bin/sleep', '100'], monitor: [{ op: 'monitorForwardSignals' }] }));
    await h.waitFor(/^started$/);
    await new Promise((r) => setTimeout(r, 100));
    h.proc.kill('SIGTERM');
    const { code, signal } = await h.done;
    assert.equal(signal, null);
    assert.equal(code, 143);
    assert.equal(h.reports.at(-1), 'signaled 15');
  });

  test('a step failing after WAIT_START: error after started, exit file says 125', async () => {
    const exitFile = join(work, 'exit-late');
    const ops = containerPlan({ argv: ['/bin/true'], monitor: [{ op: 'monitorExitFile', path: exitFile }], afterStart: [{ op: 'chdir', path: '/nonexistent' }] });
    const r = await run(ops);
    assert.equal(r.code, 125);
    assert.equal(r.reports.length, 3, r.reports.join('|'));
    assert.deepEqual(r.reports.slice(1), ['started', `error ${stepOf(ops, (o) => o.op === 'chdir')} 2 CHDIR chdir /nonexistent`]);
    assert.match(readFileSync(exitFile, 'utf8'), /^exited 125 /);
  });

  test('SETNS and MONITOR_SETNS join another container\'s uts and pid namespaces', async () => {
    const fifo = join(work, 'join.fifo');
    execFileSync('mkfifo', [fifo]);
    const a = startHelper(containerPlan({ argv: ['/bin/true'], monitor: [{ op: 'monitorStartFifo', path: fifo }] }));
    const pidA = Number((await a.waitFor(/^created (\d+)$/))[1]);
    const r = await run(containerPlan({
      flags: CLONE_NEWNS | CLONE_NEWIPC,
      argv: ['/bin/sh', '-c', 'hostname; echo $$; ls /proc | grep -c "^[0-9]"'],
      monitor: [{ op: 'monitorSetns', path: `/proc/${pidA}/ns/pid`, nstype: CLONE_NEWPID, why: 'test' }],
      first: [{ op: 'setns', path: `/proc/${pidA}/ns/uts`, nstype: CLONE_NEWUTS, why: 'test' }],
    }));
    assert.equal(r.code, 0, r.stderr + r.reports.join('|'));
    const [host, pid, count] = r.stdout.trim().split('\n');
    assert.equal(host, 'berth-test');
    assert.notEqual(pid, '1'); // pid 1 of that namespace is A, waiting to start
    assert.ok(Number(count) >= 3, r.stdout); // A, sh, ls
    writeFileSync(fifo, 'x');
    assert.equal((await a.done).code, 0);
  });

  test('CLONE_NEWTIME (via clone3), UNSHARE, CHROOT, CHDIR, SETSID, SETDOMAINNAME and WRITE_FILE', async () => {
    const ttl = readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8');
    const domain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const r = await run([
      { op: 'clone', flags: CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME, why: 'clone3 for a time namespace' },
      { op: 'unshare', flags: CLONE_NEWUTS, why: 'test' },
      { op: 'setsid' },
      { op: 'chroot', root: rootfs },
      { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: 0, data: '', why: 'test' },
      { op: 'writeFile', path: '/proc/sys/net/ipv4/ip_default_ttl', data: '33', why: 'sysctl' },
      { op: 'sethostname', name: 'unshared' },
      { op: 'setdomainname', name: 'example.test' },
      { op: 'chdir', path: '/tmp' },
      { op: 'waitStart' },
      { op: 'exec', file: '/bin/sh', argv: ['sh', '-c', 'read a b c d e sid rest < /proc/$$/stat; echo $$ $sid; pwd; hostname; cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_default_ttl; readlink /proc/self/ns/time'], env: ENV },
    ]);
    assert.equal(r.code, 0, r.stderr + r.reports.join('|'));
    const lines = r.stdout.split('\n');
    assert.equal(lines.slice(0, 5).join('\n'), '1 1\n/tmp\nunshared\nexample.test\n33');
    assert.match(lines[5], /^time:\[\d+\]$/);
    assert.notEqual(lines[5], readlinkSync('/proc/self/ns/time'));
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8'), ttl);
    assert.equal(readFileSync('/proc/sys/kernel/domainname', 'utf8'), domain);
  });

  test('the container never inherits the plan or report fds; CLOSE_FROM closes the rest', async () => {
    const list = ['/bin/ls', '/proc/self/fd']; // ls's own fd 3 reads the directory
    let r = await run(containerPlan({ argv: list }), true);
    // fds the test runner itself inherited without close-on-exec may show up too
    const fds = r.stdout.trim().split('\n');
    assert.deepEqual(fds.filter((fd) => Number(fd) <= 5), ['0', '1', '2', '3', '5'], r.stderr + r.reports.join('|'));
    r = await run(containerPlan({ argv: list, afterStart: [{ op: 'closeFrom', fd: 3 }] }), true);
    assert.equal(r.stdout, '0\n1\n2\n3\n', r.stderr + r.reports.join('|'));
    assert.deepEqual(r.reports.slice(1), ['started', 'exited 0']);
  });

  test('CHDIR refuses a working directory outside the root (a host directory fd, CVE-2024-21626)', async () => {
    const hostDir = openSync(work, 'r');
    try {
      const ops = containerPlan({ argv: ['/bin/ls'], afterPivot: [{ op: 'chdir', path: '/proc/self/fd/5' }] });
      const r = await run(ops, hostDir);
      assert.equal(r.code, 125, r.stdout);
      assert.equal(r.stdout, '');
      assert.match(r.reports.at(-1)!, new RegExp(`^error ${stepOf(ops, (o) => o.op === 'chdir')} 2 CHDIR the working directory /proc/self/fd/5 is outside the container's root$`));
    } finally {
      closeSync(hostDir);
    }
  });

  test('the helper runs from a sealed copy of itself, not from its file on the host', async () => {
    // Held at WAIT_START: the child still runs the helper's image.
    const h = startHelper(containerPlan({ argv: ['/bin/true'], monitor: [{ op: 'monitorStartFifo', path: join(work, 'sealed-fifo') }] }));
    const pid = Number((await h.waitFor(/^created (\d+)$/))[1]);
    for (const p of [h.proc.pid!, pid]) {
      assert.match(readlinkSync(`/proc/${p}/exe`), /^\/memfd:berth-helper \(deleted\)$/);
      assert.equal(readFileSync(`/proc/${p}/comm`, 'utf8'), 'berth-helper\n');
      // Not writable, even by root: the copy is sealed.
      assert.throws(() => writeFileSync(`/proc/${p}/exe`, 'x', { flag: 'a' }), /EPERM|ETXTBSY/);
    }
    h.proc.kill('SIGKILL');
    process.kill(pid, 'SIGKILL');
    await h.done;
  });

  test('the helper is not dumpable before it touches any namespace', async () => {
    // The child drops every capability, then blocks opening the FIFO it is
    // told to join as a namespace. A process with the same uid and more
    // capabilities, but not CAP_SYS_PTRACE, may open /proc/PID/exe of a
    // dumpable process, and of no other.
    const fifo = join(work, 'ns-fifo');
    execFileSync('mkfifo', [fifo]);
    const h = startHelper([
      { op: 'clone', flags: 0, why: 'no new namespace' },
      { op: 'capset', effective: 0n, permitted: 0n, inheritable: 0n },
      { op: 'setns', path: fifo, nstype: CLONE_NEWUTS, why: 'blocks in open until the test writes' },
      { op: 'waitStart' },
      { op: 'exec', file: '/bin/true', argv: ['true'], env: ENV },
    ]);
    const children = `/proc/${h.proc.pid}/task/${h.proc.pid}/children`;
    let child = 0;
    assert.ok(await settle(() => {
      child = Number(readFileSync(children, 'utf8').trim().split(' ')[0] || 0);
      return child > 0 && /^CapPrm:\s+0+$/m.test(readFileSync(`/proc/${child}/status`, 'utf8'));
    }), 'the child never dropped its capabilities');
    seenPids.add(child);
    const observe = (pid: number) => spawnSync('setpriv', ['--bounding-set', '-sys_ptrace', 'readlink', '-v', `/proc/${pid}/exe`], { encoding: 'utf8' });
    const observer = observe(child);
    closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK)); // let it go on
    // The same observer does see a dumpable process in the same position.
    const dumpable = spawn('setpriv', ['--bounding-set', '-all', 'sleep', '30'], { stdio: 'ignore' });
    seenPids.add(dumpable.pid!);
    assert.ok(await settle(() => readlinkSync(`/proc/${dumpable.pid}/exe`).endsWith('/sleep')));
    const control = observe(dumpable.pid!);
    dumpable.kill('SIGKILL');
    assert.equal(control.status, 0, `the observer cannot see a dumpable process: ${control.stderr}`);
    assert.notEqual(observer.status, 0, `the helper's child was dumpable: ${observer.stdout}`);
    assert.match(observer.stderr, /Permission denied/);
    assert.equal((await h.done).code, 125);
    assert.match(h.reports.at(-1)!, /^error 2 \d+ SETNS /);
  });

  test('the monitor of a running container stays under 1 MiB resident', async (t) => {
    const h = startHelper(containerPlan({ argv: ['/bin/sleep', '100'] }));
    const pid = Number((await h.waitFor(/^created (\d+)$/))[1]);
    await h.waitFor(/^started$/);
    await new Promise((r) => setTimeout(r, 200));
    const status = readFileSync(`/proc/${h.proc.pid}/status`, 'utf8');
    const rss = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)![1]);
    t.diagnostic(`monitor VmRSS ${rss} kB`);
    process.kill(pid, 'SIGKILL');
    const { code } = await h.done;
    assert.equal(code, 137);
    assert.ok(rss < 1024, `monitor VmRSS ${rss} kB`);
  });

  test('a monitor that keeps a log and serves attach clients stays small too', async (t) => {
    const monitor: PlanOp[] = [
      { op: 'monitorLogFile', path: join(work, 'small.log') },
      { op: 'monitorOpenStdin', stdinOnce: false },
      { op: 'monitorAttachSocket', path: join(work, 'small.sock') },
      { op: 'monitorHealthcheck', probePlan: '/p', results: '/r', hook: ['/bin/true'], intervalNs: 3_600_000_000_000n, timeoutNs: 1_000_000_000n, startPeriodNs: 0n, startIntervalNs: 1n, retries: 1, pausedFile: '', pausedText: '' },
      { op: 'monitorExitCommand', argv: ['/bin/true'] },
    ];
    const h = startHelper(containerPlan({ argv: ['/bin/sh', '-c', 'seq 1 10000; exec sleep 100'], monitor }));
    const pid = Number((await h.waitFor(/^created (\d+)$/))[1]);
    await h.waitFor(/^started$/);
    await settle(() => readFileSync(join(work, 'small.log'), 'utf8').includes('"10000\\n"'));
    const rollup = readFileSync(`/proc/${h.proc.pid}/smaps_rollup`, 'utf8');
    const kb = (name: string) => Number(rollup.match(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm'))![1]);
    t.diagnostic(`monitor Rss ${kb('Rss')} kB, anonymous ${kb('Anonymous')} kB`);
    process.kill(pid, 'SIGKILL');
    const { code } = await h.done;
    assert.equal(code, 137);
    assert.ok(kb('Rss') < 1024, `monitor Rss ${kb('Rss')} kB`);
    assert.ok(kb('Anonymous') < 256, `monitor anonymous memory ${kb('Anonymous')} kB`);
  });
});
