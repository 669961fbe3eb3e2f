// The run options for resources, limits and security: Docker's syntax read
// from the command line, Docker's checks and messages, and what each option
// makes of the OCI spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ramInBytes } from '../../src/util/units.js';
import { hostFlags, parseCpus, parseDevice, parseMemorySwap, parseSecurityOpt, parseSysctl, parseUlimit, resourcesFromFlags } from '../../src/cli/container/flags-host.js';
import { applyHostConfig, parseCpuList, resourcesOf, tweakCapabilities, validateHostConfig } from '../../src/engine/host-options.js';
import type { CreateBody, HostConfig } from '../../src/engine/host-config.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES } from '../../src/runtime/defaults.js';
import { dockerDefaultSeccomp } from '../../src/runtime/seccomp/docker-default.js';
import { currentHardLimits } from '../../src/runtime/rlimits.js';
import type { Spec } from '../../src/runtime/spec.js';

const MiB = 1024 * 1024;

test("sizes as Docker's RAMInBytes reads them: 1024-based, b k m g t p, optional i and b", () => {
  assert.equal(ramInBytes('64m'), 64 * MiB);
  assert.equal(ramInBytes('64M'), 64 * MiB);
  assert.equal(ramInBytes('64mb'), 64 * MiB);
  assert.equal(ramInBytes('64MiB'), 64 * MiB);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 * MiB);
  assert.equal(ramInBytes('512k'), 512 * 1024);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('100b'), 100);
  assert.equal(ramInBytes('1 k'), 1024);
  for (const bad of ['', 'm', '64x', '-1', '1.2.3m', '64mm', ' 64m']) assert.throws(() => ramInBytes(bad), new RegExp(`invalid size: '${bad.replace('.', '\\.')}'`), bad);
});

test('--cpus is exact to the nano-CPU, and too fine a value is refused', () => {
  assert.equal(parseCpus('1.5'), 1_500_000_000);
  assert.equal(parseCpus('0.01'), 10_000_000);
  assert.equal(parseCpus('2'), 2_000_000_000);
  assert.equal(parseCpus('.5'), 500_000_000);
  assert.equal(parseCpus('0.000000001'), 1);
  assert.throws(() => parseCpus('0.0000000001'), /invalid argument "0\.0000000001" for "--cpus" flag: value is too precise/);
  assert.throws(() => parseCpus('one'), /failed to parse one as a rational number/);
  assert.throws(() => parseCpus(''), /failed to parse/);
});

test('--memory-swap takes -1 for unlimited; bad sizes name the flag', () => {
  assert.equal(parseMemorySwap('-1'), -1);
  assert.equal(parseMemorySwap('1g'), 1024 * MiB);
  assert.throws(() => parseMemorySwap('lots'), /invalid argument "lots" for "--memory-swap" flag: invalid size: 'lots'/);
  assert.throws(() => resourcesFromFlags({ memory: '64x' }), /invalid argument "64x" for "-m, --memory" flag: invalid size: '64x'/);
  assert.throws(() => resourcesFromFlags({ cpuShares: 'high' }), /for "-c, --cpu-shares" flag: strconv\.ParseInt: parsing "high": invalid syntax/);
  assert.deepEqual(resourcesFromFlags({ memory: '64m', cpus: '1.5', pidsLimit: '-1', cpusetCpus: '0' }), { Memory: 64 * MiB, NanoCpus: 1.5e9, PidsLimit: -1, CpusetCpus: '0' });
});

test('--ulimit name=soft[:hard], as go-units parses it', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=100'), { Name: 'nproc', Soft: 100, Hard: 100 });
  assert.deepEqual(parseUlimit('core=-1'), { Name: 'core', Soft: -1, Hard: -1 });
  assert.throws(() => parseUlimit('nofile'), /invalid ulimit argument: nofile/);
  assert.throws(() => parseUlimit('files=10'), /invalid ulimit type: files/);
  assert.throws(() => parseUlimit('nofile=ten'), /invalid ulimit soft value ten/);
  assert.throws(() => parseUlimit('nofile=1:two'), /invalid ulimit hard value two/);
  assert.throws(() => parseUlimit('nofile=2048:1024'), /ulimit soft limit must be less than or equal to hard limit: 2048 > 1024/);
  assert.throws(() => parseUlimit('nofile=1:2:3'), /too many limit value arguments/);
});

