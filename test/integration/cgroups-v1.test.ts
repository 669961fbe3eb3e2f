// cgroup v1 on the real kernel, as root: the values read back from the
// kernel's files, and their effect on real processes (OOM kill, device access,
// fork limit). Every cgroup is /berth-test-<pid>-<n> and is removed in finally.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { cgroupManager, detectCgroupVersion, type CgroupManager } from '../../src/runtime/cgroups/index.js';
import { v1MountsFromMountinfo, readMountinfo } from '../../src/runtime/cgroups/mounts.js';
import { BerthError } from '../../src/util/errors.js';
import { cgroupConformance, eventually, join, spawnGated, type Gated } from '../unit/cgroups-conformance.js';

const mounts = v1MountsFromMountinfo(readMountinfo());
const skip = process.getuid?.() !== 0
  ? 'needs root: only root may create cgroups'
  : !mounts.has('memory') || !mounts.has('cpu') || !mounts.has('pids')
    ? 'needs cgroup v1 memory, cpu and pids hierarchies; this host has none (pure cgroup v2), see cgroups-v2.test.ts'
    : false;

const prefix = `berth-test-${process.pid}-`;
let n = 0;
const nextPath = (): string => `/${prefix}${++n}`;
const managers: CgroupManager[] = [];
const processes: Gated[] = [];

function fresh(path = nextPath()): CgroupManager {
  const m = cgroupManager(path);
  managers.push(m);
  return m;
}

function gated(script: string): Gated {
  const p = spawnGated(script);
  processes.push(p);
  return p;
}

function kernel(controller: string, m: CgroupManager, file: string): string {
  return readFileSync(joinPath(mounts.get(controller as 'memory') as string, m.path, file), 'utf8').trim();
}

after(() => {
  for (const p of processes) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const m of managers) try { m.destroy(); } catch (err) { console.error(`cleanup of ${m.path}: ${String(err)}`); }
});

