// cgroup v2 on the real kernel, as root. On a pure v2 host that is
// /sys/fs/cgroup with every controller; on a hybrid host (this build machine)
// it is /sys/fs/cgroup/unified, where the core works (join, cgroup.freeze,
// cgroup.kill, cpu.stat) but memory, cpu and pids are bound to v1, so limit
// checks for those skip and say why. Controllers the v2 tree does have (hugetlb
// here) are tested for real, subtree_control included. Every cgroup is
// /berth-test-<pid>-<n> and is removed in finally.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { cgroupManager, detectCgroupVersion, type CgroupManager } from '../../src/runtime/cgroups/index.js';
import { readMountinfo, v2MountFromMountinfo } from '../../src/runtime/cgroups/mounts.js';
import { BerthError } from '../../src/util/errors.js';
import { cgroupConformance, eventually, join, spawnGated, type Gated } from '../unit/cgroups-conformance.js';

let mount: string | undefined;
try {
  mount = v2MountFromMountinfo(readMountinfo());
} catch {
  mount = undefined;
}
const skip = process.getuid?.() !== 0
  ? 'needs root: only root may create cgroups'
  : mount === undefined
    ? 'needs a cgroup2 mount; this host has none (cgroup v1 only), see cgroups-v1.test.ts'
    : false;