test('--device host[:container][:mode], as Docker parses it', () => {
  assert.deepEqual(parseDevice('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/fuse:/dev/fuse:rwm'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/zero:/dev/myzero'), { PathOnHost: '/dev/zero', PathInContainer: '/dev/myzero', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/zero:r'), { PathOnHost: '/dev/zero', PathInContainer: '/dev/zero', CgroupPermissions: 'r' });
  assert.throws(() => parseDevice('/dev/zero:/dev/z:rwx'), /invalid device mode: rwx/);
  assert.throws(() => parseDevice('/dev/zero:relative'), /bad format for path: \/dev\/zero:relative/);
  assert.throws(() => parseDevice('/a:/b:r:x'), /bad format for path/);
});

test('--sysctl: only the namespaced keys Docker allows', () => {
  assert.deepEqual(parseSysctl('net.ipv4.ip_forward=1'), ['net.ipv4.ip_forward', '1']);
  assert.deepEqual(parseSysctl('kernel.shmmax=1000'), ['kernel.shmmax', '1000']);
  assert.deepEqual(parseSysctl('fs.mqueue.msg_max=20'), ['fs.mqueue.msg_max', '20']);
  assert.throws(() => parseSysctl('kernel.panic=1'), /invalid argument "kernel\.panic=1" for "--sysctl" flag: sysctl 'kernel\.panic=1' is not allowed/);
  assert.throws(() => parseSysctl('net.ipv4.ip_forward'), /is not allowed/);
});

