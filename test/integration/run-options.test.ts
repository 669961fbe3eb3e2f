// The run options for resources, limits and security, and `update`, on real
// containers: each test reads back from inside the container (or its cgroup)
// what the option did, next to what a container without it sees.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { berth, busyboxRootfs, tempRoot, leftovers, cleanup } from '../support.js';
import { detectCgroupVersion } from '../../src/runtime/cgroups/index.js';
import { currentHardLimits } from '../../src/runtime/rlimits.js';

const root = tempRoot('run-options');
const dataRoot = join(root, 'data');
const runRoot = join(root, 'run');
const b = (...args: string[]) => berth(['--root', dataRoot, '--run-root', runRoot, ...args]);
const MiB = 1024 * 1024;
const v2 = detectCgroupVersion() === 2;

/** Run a container to its end; its output, asserting that it succeeded. */
function run(...args: string[]): string {
  const r = b('run', '--rm', ...args);
  assert.equal(r.status, 0, `run ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const statusField = (text: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1];

before(() => {
  const tarball = join(root, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', busyboxRootfs(), '-cf', tarball, '.']);
  const r = b('import', '--epoch', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
  assert.equal(r.status, 0, r.stderr);
});

after(() => cleanup(root));

afterEach(() => {
  // Every container of a test is gone when it ends (--rm or rm -f), failures included.
  const left = existsSync(join(dataRoot, 'containers')) ? readdirSync(join(dataRoot, 'containers')) : [];
  assert.deepEqual(left, [], 'a container was left behind');
  assert.deepEqual(leftovers(root), [], 'the test left something on the host');
});

// What one container with none of the options sees: the other side of every comparison.
const PROBE = [
  'echo "== status"; cat /proc/self/status',
  'echo "== dev"; ls /dev | wc -l',
  'echo "== sys"; grep " /sys " /proc/mounts',
  'echo "== shm"; df -k /dev/shm | tail -1',
  'echo "== forward"; cat /proc/sys/net/ipv4/ip_forward',
  'echo "== myzero"; ls /dev/myzero 2>&1',
  'echo "== root"; touch /probe 2>&1 && echo writable',
  'echo "== mount"; mkdir -p /mnt/t && mount -t tmpfs none /mnt/t 2>&1 && echo mounted',
  'echo "== end"',
].join('; ');

/** The probe's sections by name. */
function probe(...args: string[]): Record<string, string> {
  const out = run(...args, 'busybox', 'sh', '-c', PROBE);
  const sections: Record<string, string> = {};
  for (const part of out.split(/^== /m).slice(1)) {
    const nl = part.indexOf('\n');
    sections[part.slice(0, nl)] = part.slice(nl + 1);
  }
  assert.ok('end' in sections, out);
  return sections;
}

let baselineCache: Record<string, string> | undefined;
const baseline = () => (baselineCache ??= probe());

test('--cap-add and --cap-drop change the bounding and effective sets, and the seccomp profile follows', () => {
  const plain = baseline();
  // Docker's 14 default capabilities; Docker's seccomp profile.
  assert.equal(statusField(plain.status!, 'CapBnd'), '00000000a80425fb');
  assert.equal(statusField(plain.status!, 'CapEff'), '00000000a80425fb');
  assert.equal(statusField(plain.status!, 'Seccomp'), '2');
  // NET_ADMIN is bit 12, CHOWN bit 0; names in any case, CAP_ optional.
  const tweaked = run('--cap-add', 'net_admin', '--cap-drop', 'CAP_CHOWN', 'busybox', 'cat', '/proc/self/status');
  assert.equal(statusField(tweaked, 'CapBnd'), '00000000a80435fa');
  assert.equal(statusField(tweaked, 'CapEff'), '00000000a80435fa');
  // CAP_SYS_ADMIN opens mount(2) in Docker's profile too: without it, the mount fails.
  assert.doesNotMatch(plain.mount!, /mounted/);
  const admin = probe('--cap-add', 'SYS_ADMIN');
  assert.match(admin.mount!, /^mounted$/m);
  assert.equal(statusField(admin.status!, 'Seccomp'), '2');
});

test('--privileged: every capability the host has, no seccomp, host devices, /sys writable', () => {
  const plain = baseline();
  const hostBounding = statusField(readFileSync('/proc/self/status', 'utf8'), 'CapBnd');
  const privileged = probe('--privileged');
  assert.equal(statusField(privileged.status!, 'CapBnd'), hostBounding);
  assert.equal(statusField(privileged.status!, 'CapEff'), hostBounding);
  assert.equal(statusField(privileged.status!, 'Seccomp'), '0');
  assert.ok(Number(privileged.dev) > Number(plain.dev), `privileged /dev has more nodes: ${privileged.dev} vs ${plain.dev}`);
  assert.match(privileged.sys!, /sysfs \/sys sysfs rw,/);
  assert.match(plain.sys!, /sysfs \/sys sysfs ro,/);
  assert.match(privileged.mount!, /^mounted$/m);
});

test('--security-opt seccomp=unconfined, a profile file, no-new-privileges', () => {
  const status = run('--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges', 'busybox', 'cat', '/proc/self/status');
  assert.equal(statusField(status, 'Seccomp'), '0');
  assert.equal(statusField(status, 'NoNewPrivs'), '1');
  assert.equal(statusField(baseline().status!, 'NoNewPrivs'), '0');
  // A profile in Docker's format: everything allowed but mkdir, which fails with EACCES (13).
  const profile = join(root, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
  const r = b('run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /tmp/d');
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/d': Permission denied/);
});

test('--ulimit sets the limits; a hard limit above the host is clamped with a warning', () => {
  const host = Number(currentHardLimits().get('RLIMIT_NOFILE'));
  const r = b('run', '--rm', '--ulimit', `nofile=512:${host * 10}`, '--ulimit', 'nproc=100:200', '--ulimit', 'core=-1',
    'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -c');
  assert.equal(r.status, 0, r.stderr);
  const [soft, hard, ...rest] = r.stdout.trim().split('\n');
  assert.equal(soft, '512');
  assert.deepEqual(rest, ['100', '200', 'unlimited']);
  if (/clamped/.test(r.stderr)) {
    assert.equal(hard, String(host));
    assert.match(r.stderr, new RegExp(`--ulimit nofile: hard limit ${host * 10} is above this host's ${host}`));
  } else {
    assert.equal(hard, String(host * 10), 'a host that may raise hard limits keeps the one asked for');
  }
});