const root = mount ?? '/sys/fs/cgroup';
const pure = mount === '/sys/fs/cgroup';
const available = (): string[] => readFileSync(joinPath(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
const lacking = (...controllers: string[]): string | false => {
  const missing = controllers.filter((c) => !available().includes(c));
  if (missing.length === 0) return false;
  return `the ${missing.join(', ')} controller${missing.length > 1 ? 's are' : ' is'} not in ${root}/cgroup.controllers ` +
    `(it has: ${available().join(' ') || 'none'})${pure ? '' : '; on this hybrid host those are bound to cgroup v1, so only a pure v2 host can check these limits'}`;
};

const prefix = `berth-test-${process.pid}-`;
let n = 0;
const nextPath = (): string => `/${prefix}${++n}`;
const managers: CgroupManager[] = [];
const processes: Gated[] = [];
let rootSubtreeBefore = '';

function fresh(path = nextPath()): CgroupManager {
  const m = cgroupManager(path, { version: 2 });
  managers.push(m);
  return m;
}

function kernel(m: CgroupManager, file: string): string {
  return readFileSync(joinPath(root, m.path, file), 'utf8').trim();
}

describe('cgroup v2 on this kernel', { skip }, () => {
  before(() => { rootSubtreeBefore = readFileSync(joinPath(root, 'cgroup.subtree_control'), 'utf8').trim(); });
  after(() => {
    for (const p of processes) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    for (const m of managers) try { m.destroy(); } catch (err) { console.error(`cleanup of ${m.path}: ${String(err)}`); }
    // On a hybrid host, give back the root's subtree_control as found; best
    // effort (a controller still in use below stays enabled).
    if (!pure) {
      const now = readFileSync(joinPath(root, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const c of now) {
        if (!rootSubtreeBefore.split(/\s+/).includes(c)) try { writeFileSync(joinPath(root, 'cgroup.subtree_control'), `-${c}`); } catch { /* in use */ }
      }
    }
  });

  test(`the manager for version 2 uses ${root}`, () => {
    const m = fresh();
    assert.equal(m.version, 2);
    assert.equal(m.procsFiles()[0], joinPath(root, m.path, 'cgroup.procs'));
    if (pure) assert.equal(detectCgroupVersion(), 2);
  });

  cgroupConformance('cgroup v2 (real kernel)', { newManager: () => fresh(), absent: () => fresh(), live: true });

  test('memory, cpu and pids limits read back from the kernel\'s files', (t) => {
    const why = lacking('memory', 'cpu', 'pids');
    if (why) return t.skip(why);
    const m = fresh();
    m.create({ memory: { limit: 100 * 2 ** 20, reservation: 50 * 2 ** 20 }, cpu: { shares: 1024, quota: 50000, period: 100000 }, pids: { limit: 64 } });
    assert.equal(kernel(m, 'memory.max'), String(100 * 2 ** 20));
    assert.equal(kernel(m, 'memory.low'), String(50 * 2 ** 20));
    assert.equal(kernel(m, 'cpu.weight'), '39');
    assert.equal(kernel(m, 'cpu.max'), '50000 100000');
    assert.equal(kernel(m, 'pids.max'), '64');
    assert.deepEqual({ memory: m.stats().memory.limit, pids: m.stats().pids.limit }, { memory: 100 * 2 ** 20, pids: 64 });
  });

  test('the OOM killer on v2: memory.events oom_kill', async (t) => {
    const why = lacking('memory');
    if (why) return t.skip(why);
    const m = fresh();
    m.create({ memory: { limit: 32 * 2 ** 20, swap: 32 * 2 ** 20 } });
    const p = spawnGated('exec tail /dev/zero');
    processes.push(p);
    join(m, p.pid);
    p.release();
    assert.equal((await p.exited).signal, 'SIGKILL');
    assert.equal(m.oomKilled(), true);
  });

  test('a limit whose controller this v2 tree lacks is refused, naming controller and field; nothing is left behind', (t) => {
    const missing = ['memory', 'pids', 'cpu'].find((c) => !available().includes(c));
    if (missing === undefined) return t.skip(`every controller is in ${root}/cgroup.controllers; the refusal is covered by the fake-tree unit tests`);
    const path = nextPath();
    const resources = { memory: { memory: { limit: 2 ** 20 } }, pids: { pids: { limit: 5 } }, cpu: { cpu: { shares: 512 } } }[missing];
    const field = { memory: 'linux.resources.memory.limit', pids: 'linux.resources.pids.limit', cpu: 'linux.resources.cpu.shares' }[missing];
    assert.throws(() => fresh(path).create(resources), (e: unknown) => {
      assert.ok(e instanceof BerthError && e.code === 'CGROUP_CONTROLLER_UNAVAILABLE', String(e));
      assert.ok(e.message.startsWith(`${field}: needs the ${missing} controller`), e.message);
      return true;
    });
    assert.ok(!existsSync(joinPath(root, path)));
  });

  test('hugetlb: enabled in every ancestor\'s subtree_control, the limit read back; destroy removes the ancestor it made', (t) => {
    const why = lacking('hugetlb');
    if (why) return t.skip(why);
    const top = nextPath();
    const m = fresh(`${top}/inner`);
    m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 ** 21 }] });
    assert.ok(readFileSync(joinPath(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('hugetlb'), 'root');
    assert.ok(readFileSync(joinPath(root, top, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('hugetlb'), top);
    assert.equal(readFileSync(joinPath(root, top, 'inner', 'cgroup.subtree_control'), 'utf8').trim(), '', 'the container keeps none: it holds processes');
    assert.equal(kernel(m, 'hugetlb.2MB.max'), String(4 * 2 ** 21));
    assert.match(m.describe()[0], /hugetlb\.2MB\.max=8388608/);
    m.destroy();
    assert.ok(!existsSync(joinPath(root, top)), 'the intermediate this instance made is gone');
  });

  test('cgroup.kill kills a whole subtree, nested cgroups included', async () => {
    const m = fresh();
    m.create();
    const p = spawnGated('exec sleep 300');
    processes.push(p);
    join(m, p.pid);
    // A cgroup the container makes below its own, with a process of its own.
    const nested = joinPath(root, m.path, 'nested');
    mkdirSync(nested);
    const q = spawnGated('exec sleep 300');
    processes.push(q);
    writeFileSync(joinPath(nested, 'cgroup.procs'), `${q.pid}\n`);
    assert.deepEqual(m.pids().sort(), [p.pid, q.pid].sort());
    m.kill('SIGKILL');
    assert.equal((await p.exited).signal, 'SIGKILL');
    assert.equal((await q.exited).signal, 'SIGKILL');
    await eventually('empty', () => m.pids().length === 0);
    m.destroy();
    assert.ok(!existsSync(joinPath(root, m.path)));
  });

  test('device rules are recorded as not enforced, not refused', () => {
    const m = fresh();
    m.create({ devices: [{ allow: false, access: 'rwm' }] });
    assert.ok(m.describe().includes('devices: not enforced on cgroup v2 (needs eBPF)'));
  });

  test('nothing is left behind', () => {
    for (const m of managers) m.destroy();
    assert.deepEqual(readdirSync(root).filter((e) => e.startsWith(prefix)), []);
  });
});