test('--security-opt seccomp=FILE is read and carried inline; a missing or broken file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
  try {
    const file = join(dir, 'p.json');
    writeFileSync(file, '{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n');
    assert.equal(parseSecurityOpt(`seccomp=${file}`), 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}');
    assert.equal(parseSecurityOpt('seccomp=unconfined'), 'seccomp=unconfined');
    assert.equal(parseSecurityOpt('no-new-privileges'), 'no-new-privileges');
    assert.throws(() => parseSecurityOpt(`seccomp=${join(dir, 'none.json')}`), /opening seccomp profile \(.*none\.json\) failed/);
    writeFileSync(file, '{ not json');
    assert.throws(() => parseSecurityOpt(`seccomp=${file}`), /compacting json for seccomp profile \(.*p\.json\) failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("capabilities as moby's TweakCapabilities: CAP_ optional, any case, ALL on either side", () => {
  const all = ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', ...DOCKER_DEFAULT_CAPABILITIES].filter((c, i, a) => a.indexOf(c) === i) as never[];
  assert.deepEqual(tweakCapabilities({}), [...DOCKER_DEFAULT_CAPABILITIES]);
  const added = tweakCapabilities({ CapAdd: ['net_admin'], CapDrop: ['CAP_chown'] });
  assert.ok(added.includes('CAP_NET_ADMIN') && !added.includes('CAP_CHOWN'));
  assert.deepEqual(tweakCapabilities({ CapAdd: ['ALL'], CapDrop: ['sys_admin'] }, all), all.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(tweakCapabilities({ CapDrop: ['all'], CapAdd: ['NET_RAW'] }), ['CAP_NET_RAW']);
  assert.deepEqual(tweakCapabilities({ Privileged: true, CapDrop: ['ALL'] }, all), all);
  assert.throws(() => tweakCapabilities({ CapAdd: ['FLY'] }), /unknown capability: "CAP_FLY"/);
  assert.throws(() => tweakCapabilities({ CapDrop: ['cap_fly'] }), /unknown capability: "CAP_FLY"/);
});

test("Docker's checks of resources, with Docker's messages", () => {
  const n = availableParallelism();
  const refuses = (hc: HostConfig, message: RegExp) => assert.throws(() => validateHostConfig(hc), message, JSON.stringify(hc));
  refuses({ Memory: 4 * MiB }, /^BerthError: Minimum memory limit allowed is 6MB$/);
  refuses({ Memory: 64 * MiB, MemorySwap: 32 * MiB }, /Minimum memoryswap limit should be larger than memory limit, see usage/);
  refuses({ MemorySwap: 64 * MiB }, /You should always set the Memory limit when using Memoryswap limit, see usage/);
  refuses({ NanoCpus: (n + 1) * 1e9 }, new RegExp(`Range of CPUs is from 0\\.01 to ${n}\\.00, as there are only ${n} CPUs available`));
  refuses({ NanoCpus: 1e6 }, /Range of CPUs is from 0\.01/);
  refuses({ CpusetCpus: '0-' }, /Invalid value 0- for cpuset cpus/);
  refuses({ CpusetCpus: '4096' }, /Requested CPUs are not available - requested 4096, available: 0/);
  refuses({ ShmSize: -1 }, /SHM size can not be less than 0/);
  refuses({ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }, /ulimit soft limit must be less than or equal to hard limit: 10 > 5/);
  refuses({ SecurityOpt: ['bogus'] }, /invalid --security-opt 1: "bogus"/);
  refuses({ SecurityOpt: ['no-new-privileges=maybe'] }, /invalid --security-opt 2: "no-new-privileges=maybe"/);
  refuses({ SecurityOpt: ['colour=blue'] }, /invalid --security-opt 2: "colour=blue"/);
  refuses({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_FLY"}]}'] }, /SCMP_ACT_FLY/);
  refuses({ SecurityOpt: ['seccomp={"syscalls":[]}'] }, /Decoding seccomp profile failed: defaultAction/);
  refuses({ Devices: [{ PathOnHost: '/dev/no-such-device', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }, /error gathering device information while adding custom device "\/dev\/no-such-device": no such file or directory/);
  refuses({ Devices: [{ PathOnHost: '/etc/hostname', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }, /"\/etc\/hostname": not a device node/);
  refuses({ UsernsMode: 'keep-id' }, /--userns: invalid USER mode "keep-id"/);
  // What is allowed.
  validateHostConfig({ Memory: 6 * MiB, MemorySwap: 6 * MiB, NanoCpus: 1e7, CpusetCpus: '0', UsernsMode: 'host', SecurityOpt: ['no-new-privileges:true', 'seccomp=unconfined'] });
  validateHostConfig({ MemorySwap: 64 * MiB }, { update: true });
  assert.deepEqual(parseCpuList('0-2,5'), new Set([0, 1, 2, 5]));
});

test('the flag group writes HostConfig and refuses before anything is made', () => {
  const body: CreateBody = { Image: 'busybox' };
  hostFlags.apply({ memory: '64m', cpus: '1.5', readOnly: true, init: true, capAdd: ['NET_ADMIN'], ulimit: ['nofile=10:20'], sysctl: ['net.ipv4.ip_forward=1'], shmSize: '128m' }, body);
  assert.deepEqual(body.HostConfig, {
    Memory: 64 * MiB, NanoCpus: 1.5e9, ReadonlyRootfs: true, Init: true, CapAdd: ['NET_ADMIN'], Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }],
    Sysctls: { 'net.ipv4.ip_forward': '1' }, ShmSize: 128 * MiB,
  });
  assert.throws(() => hostFlags.apply({ memory: '1m' }, { Image: 'busybox' }), /Minimum memory limit allowed is 6MB/);
});

test("resources as Docker sets them: swap twice the memory by default, CFS period 100 ms, shares clamped", () => {
  const warnings: string[] = [];
  assert.deepEqual(resourcesOf({ Memory: 64 * MiB, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0', PidsLimit: 50 }), {
    memory: { limit: 64 * MiB, swap: 128 * MiB }, cpu: { shares: 512, period: 100000, quota: 150000, cpus: '0' }, pids: { limit: 50 },
  });
  assert.deepEqual(resourcesOf({ Memory: 64 * MiB, MemorySwap: -1 }), { memory: { limit: 64 * MiB, swap: -1 } });
  assert.deepEqual(resourcesOf({ Memory: 64 * MiB }, undefined, { update: true }), { memory: { limit: 64 * MiB } });
  assert.deepEqual(resourcesOf({ CpuShares: 1 }, (m) => warnings.push(m)), { cpu: { shares: 2 } });
  assert.deepEqual(resourcesOf({ CpuShares: 1e6 }, (m) => warnings.push(m)), { cpu: { shares: 262144 } });
  assert.deepEqual(warnings, ['Changing requested CPUShares of 1 to minimum allowed of 2', 'Changing requested CPUShares of 1000000 to maximum allowed of 262144']);
  assert.deepEqual(resourcesOf({}), {});
});

function spec(): Spec {
  return defaultSpec({ args: ['sh'], seccomp: dockerDefaultSeccomp(DOCKER_DEFAULT_CAPABILITIES) });
}

function applied(hc: HostConfig): { spec: Spec; warnings: string[] } {
  const s = spec();
  const warnings: string[] = [];
  applyHostConfig(s, hc, { rootfs: '/nonexistent', warn: (m) => warnings.push(m) });
  return { spec: s, warnings };
}

test('cap-add derives the seccomp profile again (CAP_SYS_ADMIN opens mount, unshare…)', () => {
  const plain = applied({}).spec;
  const admin = applied({ CapAdd: ['SYS_ADMIN'] }).spec;
  const allowed = (s: Spec) => new Set((s.linux!.seccomp!.syscalls ?? []).filter((c) => c.action === 'SCMP_ACT_ALLOW').flatMap((c) => c.names));
  assert.ok(!allowed(plain).has('mount'));
  assert.ok(allowed(admin).has('mount'));
  assert.ok(admin.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(admin.process!.capabilities!.effective, admin.process!.capabilities!.bounding);
});

test('--privileged: every capability the host has, no seccomp, nothing masked, /sys and cgroups writable, every device', () => {
  const { spec: s } = applied({ Privileged: true });
  assert.equal(s.linux!.seccomp, undefined);
  assert.deepEqual(s.linux!.maskedPaths, []);
  assert.deepEqual(s.linux!.readonlyPaths, []);
  assert.ok(!s.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.ok(!s.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
  assert.deepEqual(s.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(s.linux!.devices!.some((d) => d.path === '/dev/null' && d.major === 1 && d.minor === 3));
  assert.ok(!s.linux!.devices!.some((d) => d.path === '/dev/ptmx' || d.path.startsWith('/dev/pts/')));
  assert.ok(s.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
});

test('seccomp=unconfined and a profile of ours; no-new-privileges', () => {
  assert.equal(applied({ SecurityOpt: ['seccomp=unconfined'] }).spec.linux!.seccomp, undefined);
  const custom = applied({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13}]}', 'no-new-privileges'] }).spec;
  assert.deepEqual(custom.linux!.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
  assert.equal(custom.process!.noNewPrivileges, true);
  assert.equal(applied({ SecurityOpt: ['no-new-privileges=false'] }).spec.process!.noNewPrivileges, false);
});

test('devices: the node and a cgroup rule with its mode; the spec keeps the rest of the rules', () => {
  const { spec: s } = applied({ Devices: [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/myzero', CgroupPermissions: 'r' }] });
  assert.deepEqual(s.linux!.devices!.map((d) => [d.path, d.type, d.major, d.minor]), [['/dev/myzero', 'c', 1, 5]]);
  assert.deepEqual(s.linux!.resources!.devices!.at(-1), { allow: true, type: 'c', major: 1, minor: 5, access: 'r' });
  assert.equal(s.linux!.resources!.devices![0]!.allow, false);
});

test('--ulimit replaces the default of the same name, and a hard limit above the host is clamped with a warning', () => {
  const hostNofile = Number(currentHardLimits().get('RLIMIT_NOFILE'));
  const { spec: s, warnings } = applied({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: hostNofile + 1 }, { Name: 'core', Soft: -1, Hard: -1 }] });
  const nofile = s.process!.rlimits!.filter((r) => r.type === 'RLIMIT_NOFILE');
  assert.equal(nofile.length, 1);
  assert.equal(nofile[0]!.soft, 1024);
  if (warnings.length) {
    assert.equal(nofile[0]!.hard, hostNofile);
    assert.match(warnings[0]!, new RegExp(`--ulimit nofile: hard limit ${hostNofile + 1} is above this host's ${hostNofile}.*clamped to ${hostNofile}`));
  } else {
    assert.equal(nofile[0]!.hard, hostNofile + 1, 'a host with CAP_SYS_RESOURCE keeps the limit');
  }
  assert.ok(s.process!.rlimits!.some((r) => r.type === 'RLIMIT_CORE'));
});

test('--shm-size, --read-only, --sysctl, --init', () => {
  const { spec: s } = applied({ ShmSize: 128 * MiB, ReadonlyRootfs: true, Sysctls: { 'net.ipv4.ip_forward': '1' }, Init: true });
  assert.ok(s.mounts!.find((m) => m.destination === '/dev/shm')!.options!.includes(`size=${128 * MiB}`));
  assert.ok(!s.mounts!.find((m) => m.destination === '/dev/shm')!.options!.includes('size=65536k'));
  assert.equal(s.root.readonly, true);
  assert.deepEqual(s.linux!.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(s.process!.args, ['/sbin/docker-init', '--', 'sh']);
  assert.deepEqual(s.mounts!.find((m) => m.destination === '/sbin/docker-init')!.options, ['bind', 'ro']);
});
