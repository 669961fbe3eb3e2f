// Finding the cgroup filesystems (mountinfo), choosing the driver, and checking
// a cgroupsPath.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupManager, detectCgroupVersion, normaliseCgroupsPath, ownCgroups } from '../../src/runtime/cgroups/index.js';
import { parseMountinfo, v1MountsFromMountinfo, v1MountsUnder, v2MountFromMountinfo } from '../../src/runtime/cgroups/mounts.js';
import { BerthError } from '../../src/util/errors.js';

// This build machine's own mountinfo: v1 controllers plus an empty cgroup2 at /sys/fs/cgroup/unified.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// A typical systemd host in legacy mode: cpu and cpuacct co-mounted.
const LEGACY = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
28 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
31 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
32 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
`;

// Fedora, Ubuntu 22.04+, Debian 11+: pure v2.
const UNIFIED = `23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

test('detectCgroupVersion: v2 only when /sys/fs/cgroup itself is cgroup2', () => {
  assert.equal(detectCgroupVersion(HYBRID), 1);
  assert.equal(detectCgroupVersion(LEGACY), 1);
  assert.equal(detectCgroupVersion(UNIFIED), 2);
  // Mounts stack: a tmpfs over a cgroup2 /sys/fs/cgroup, with v1 hierarchies, is not pure v2.
  assert.equal(detectCgroupVersion(UNIFIED + '30 26 0:30 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n31 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n'), 1);
  assert.throws(() => detectCgroupVersion('23 22 0:21 / /sys rw - sysfs sysfs rw\n'), (e: unknown) => e instanceof BerthError && e.code === 'CGROUP_NOT_MOUNTED');
});

test('detectCgroupVersion reads this host\'s mountinfo by default', () => {
  assert.ok([1, 2].includes(detectCgroupVersion()));
});

test('v1 mounts: each controller of each cgroup mount; named hierarchies and cgroup2 are not controllers', () => {
  assert.deepEqual(Object.fromEntries(v1MountsFromMountinfo(HYBRID)), {
    cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', cpuset: '/sys/fs/cgroup/cpuset', memory: '/sys/fs/cgroup/memory',
    devices: '/sys/fs/cgroup/devices', freezer: '/sys/fs/cgroup/freezer', blkio: '/sys/fs/cgroup/blkio', pids: '/sys/fs/cgroup/pids',
  });
  assert.deepEqual(Object.fromEntries(v1MountsFromMountinfo(LEGACY)), {
    cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory',
  });
});

test('v2 mount: /sys/fs/cgroup when pure, /sys/fs/cgroup/unified when hybrid', () => {
  assert.equal(v2MountFromMountinfo(UNIFIED), '/sys/fs/cgroup');
  assert.equal(v2MountFromMountinfo(HYBRID), '/sys/fs/cgroup/unified');
  assert.throws(() => v2MountFromMountinfo(LEGACY), (e: unknown) => e instanceof BerthError && e.code === 'CGROUP_NOT_MOUNTED');
});

test('mountinfo: optional fields and octal escapes', () => {
  const [m] = parseMountinfo('40 31 0:37 /a\\040b /mnt/with\\040space rw,relatime shared:5 master:2 - cgroup cgroup rw,memory\n');
  assert.deepEqual(m, { root: '/a b', mountPoint: '/mnt/with space', fsType: 'cgroup', source: 'cgroup', superOptions: ['rw', 'memory'] });
});

test('v1 layout under a root directory: names are controllers, symlinks resolve to the co-mount', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-mounts-'));
  try {
    mkdirSync(join(root, 'cpu,cpuacct'));
    symlinkSync('cpu,cpuacct', join(root, 'cpu'));
    symlinkSync('cpu,cpuacct', join(root, 'cpuacct'));
    mkdirSync(join(root, 'memory'));
    mkdirSync(join(root, 'systemd'));
    writeFileSync(join(root, 'stray'), '');
    const found = v1MountsUnder(root);
    assert.deepEqual([...found.keys()].sort(), ['cpu', 'cpuacct', 'memory']);
    assert.equal(found.get('cpu'), found.get('cpuacct'));
    assert.equal(cgroupManager('/x', { root }).version, 1, 'no cgroup.controllers at the top: v1');
    writeFileSync(join(root, 'cgroup.controllers'), '');
    assert.equal(cgroupManager('/x', { root }).version, 2, 'cgroup.controllers at the top: v2');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroupsPath: absolute or relative, normalised, never the root, no systemd form, no ..', () => {
  assert.equal(normaliseCgroupsPath('/berth/abc'), '/berth/abc');
  assert.equal(normaliseCgroupsPath('//berth//abc/'), '/berth/abc');
  assert.equal(normaliseCgroupsPath('pods/abc'), '/pods/abc', 'config-linux.md: a relative path is relative to the runtime\'s cgroup');
  const bad: [string, string][] = [
    ['', 'is empty'],
    ['/', 'root cgroup'],
    ['pods/../../etc', '".."'],
    ['system.slice:docker:abc', 'systemd'],
    ['/berth/../etc', '".."'],
    ['/berth/a\nb', 'newline'],
  ];
  for (const [path, words] of bad) {
    assert.throws(() => normaliseCgroupsPath(path), (e: unknown) => e instanceof BerthError && e.kind === 'invalid' && e.message.includes('linux.cgroupsPath') && e.message.includes(words), path);
  }
  assert.throws(() => cgroupManager('/x', { root: '/nonexistent-berth-root' }), (e: unknown) => e instanceof BerthError && e.code === 'CGROUP_ROOT_MISSING');
});

test('a relative cgroupsPath is below the runtime\'s own cgroup in each hierarchy (v1 per controller, v2 its one path)', () => {
  const own = ownCgroups('12:pids:/user.slice\n4:memory:/session/7\n2:cpu,cpuacct:/\n1:name=systemd:/user.slice\n0::/ignored\n');
  assert.deepEqual([...own], [['pids', '/user.slice'], ['memory', '/session/7'], ['cpu', '/'], ['cpuacct', '/'], ['name=systemd', '/user.slice'], ['', '/ignored']]);
  const v1 = mkdtempSync(join(tmpdir(), 'berth-cg-rel-'));
  const v2 = mkdtempSync(join(tmpdir(), 'berth-cg-rel-'));
  try {
    for (const h of ['pids', 'memory', 'cpu,cpuacct']) mkdirSync(join(v1, h));
    const m1 = cgroupManager('pods/c1', { root: v1, version: 1, parents: own });
    assert.equal(m1.version === 1 && m1.dir('memory'), join(v1, 'memory', 'session/7/pods/c1'));
    assert.equal(m1.version === 1 && m1.dir('pids'), join(v1, 'pids', 'user.slice/pods/c1'));
    assert.equal(m1.version === 1 && m1.dir('cpu'), join(v1, 'cpu,cpuacct', 'pods/c1'));
    const abs = cgroupManager('/pods/c1', { root: v1, version: 1, parents: own });
    assert.equal(abs.version === 1 && abs.dir('memory'), join(v1, 'memory', 'pods/c1'), 'an absolute path ignores the parents');
    writeFileSync(join(v2, 'cgroup.controllers'), '');
    const m2 = cgroupManager('c2', { root: v2, version: 2, parents: ownCgroups('0::/system.slice/x.service\n') });
    assert.equal(m2.version === 2 && m2.dir, join(v2, 'system.slice/x.service/c2'));
  } finally {
    rmSync(v1, { recursive: true, force: true });
    rmSync(v2, { recursive: true, force: true });
  }
});