test('--shm-size, --sysctl, --device and --read-only, each against a container without', () => {
  const plain = baseline();
  const df = (line: string) => Number(line.trim().split(/\s+/)[1]);
  // A new network namespace copies ip_forward from the host's (devconf_inherit_init_net=0),
  // which is 1 wherever dockerd or a router runs: ask for the other value.
  assert.match(plain.forward!, /^[01]\n$/);
  const wanted = plain.forward === '1\n' ? '0' : '1';
  const got = probe('--shm-size', '128m', '--sysctl', `net.ipv4.ip_forward=${wanted}`, '--device', '/dev/zero:/dev/myzero', '--read-only');
  assert.equal(df(plain.shm!), 65536, 'Docker\'s default /dev/shm is 64m');
  assert.equal(df(got.shm!), 131072);
  assert.equal(got.forward, `${wanted}\n`);
  assert.match(plain.myzero!, /No such file or directory/);
  assert.match(got.myzero!, /^\/dev\/myzero$/m);
  assert.equal(plain.root, 'writable\n');
  assert.match(got.root!, /Read-only file system/);
  const zero = run('--device', '/dev/zero:/dev/myzero', 'busybox', 'sh', '-c', 'ls -l /dev/myzero; head -c 3 /dev/myzero | od -An -tx1');
  assert.match(zero, /^c.* 1,\s+5 .*\/dev\/myzero\n 00 00 00\n$/);
  if (!existsSync('/dev/fuse')) return;
  // The mode goes into the device cgroup: read-only means no opening for writing.
  const ro = b('run', '--rm', '--device', '/dev/fuse:/dev/fuse:r', 'busybox', 'sh', '-c', 'exec 3>/dev/fuse && echo opened');
  assert.match(ro.stderr, /can't create \/dev\/fuse: Operation not permitted/);
  assert.equal(ro.stdout, '');
});

test('--init: PID 1 is the init, it reaps an orphaned zombie and passes SIGTERM on', () => {
  // A child whose parent exits is re-parented to PID 1; only an init waits for it.
  const observe = (init: boolean) => {
    const name = `zombie-${init ? 'init' : 'plain'}`;
    const r = b('run', '-d', '--name', name, ...(init ? ['--init'] : []), 'busybox', 'sh', '-c', '(sleep 0.1 &); exec sleep 60');
    assert.equal(r.status, 0, r.stderr);
    try {
      // The orphan lives 0.1 s; by the time exec has started, it has ended.
      const ps = b('exec', name, 'sh', '-c', 'sleep 0.5; ps -o pid,stat,args').stdout;
      if (!init) return { ps, exitCode: '' };
      const stop = b('stop', '-t', '30', name);
      assert.equal(stop.status, 0, stop.stderr);
      return { ps, exitCode: b('inspect', '-f', '{{.State.ExitCode}}', name).stdout.trim() };
    } finally {
      b('rm', '-f', name);
    }
  };
  const plain = observe(false);
  assert.match(plain.ps, /Z\s+\[?sleep/, `without an init the orphan stays a zombie:\n${plain.ps}`);
  const init = observe(true);
  assert.doesNotMatch(init.ps, /\sZ\s/, init.ps);
  assert.match(init.ps, /^\s*1 .*\/sbin\/docker-init -- sh -c/m);
  // Without an init, PID 1 ignores SIGTERM and stop ends in SIGKILL (137).
  assert.equal(init.exitCode, '143', 'the init passed SIGTERM on to sleep, which died of it');
});

/** The container's limits, read from inside through its own cgroup. */
function limitsInside(name: string): Record<string, string> {
  const files = v2
    ? ['memory.max', 'memory.swap.max', 'cpu.max', 'cpu.weight', 'cpuset.cpus', 'pids.max']
    : ['memory/memory.limit_in_bytes', 'memory/memory.memsw.limit_in_bytes', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpu/cpu.shares', 'cpuset/cpuset.cpus', 'pids/pids.max'];
  const r = b('exec', name, 'sh', '-c', files.map((f) => `echo "${f}=$(cat /sys/fs/cgroup/${f} 2>/dev/null)"`).join('; '));
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

test('--memory, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit in the cgroup; update changes them live', () => {
  const r = b('run', '-d', '--name', 'limits', '-m', '64m', '--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--pids-limit', '50', 'busybox', 'sleep', '60');
  assert.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  try {
    const before = limitsInside('limits');
    if (v2) {
      assert.equal(before['memory.max'], String(64 * MiB));
      assert.equal(before['cpu.max'], '150000 100000');
      assert.equal(before['cpuset.cpus'], '0');
      assert.equal(before['pids.max'], '50');
    } else {
      assert.deepEqual(before, {
        'memory/memory.limit_in_bytes': String(64 * MiB),
        // Docker: memory without --memory-swap allows as much swap again.
        'memory/memory.memsw.limit_in_bytes': before['memory/memory.memsw.limit_in_bytes'] === '' ? '' : String(128 * MiB),
        'cpu/cpu.cfs_quota_us': '150000', 'cpu/cpu.cfs_period_us': '100000', 'cpu/cpu.shares': '512',
        'cpuset/cpuset.cpus': '0', 'pids/pids.max': '50',
      });
      // The host's view of the same cgroup.
      assert.equal(readFileSync(`/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * MiB));
    }

    const u = b('update', '-m', '100m', '--cpus', '0.5', '--cpu-shares', '256', '--pids-limit', '20', 'limits');
    assert.equal(u.status, 0, u.stderr);
    assert.equal(u.stdout, 'limits\n');
    const after = limitsInside('limits');
    if (v2) {
      assert.equal(after['memory.max'], String(100 * MiB));
      assert.equal(after['cpu.max'], '50000 100000');
      assert.equal(after['pids.max'], '20');
    } else {
      assert.equal(after['memory/memory.limit_in_bytes'], String(100 * MiB));
      assert.equal(after['cpu/cpu.cfs_quota_us'], '50000');
      assert.equal(after['cpu/cpu.shares'], '256');
      assert.equal(after['pids/pids.max'], '20');
      assert.equal(after['cpuset/cpuset.cpus'], '0', 'what update was not asked to change stays');
    }
    // Docker's rule: more memory than the memory+swap in force needs --memory-swap too.
    const tooBig = b('update', '-m', '300m', 'limits');
    assert.equal(tooBig.status, 1);
    assert.match(tooBig.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    const both = b('update', '-m', '300m', '--memory-swap', '600m', '--restart', 'on-failure:3', 'limits');
    assert.equal(both.status, 0, both.stderr);
    assert.equal(limitsInside('limits')[v2 ? 'memory.max' : 'memory/memory.limit_in_bytes'], String(300 * MiB));
    // Bad values are the command line's (125) and change nothing.
    for (const [args, message] of [
      [[], /You must provide one or more flags when using this command/],
      [['-m', '1m'], /Minimum memory limit allowed is 6MB/],
    ] as const) {
      const bad = b('update', ...args, 'limits');
      assert.equal(bad.status, 125, `update ${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, message);
    }
    // The record keeps the new values (inspect), for the next start too.
    const hc = JSON.parse(b('inspect', '-f', '{{json .HostConfig}}', 'limits').stdout) as Record<string, unknown>;
    assert.equal(hc.Memory, 300 * MiB);
    assert.equal(hc.MemorySwap, 600 * MiB);
    assert.equal(hc.NanoCpus, 0.5e9);
    assert.equal(hc.PidsLimit, 20);
    assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    const missing = b('update', '-m', '10m', 'no-such-container');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /Error response from daemon: No such container: no-such-container/);
  } finally {
    b('rm', '-f', 'limits');
  }
});

test('update of a stopped container: the next start has the new limits', () => {
  const c = b('create', '--name', 'later', '-m', '64m', 'busybox', 'sleep', '60');
  assert.equal(c.status, 0, c.stderr);
  try {
    assert.equal(b('update', '-m', '96m', '--memory-swap', '-1', '--pids-limit', '7', 'later').status, 0);
    assert.equal(b('start', 'later').status, 0);
    const limits = limitsInside('later');
    assert.equal(limits[v2 ? 'memory.max' : 'memory/memory.limit_in_bytes'], String(96 * MiB));
    assert.equal(limits[v2 ? 'pids.max' : 'pids/pids.max'], '7');
  } finally {
    b('rm', '-f', 'later');
  }
});

test('update --restart: refused for a --rm container, as Docker does', () => {
  const r = b('run', '-d', '--rm', '--name', 'auto', 'busybox', 'sleep', '60');
  assert.equal(r.status, 0, r.stderr);
  try {
    const u = b('update', '--restart', 'always', 'auto');
    assert.equal(u.status, 1);
    assert.match(u.stderr, /Cannot update container [0-9a-f]{64}: Restart policy cannot be updated because AutoRemove is enabled for the container/);
  } finally {
    b('rm', '-f', 'auto');
  }
});

test('each bad value: exit 125, a clear message, no container made', () => {
  // One of each kind of check; the unit tests go through every message.
  const cases: [string[], RegExp][] = [
    [['--memory', '64x'], /invalid argument "64x" for "-m, --memory" flag: invalid size: '64x'/],
    [['--memory', '1m'], /Minimum memory limit allowed is 6MB/],
    [['--memory', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit, see usage/],
    [['--cpus', '10000'], /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/],
    [['--cpuset-cpus', '4000'], /Requested CPUs are not available - requested 4000/],
    [['--cap-add', 'FLY'], /unknown capability: "CAP_FLY"/],
    [['--ulimit', 'nofile=2048:1024'], /ulimit soft limit must be less than or equal to hard limit: 2048 > 1024/],
    [['--sysctl', 'kernel.panic=1'], /sysctl 'kernel\.panic=1' is not allowed/],
    [['--device', '/dev/no-such-device'], /error gathering device information while adding custom device "\/dev\/no-such-device": no such file or directory/],
    [['--security-opt', 'seccomp=/no/such/profile.json'], /opening seccomp profile \(\/no\/such\/profile\.json\) failed/],
    [['--security-opt', 'bogus'], /invalid --security-opt 1: "bogus"/],
    [['--userns', 'keep-id'], /--userns: invalid USER mode/],
  ];
  for (const [args, message] of cases) {
    const r = b('run', '--rm', ...args, 'busybox', 'true');
    assert.equal(r.status, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  const create = b('create', '--memory', '1m', 'busybox');
  assert.equal(create.status, 125);
  assert.match(create.stderr, /Minimum memory limit allowed is 6MB/);
});