describe('cgroup v1 on this kernel', { skip }, () => {
  test('this hybrid host is driven by v1', () => {
    assert.equal(detectCgroupVersion(), 1);
    assert.equal(fresh().version, 1);
  });

  cgroupConformance('cgroup v1 (real kernel)', { newManager: () => fresh(), absent: () => fresh(), live: true });

  test('limits read back from the kernel\'s files', () => {
    const m = fresh();
    m.create({
      memory: { limit: 100 * 2 ** 20, reservation: 50 * 2 ** 20, swap: 200 * 2 ** 20, swappiness: 10 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 64 },
      blockIO: { weight: 300 },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    });
    assert.equal(kernel('memory', m, 'memory.limit_in_bytes'), String(100 * 2 ** 20));
    assert.equal(kernel('memory', m, 'memory.soft_limit_in_bytes'), String(50 * 2 ** 20));
    if (existsSync(joinPath(mounts.get('memory') as string, m.path, 'memory.memsw.limit_in_bytes'))) {
      assert.equal(kernel('memory', m, 'memory.memsw.limit_in_bytes'), String(200 * 2 ** 20));
    } else {
      assert.ok(m.warnings.some((w) => w.includes('swap')), 'no swap accounting: a warning instead');
    }
    assert.equal(kernel('memory', m, 'memory.swappiness'), '10');
    assert.equal(kernel('cpu', m, 'cpu.shares'), '512');
    assert.equal(kernel('cpu', m, 'cpu.cfs_period_us'), '100000');
    assert.equal(kernel('cpu', m, 'cpu.cfs_quota_us'), '50000');
    assert.equal(kernel('cpuset', m, 'cpuset.cpus'), '0');
    assert.equal(kernel('pids', m, 'pids.max'), '64');
    assert.match(kernel('blkio', m, existsSync(joinPath(mounts.get('blkio') as string, m.path, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight'), /\b300$/);
    assert.equal(kernel('devices', m, 'devices.list'), 'c 1:3 rwm');
    const s = m.stats();
    assert.equal(s.memory.limit, 100 * 2 ** 20);
    assert.equal(s.pids.limit, 64);
    assert.match(m.describe().join('\n'), /memory: \/sys\/fs\/cgroup\/memory\/berth-test-\S+  memory\.limit_in_bytes=104857600 /);
  });

  test('update raises and lowers memory and memory+swap in the order the kernel accepts', () => {
    const m = fresh();
    m.create({ memory: { limit: 64 * 2 ** 20, swap: 128 * 2 ** 20 } });
    m.update({ memory: { limit: 256 * 2 ** 20, swap: 512 * 2 ** 20 } }); // memory first would exceed memsw: EINVAL
    assert.equal(kernel('memory', m, 'memory.limit_in_bytes'), String(256 * 2 ** 20));
    m.update({ memory: { limit: 32 * 2 ** 20, swap: 48 * 2 ** 20 } }); // memsw first would be below memory: EINVAL
    assert.equal(kernel('memory', m, 'memory.limit_in_bytes'), String(32 * 2 ** 20));
    m.update({ memory: { limit: -1 } });
    assert.equal(m.stats().memory.limit, undefined);
    m.update({ cpu: { quota: -1 } });
    assert.equal(kernel('cpu', m, 'cpu.cfs_quota_us'), '-1');
  });

  test('a value the kernel refuses names the field, the file and the errno; nothing is left behind', () => {
    const path = nextPath();
    const m = fresh(path);
    assert.throws(() => m.create({ cpu: { quota: 500 } }), (e: unknown) => {
      assert.ok(e instanceof BerthError);
      assert.equal(e.message, `linux.resources.cpu.quota: kernel refused "500" for /sys/fs/cgroup/cpu${path}/cpu.cfs_quota_us (EINVAL)`);
      return true;
    });
    for (const mount of new Set(mounts.values())) assert.ok(!existsSync(joinPath(mount, path)), `${mount}${path} rolled back`);
  });

  test('the OOM killer: a process over its memory limit is killed and oomKilled() says so', async () => {
    const m = fresh();
    m.create({ memory: { limit: 32 * 2 ** 20, swap: 32 * 2 ** 20 } });
    // tail buffers one endless line of zeros.
    const p = gated('exec tail /dev/zero');
    join(m, p.pid);
    assert.equal(m.oomKilled(), false);
    p.release();
    assert.equal((await p.exited).signal, 'SIGKILL');
    assert.equal(m.oomKilled(), true);
    assert.ok(m.stats().memory.oomKills >= 1);
    assert.ok((m.stats().memory.maxUsage ?? 0) >= 30 * 2 ** 20, `peak ${m.stats().memory.maxUsage}`);
  });

  test('device rules: /dev/null allowed, /dev/zero denied', async () => {
    const m = fresh();
    m.create({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    const p = gated('cat /dev/null; echo null=$? >&2; head -c 1 /dev/zero >/dev/null; echo zero=$? >&2');
    join(m, p.pid);
    p.release();
    await p.exited;
    assert.match(p.stderr(), /null=0/);
    assert.match(p.stderr(), /Operation not permitted/);
    assert.match(p.stderr(), /zero=1/);
  });

  test('pids limit: a cgroup at its limit cannot fork', async () => {
    const m = fresh();
    m.create({ pids: { limit: 1 } });
    const p = gated('/bin/true; echo forked=$? >&2');
    join(m, p.pid);
    p.release();
    await p.exited;
    assert.match(p.stderr(), /fork|Resource temporarily unavailable/i);
    assert.doesNotMatch(p.stderr(), /forked=0/);
  });

  test('a nested path: cpuset copied into the intermediate, a process can join, destroy removes both levels', async () => {
    const top = nextPath();
    const m = fresh(`${top}/inner`);
    m.create();
    const cpusetTop = joinPath(mounts.get('cpuset') as string, top);
    assert.equal(readFileSync(joinPath(cpusetTop, 'cpuset.cpus'), 'utf8').trim(), readFileSync(joinPath(mounts.get('cpuset') as string, 'cpuset.cpus'), 'utf8').trim());
    assert.notEqual(kernel('cpuset', m, 'cpuset.mems'), '');
    const p = gated('exec sleep 30');
    join(m, p.pid); // EINVAL/ENOSPC here if cpuset were empty
    assert.deepEqual(m.pids(), [p.pid]);
    m.kill('SIGKILL');
    await p.exited;
    await eventually('empty', () => m.pids().length === 0);
    m.destroy();
    for (const mount of new Set(mounts.values())) assert.ok(!existsSync(joinPath(mount, top)), `${mount}${top} removed (this instance made it)`);
  });

  test('a second instance (a later `berth delete`) removes the container\'s cgroup, not the shared ancestor', () => {
    const top = nextPath();
    fresh(`${top}/c`).create();
    fresh(`${top}/c`).destroy();
    assert.ok(!existsSync(joinPath(mounts.get('memory') as string, top, 'c')));
    assert.ok(existsSync(joinPath(mounts.get('memory') as string, top)), 'ancestors belong to every container');
    fresh(top).destroy();
  });

  test('nothing is left behind', () => {
    for (const m of managers) m.destroy();
    for (const mount of new Set(mounts.values())) {
      assert.deepEqual(readdirSync(mount).filter((e) => e.startsWith(prefix)), [], mount);
    }
  });
});
