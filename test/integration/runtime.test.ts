// Real containers from the busybox bundle, as root: what a container sees,
// what it may do, what it gets, and that nothing is left on the host.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join, posix } from 'node:path';
import { readFileSync, writeFileSync, existsSync, openSync, closeSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Runtime, cgroupOf, type RunResult } from '../../src/runtime/container.js';
import { cgroupManager, detectCgroupVersion, ownCgroups } from '../../src/runtime/cgroups/index.js';
import { readMountinfo, v1MountsFromMountinfo } from '../../src/runtime/cgroups/mounts.js';
import type { Spec } from '../../src/runtime/spec.js';
import { makeBundle, tempRoot, leftovers, cleanup, eventually } from '../support.js';

const v1Mount = (controller: string) => (v1MountsFromMountinfo(readMountinfo()) as Map<string, string>).get(controller)!;

const root = tempRoot('runtime');
const runtime = new Runtime(join(root, 'state'));
let n = 0;
const ids: string[] = [];

after(() => cleanup(root));
afterEach(() => {
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
});

/** Run a shell script in a container, attached, and collect its output. */
async function sh(script: string, patch: (s: Spec) => void = () => {}, opts: { keep?: boolean; id?: string } = {}): Promise<RunResult & { out: string; err: string }> {
  const id = opts.id ?? `t${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  const bundle = makeBundle(join(root, id), patch, { args: ['/bin/sh', '-c', script] });
  const outFile = join(root, `${id}.out`);
  const errFile = join(root, `${id}.err`);
  const o = openSync(outFile, 'w');
  const e = openSync(errFile, 'w');
  try {
    const result = await runtime.run({ id, bundle, stdio: ['ignore', o, e], keep: opts.keep, warn: () => {} });
    return { ...result, out: readFileSync(outFile, 'utf8'), err: readFileSync(errFile, 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
  }
}

test('the process is PID 1 and sees no host process', async () => {
  const r = await sh(`echo $$; ls /proc | grep -E '^[0-9]+$' | wc -l; test -e /proc/${process.pid} && echo host-visible || echo host-invisible`);
  assert.equal(r.status, 0, r.err);
  const [pid, count, host] = r.out.trim().split('\n');
  assert.equal(pid, '1');
  assert.ok(Number(count) <= 4, `saw ${count} processes`);
  assert.equal(host, 'host-invisible');
});

test('its hostname is its own and its network has only lo', async () => {
  const r = await sh('hostname; ls /sys/class/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "', (s) => { s.hostname = 'inside'; });
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['inside', 'lo', 'lo']);
});

test('host mounts, IPC objects and files outside the rootfs are invisible', async () => {
  const marker = join(root, 'outside-marker');
  writeFileSync(marker, 'secret');
  const shmid = execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }).match(/(\d+)/)![1]!;
  try {
    const hostIpc = readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n').length;
    assert.ok(hostIpc > 1, 'the host has a shared memory segment');
    const r = await sh(`cut -d" " -f5 /proc/self/mountinfo; echo ---; tail -n +2 /proc/sysvipc/shm | wc -l; test -e ${marker} && echo marker-visible || echo marker-invisible`);
    assert.equal(r.status, 0, r.err);
    const [mountPoints, rest] = r.out.split('---\n');
    // Only the container's own mounts: its root, the kernel filesystems and the /tmp it was given.
    for (const mountPoint of mountPoints!.trim().split('\n')) {
      assert.match(mountPoint, /^\/$|^\/(proc|dev|sys|tmp)(\/|$)/, `host mount ${mountPoint} is visible`);
    }
    assert.deepEqual(rest!.trim().split('\n'), ['0', 'marker-invisible']);
  } finally {
    execFileSync('ipcrm', ['-m', shmid]);
  }
});

test('masked paths read empty and /proc/sys is read-only', async () => {
  // /proc/kcore exists only on kernels built with it; every masked path the host has must read empty.
  const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'].filter((p) => existsSync(p));
  assert.ok(masked.length > 0, 'the host has none of the masked files');
  const r = await sh(`for p in ${masked.join(' ')}; do wc -c < $p; done; echo 1 > /proc/sys/kernel/domainname && echo wrote || echo refused; grep " /proc/sys " /proc/self/mountinfo | grep -c " ro,"`);
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), [...masked.map(() => '0'), 'refused', '1']);
  assert.match(r.err, /Read-only file system/);
});

test("the capability sets are exactly Docker's defaults", async () => {
  const r = await sh('grep ^Cap /proc/self/status');
  assert.equal(r.status, 0, r.err);
  const caps = Object.fromEntries(r.out.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
  // moby's default set: chown dac_override fowner fsetid kill setgid setuid setpcap
  // net_bind_service net_raw sys_chroot mknod audit_write setfcap.
  assert.equal(caps.CapBnd, '00000000a80425fb');
  assert.equal(caps.CapEff, '00000000a80425fb');
  assert.equal(caps.CapPrm, '00000000a80425fb');
  assert.equal(caps.CapInh, '0000000000000000');
  assert.equal(caps.CapAmb, '0000000000000000');
});

test('a syscall the profile denies fails with the configured errno', async () => {
  // Docker's profile: no new user namespaces without CAP_SYS_ADMIN.
  let r = await sh('unshare -U true && echo allowed || echo denied');
  assert.equal(r.out.trim(), 'denied');
  assert.match(r.err, /Operation not permitted/);
  // A rule of our own: mkdir fails with ENOMSG (42).
  r = await sh('mkdir /tmp/x 2>&1; echo rc=$?', (s) => {
    s.linux!.seccomp!.syscalls!.unshift({ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 });
  });
  assert.match(r.out, /No message of desired type/);
  assert.match(r.out, /rc=1/);
});

test('with a user namespace, uid 0 inside is the configured host uid', async () => {
  const id = `t${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  const bundle = makeBundle(join(root, id), (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  }, { args: ['/bin/sh', '-c', 'id -u; cat /proc/self/uid_map'] });
  const out = join(root, `${id}.out`);
  const fd = openSync(out, 'w');
  const record = await runtime.create({ id, bundle, stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  try {
    const status = readFileSync(`/proc/${record.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+100000\s+100000/m);
    runtime.start(id);
    for (let i = 0; i < 200 && runtime.stateOf(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(runtime.stateOf(id).exitStatus, 0);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0', '0 100000 65536']);
  } finally {
    await runtime.delete(id, true);
  }
});

test('exit status: the code, and 128+n for signal n', async () => {
  assert.equal((await sh('exit 3')).status, 3);
  // PID 1 of a pid namespace ignores signals it has no handler for, even its
  // own kill -9; only SIGKILL from outside always ends it (as `docker kill`).
  const id = `t${process.pid}${String(n + 1).padStart(3, '0')}`;
  const killer = setInterval(() => {
    try { if (runtime.stateOf(id).status === 'running') runtime.kill(id, 'SIGKILL'); } catch { /* not yet */ }
  }, 20);
  try {
    const r = await sh('sleep 30 & wait');
    assert.equal(r.status, 137);
    assert.equal(r.signal, 9);
  } finally {
    clearInterval(killer);
  }
});

test('a memory limit ends an allocating process with an OOM status', async () => {
  const limit = 32 * 1024 * 1024;
  const r = await sh('dd if=/dev/zero of=/dev/null bs=128M count=1', (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit, swap: limit } };
  });
  assert.equal(r.status, 137);
  assert.equal(r.oomKilled, true);
});

test('a pids limit stops a fork bomb', async () => {
  // The shell counts each child it managed to fork; the limit (10, the shell
  // included) stops it, and the shell gives up when fork fails.
  const r = await sh('for i in $(seq 1 40); do sleep 5 & echo $i; done', (s) => {
    s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
  });
  const forked = r.out.trim().split('\n').length;
  assert.ok(forked <= 9, `${forked} children forked under a limit of 10 pids`);
  assert.match(r.err, /can't fork/);
  assert.notEqual(r.status, 0);
});

test('a cpu quota of 0.2 cpus throttles a busy loop', async () => {
  const id = `t${process.pid}${String(++n).padStart(3, '0')}`;
  const start = process.hrtime.bigint();
  const r = await sh('end=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $end ]; do :; done', (s) => {
    s.linux!.resources = { ...s.linux!.resources, cpu: { quota: 20000, period: 100000 } };
  }, { keep: true, id });
  const wallNs = Number(process.hrtime.bigint() - start);
  try {
    assert.equal(r.status, 0, r.err);
    const stats = cgroupManager(`/berth/${id}`).stats();
    const share = stats.cpu.usageNs / wallNs;
    assert.ok(share < 0.3, `the loop used ${(share * 100).toFixed(0)}% of a cpu`);
    assert.ok(share > 0.1, `the loop used only ${(share * 100).toFixed(0)}% of a cpu`);
    assert.ok(stats.cpu.throttledPeriods > 5, `throttled ${stats.cpu.throttledPeriods} periods`);
  } finally {
    await runtime.delete(id, true);
  }
});

test('create, start, state, kill, delete: the lifecycle and its guards', async () => {
  const id = `t${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  const bundle = makeBundle(join(root, id), () => {}, { args: ['sleep', '60'] });
  const record = await runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
  assert.equal(runtime.stateOf(id).status, 'created');
  assert.equal(runtime.stateOf(id).pid, record.pid);
  await assert.rejects(runtime.delete(id), /cannot delete container "t\d+": it is created/);
  runtime.start(id);
  assert.equal(runtime.stateOf(id).status, 'running');
  assert.throws(() => runtime.start(id), /cannot start container "t\d+": it is running/);
  await assert.rejects(runtime.create({ id, bundle }), /already exists/);
  runtime.kill(id, 'SIGKILL');
  for (let i = 0; i < 200 && runtime.stateOf(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
  const state = runtime.stateOf(id);
  assert.equal(state.status, 'stopped');
  assert.equal(state.exitStatus, 137);
  await runtime.delete(id);
  assert.throws(() => runtime.stateOf(id), /container "t\d+" does not exist/);
  assert.ok(!existsSync(join(root, 'state', id)));
  } finally {
    if (existsSync(join(root, 'state', id))) await runtime.delete(id, true);
  }
});

test('a relative cgroupsPath is below the runtime\'s own cgroup in each hierarchy, and later verbs find it there (config-linux.md "Control groups")', async () => {
  const id = `t${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  const relative = `rel-${id}`;
  const bundle = makeBundle(join(root, id), (s) => { s.linux!.cgroupsPath = relative; }, { args: ['sleep', '60'] });
  const record = await runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'] });
  const own = ownCgroups();
  const expected = [...own].filter(([c]) => (detectCgroupVersion() === 1 ? ['memory', 'pids', 'cpu', 'freezer'] : ['']).includes(c));
  try {
    const theirs = ownCgroups(readFileSync(`/proc/${record.pid}/cgroup`, 'utf8'));
    assert.ok(expected.length > 0);
    for (const [c, parent] of expected) assert.equal(theirs.get(c), posix.join(parent, relative), `hierarchy ${c || 'v2'}`);
    runtime.start(id);
    runtime.kill(id, 'SIGKILL', true); // through the cgroup: found where create put it
    await eventually(() => runtime.stateOf(id).status === 'stopped', 5000, 'the container to stop');
    await runtime.delete(id);
    const dirs = cgroupOf(record);
    assert.equal(dirs.version === 1 ? dirs.dir('pids') : dirs.dir, dirs.version === 1 ? join(v1Mount('pids'), own.get('pids')!, relative) : join('/sys/fs/cgroup', own.get('')!, relative));
    for (const [c, parent] of expected) assert.ok(!existsSync(join(c === '' ? '/sys/fs/cgroup' : v1Mount(c), parent, relative)), `delete removed it in ${c || 'v2'}`);
  } finally {
    if (existsSync(join(root, 'state', id))) await runtime.delete(id, true);
  }
});

test('a missing or non-executable program is reported before anything starts (127, 126)', async () => {
  await assert.rejects(sh('true', (s) => { s.process!.args = ['nosuchprogram']; }), (e: { exitStatus?: number; message: string }) =>
    e.exitStatus === 127 && /executable file not found in \$PATH/.test(e.message));
  await assert.rejects(sh('true', (s) => { s.process!.args = ['/etc/passwd']; }), (e: { exitStatus?: number; message: string }) =>
    e.exitStatus === 126 && /permission denied/.test(e.message));
});

test('a missing rootfs is a clear error and leaves nothing', async () => {
  await assert.rejects(sh('true', (s) => { s.root.path = '/nonexistent-rootfs'; }), /root\.path: \/nonexistent-rootfs does not exist/);
});

test('process settings: user, groups, cwd, env, rlimits, no_new_privs, oom_score_adj, sysctl', async () => {
  const r = await sh('id -u; id -g; id -G; pwd; echo $GREETING; ulimit -n; grep NoNewPrivs /proc/self/status | tr -d "\\t "; cat /proc/self/oom_score_adj; cat /proc/sys/net/ipv4/ip_forward', (s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20] };
    s.process!.cwd = '/tmp';
    s.process!.env!.push('GREETING=hello');
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }];
    s.process!.noNewPrivileges = true;
    s.process!.oomScoreAdj = 500;
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  });
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['1000', '1000', '1000 10 20', '/tmp', 'hello', '512', 'NoNewPrivs:1', '500', '1']);
});

test('mounts: a read-only bind, a noexec tmpfs, mqueue and devpts', async () => {
  const data = join(root, 'bind-source');
  mkdirSync(data);
  writeFileSync(join(data, 'file'), 'from the host\n');
  const r = await sh('cat /data/file; echo x > /data/new 2>/dev/null && echo wrote || echo refused; cp /bin/busybox /scratch/bb && /scratch/bb true && echo ran || echo noexec; grep -c " /dev/mqueue " /proc/self/mountinfo; grep -c " /dev/pts " /proc/self/mountinfo', (s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro'] });
    s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'size=16m'] });
  });
  assert.deepEqual(r.out.trim().split('\n'), ['from the host', 'refused', 'noexec', '1', '1']);
  assert.ok(!existsSync(join(data, 'new')));
});

test('/dev: the default nodes and links, linux.devices, and the device cgroup', async () => {
  const r = await sh('for d in null zero full random urandom tty; do test -c /dev/$d && echo $d; done; for l in fd stdin ptmx; do readlink /dev/$l; done; test -d /dev/pts && test -d /dev/shm && echo dirs; echo hi > /dev/allowed && echo write-allowed; head -c1 /dev/denied >/dev/null 2>&1 && echo read-denied-failed || echo read-denied', (s) => {
    s.linux!.devices = [{ path: '/dev/allowed', type: 'c', major: 1, minor: 3, fileMode: 0o666 }, { path: '/dev/denied', type: 'c', major: 1, minor: 11, fileMode: 0o666 }];
  });
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['null', 'zero', 'full', 'random', 'urandom', 'tty', '/proc/self/fd', '/proc/self/fd/0', 'pts/ptmx', 'dirs', 'write-allowed', 'read-denied']);
});

test('/dev nodes have exactly their fileMode, uid and gid, whatever the umask (config-linux.md "Devices")', async () => {
  const umask = process.umask(0o077);
  let r: Awaited<ReturnType<typeof sh>>;
  try {
    r = await sh('for d in null zero full random urandom tty mine; do ls -ln /dev/$d | tr -s " " | cut -d" " -f1,3,4; done; echo x > /dev/null && echo wrote', (s) => {
      s.linux!.devices = [{ path: '/dev/mine', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 }];
    });
  } finally {
    process.umask(umask);
  }
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), [...Array(6).fill('crw-rw-rw- 0 0'), 'crw-r----- 1000 1001', 'wrote']);
});

test("a config like podman's (no linux.devices, CAP_MKNOD dropped, every device denied) still gets the default devices, usable (\"Default Devices\")", async () => {
  const r = await sh('for d in null zero full random urandom tty; do test -c /dev/$d && echo $d; done; echo x > /dev/null && head -c1 /dev/zero | wc -c', (s) => {
    delete s.linux!.devices;
    s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
    const caps = s.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = caps[set]!.filter((c) => c !== 'CAP_MKNOD');
  });
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['null', 'zero', 'full', 'random', 'urandom', 'tty', '1']);
});

test("a device whose mknod is denied is the host's node bound in its place, as runc does", async () => {
  const r = await sh('test -c /dev/kmsg && echo node; grep -c " /dev/kmsg " /proc/self/mountinfo', (s) => {
    s.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600 }];
    s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
  });
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['node', '1']);
});

test('a seccomp profile that denies close_range still starts: fds are closed before the filter is loaded', async () => {
  const r = await sh('echo started; cat /proc/self/status | grep ^Seccomp:', (s) => {
    s.process!.noNewPrivileges = false;
    for (const rule of s.linux!.seccomp!.syscalls ?? []) rule.names = rule.names.filter((name) => name !== 'close_range');
  });
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, 'started\nSeccomp:\t2\n');
});
