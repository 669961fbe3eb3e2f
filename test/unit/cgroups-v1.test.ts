// cgroup v1 driver against a fake /sys/fs/cgroup of plain directories: which
// file of which hierarchy gets which value, in which order; cpuset inheritance;
// co-mounted hierarchies; refusals; stats and OOM from the files.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  cgroupManager, cgroupWriteChannel, planV1, type CgroupManager, type CgroupWriteEvent, type LinuxResources,
} from '../../src/runtime/cgroups/index.js';
import { BerthError } from '../../src/util/errors.js';
import { cgroupConformance, join, spawnGated } from './cgroups-conformance.js';
import { fakeV1, type FakeV1 } from './cgroups-fake.js';

const fakes: FakeV1[] = [];
after(() => { for (const f of fakes) f.cleanup(); });

function setup(path = '/berth/c1', opts: Parameters<typeof fakeV1>[1] = {}): { fake: FakeV1; m: CgroupManager } {
  const fake = fakeV1(path, opts);
  fakes.push(fake);
  return { fake, m: cgroupManager(path, { root: fake.root }) };
}

function recordWrites(fn: () => void): CgroupWriteEvent[] {
  const seen: CgroupWriteEvent[] = [];
  const on = (msg: unknown): void => { seen.push(msg as CgroupWriteEvent); };
  cgroupWriteChannel.subscribe(on);
  try {
    fn();
  } finally {
    cgroupWriteChannel.unsubscribe(on);
  }
  return seen;
}

/** "hierarchy/file=value" for each write, the fake root stripped. */
function trace(fake: FakeV1, writes: CgroupWriteEvent[], path = '/berth/c1'): string[] {
  return writes.map((w) => `${w.path.slice(fake.root.length + 1).replace(`${path}/`, '/')}=${w.value}`);
}

function isBerth(code: string, ...words: string[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof BerthError, `a BerthError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const w of words) assert.ok(e.message.includes(w), `message names ${w}: ${e.message}`);
    return true;
  };
}

let n = 0;
cgroupConformance('cgroup v1 (fake hierarchies)', {
  newManager: () => setup(`/berth-conf/c${++n}`).m,
  absent: () => cgroupManager('/not-there', { root: setup('/berth-conf/x').fake.root }),
  live: false,
});
cgroupConformance('cgroup v1 (fake, cpu and cpuacct co-mounted)', {
  newManager: () => setup(`/berth-conf/c${++n}`, { mounts: ['cpu,cpuacct', 'memory', 'pids', 'freezer'] }).m,
  absent: () => cgroupManager('/not-there', { root: setup('/berth-conf/x', { mounts: ['cpu,cpuacct', 'memory'] }).fake.root }),
  live: false,
});

describe('cgroup v1 driver on fake hierarchies', () => {
  test('create writes each value to its hierarchy\'s file, in the kernel\'s order', () => {
    const { fake, m } = setup();
    const writes = recordWrites(() => m.create({
      memory: { limit: 104857600, reservation: 52428800, swap: 209715200, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
      pids: { limit: 64 },
      blockIO: { weight: 300 },
    }));
    assert.deepEqual(trace(fake, writes), [
      'cpuset/berth/cpuset.cpus=0-3', 'cpuset/berth/cpuset.mems=0', // the intermediate first, from the root
      'cpuset//cpuset.cpus=0-3', 'cpuset//cpuset.mems=0', // then the container's, from /berth
      'memory//memory.limit_in_bytes=104857600', 'memory//memory.memsw.limit_in_bytes=209715200',
      'memory//memory.soft_limit_in_bytes=52428800', 'memory//memory.swappiness=10', 'memory//memory.oom_control=1',
      'cpu//cpu.shares=512', 'cpu//cpu.cfs_period_us=100000', 'cpu//cpu.cfs_quota_us=50000',
      'cpuset//cpuset.cpus=0-1', 'cpuset//cpuset.mems=0',
      'pids//pids.max=64',
      'blkio//blkio.bfq.weight=300',
    ].map((s) => s.replace('//', '/')));
    assert.equal(fake.read('memory', 'memory.limit_in_bytes'), '104857600');
    assert.equal(fake.read('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(fake.read('cpuset', 'cpuset.cpus'), '0-1');
    assert.equal(readFileSync(joinPath(fake.root, 'cpuset/berth/cpuset.cpus'), 'utf8'), '0-3', 'the intermediate holds its parent\'s cpus');
    assert.deepEqual(m.warnings, []);
  });

  test('memory and memory+swap: the order keeps memory ≤ memory+swap after every write', () => {
    // Fresh cgroup (both unlimited): memory first.
    assert.deepEqual(planV1({ memory: { limit: 100, swap: 200 } }).writes.map((w) => w.choices[0].file), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    // Raising above the limit in force (100): memory+swap first.
    assert.deepEqual(planV1({ memory: { limit: 300, swap: 400 } }, 100).writes.map((w) => w.choices[0].file), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
    // Lowering: memory first.
    assert.deepEqual(planV1({ memory: { limit: 50, swap: 80 } }, 100).writes.map((w) => w.choices[0].file), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    // Unlimited memory+swap goes first, and -1 memory means -1 memory+swap.
    assert.deepEqual(planV1({ memory: { limit: -1 } }, 100).writes.map((w) => `${w.choices[0].file}=${w.choices[0].value}`), ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
  });

  test('without swap accounting, a swap limit is a warning and the memory limit still applies', () => {
    const { fake, m } = setup('/berth/c1', { drop: ['memory.memsw.limit_in_bytes'] });
    m.create({ memory: { limit: 104857600, swap: 209715200 } });
    assert.equal(fake.read('memory', 'memory.limit_in_bytes'), '104857600');
    assert.match(m.warnings.join('\n'), /linux\.resources\.memory\.swap: ignored.*swapaccount=1/);
    assert.ok(m.describe().some((l) => l.startsWith('warning: linux.resources.memory.swap')));
  });

  test('blkio.weight where CFQ left it, else blkio.bfq.weight', () => {
    const { fake, m } = setup('/berth/c1', { extra: { blkio: { 'blkio.weight': '500' } } });
    m.create({ blockIO: { weight: 700 } });
    assert.equal(fake.read('blkio', 'blkio.weight'), '700');
    assert.equal(fake.read('blkio', 'blkio.bfq.weight'), '100');
  });

  test('devices: deny everything, then each rule in order, in the kernel\'s syntax', () => {
    const { fake, m } = setup();
    const writes = recordWrites(() => m.create({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
        { allow: true, type: 'b', access: 'm' },
        { allow: false, type: 'c', major: 10, minor: 229 },
      ],
    }));
    assert.deepEqual(trace(fake, writes).filter((w) => w.startsWith('devices/')), [
      'devices/devices.deny=a',
      'devices/devices.deny=a',
      'devices/devices.allow=c 1:3 rwm',
      'devices/devices.allow=c 136:* rwm',
      'devices/devices.allow=b *:* m',
      'devices/devices.deny=c 10:229 rwm',
    ]);
  });

  test('block io throttles, hugepages and network go to their hierarchies', () => {
    const { fake, m } = setup('/berth/c1', { mounts: ['blkio', 'hugetlb', 'net_cls', 'memory'] });
    const writes = recordWrites(() => m.create({
      blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      network: { classID: 0x100001 },
    }));
    assert.deepEqual(trace(fake, writes), [
      'blkio/blkio.throttle.read_bps_device=8:0 1048576',
      'blkio/blkio.throttle.write_iops_device=8:0 100',
      'hugetlb/hugetlb.2MB.limit_in_bytes=4194304',
      'net_cls/net_cls.classid=1048577',
    ]);
  });

  test('a limit whose hierarchy is not mounted is refused before anything is made', () => {
    const { fake, m } = setup('/berth/c2', { mounts: ['memory', 'cpu'] });
    assert.throws(
      () => m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] }),
      isBerth('CGROUP_CONTROLLER_UNAVAILABLE', 'hugetlb controller', 'linux.resources.hugepageLimits[0].limit'),
    );
    assert.throws(() => m.create({ pids: { limit: 5 } }), isBerth('CGROUP_CONTROLLER_UNAVAILABLE', 'pids controller', 'linux.resources.pids.limit'));
    assert.ok(m.describe({ pids: { limit: 5 } }).includes('pids: not mounted (needed by linux.resources.pids.limit)'));
    assert.ok(existsSync(fake.dir('memory')), 'the fake itself untouched');
  });

  test('unified is cgroup v2 only', () => {
    assert.throws(() => planV1({ unified: { 'memory.high': '1' } }), isBerth('CGROUP_UNIFIED_ON_V1', 'linux.resources.unified'));
  });

  test('values that cannot be right are refused, naming the field', () => {
    const cases: [LinuxResources, string][] = [
      [{ memory: { limit: 100, swap: 50 } }, 'linux.resources.memory.swap'],
      [{ memory: { swappiness: 101 } }, 'linux.resources.memory.swappiness'],
      [{ devices: [{ allow: true, type: 'x' as 'a' }] }, 'linux.resources.devices[0].type'],
      [{ devices: [{ allow: true, type: 'c', access: 'rwx' }] }, 'linux.resources.devices[0].access'],
      [{ blockIO: { weight: 2000 } }, 'linux.resources.blockIO.weight'],
      [{ pids: { limit: 1.5 } }, 'linux.resources.pids.limit'],
    ];
    for (const [r, field] of cases) assert.throws(() => planV1(r), isBerth('CGROUP_VALUE_INVALID', field), field);
  });

  test('the kernel\'s refusal names the field, the file and the errno', () => {
    const { fake, m } = setup();
    // A directory where a file should be: the open fails with EISDIR, as a refusal would.
    const bad = joinPath(fake.dir('cpu'), 'cpu.shares');
    rmSync(bad);
    mkdirSync(bad);
    assert.throws(() => m.create({ cpu: { shares: 512 } }), isBerth('CGROUP_KERNEL_REFUSED', 'linux.resources.cpu.shares', '"512"', bad, 'EISDIR'));
  });

  test('co-mounted cpu,cpuacct: one directory, one cgroup.procs, both files there', () => {
    const { fake, m } = setup('/berth/c1', { mounts: ['cpu,cpuacct', 'memory'] });
    m.create({ cpu: { shares: 256 } });
    assert.deepEqual(m.procsFiles(), [joinPath(fake.dir('cpu,cpuacct'), 'cgroup.procs'), joinPath(fake.dir('memory'), 'cgroup.procs')]);
    assert.equal(fake.read('cpu,cpuacct', 'cpu.shares'), '256');
    fake.set('cpu,cpuacct', 'cpuacct.usage', '123456\n');
    assert.equal(m.stats().cpu.usageNs, 123456);
    assert.match(m.describe()[0], /^cpu,cpuacct: .*\/cpu,cpuacct\/berth\/c1  cpu\.shares=256$/);
  });

  test('stats read usage, peak, limit, OOM kills, throttling and pids', () => {
    const { fake, m } = setup();
    m.create({ memory: { limit: 104857600 }, pids: { limit: 20 } });
    fake.set('memory', 'memory.usage_in_bytes', '4096\n');
    fake.set('memory', 'memory.max_usage_in_bytes', '8192\n');
    fake.set('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    fake.set('cpuacct', 'cpuacct.usage', '5000000\n');
    fake.set('cpu', 'cpu.stat', 'nr_periods 9\nnr_throttled 3\nthrottled_time 777\n');
    fake.set('pids', 'pids.current', '2\n');
    assert.deepEqual(m.stats(), {
      memory: { usage: 4096, maxUsage: 8192, limit: 104857600, oomKills: 1, inactiveFile: 0 },
      cpu: { usageNs: 5_000_000, throttledPeriods: 3, throttledNs: 777 },
      pids: { current: 2, limit: 20 },
      blockIO: { readBytes: 0, writeBytes: 0 },
    });
    assert.equal(m.oomKilled(), true);
  });

  test('an unlimited memory limit reads as no limit; OOM before 4.13 falls back to failcnt', () => {
    const { fake, m } = setup();
    m.create();
    assert.equal(m.stats().memory.limit, undefined);
    fake.set('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\n');
    assert.equal(m.oomKilled(), false);
    fake.set('memory', 'memory.failcnt', '3\n');
    assert.equal(m.oomKilled(), true);
  });

  test('freeze writes FROZEN and waits for it to read back; thaw writes THAWED', () => {
    const { fake, m } = setup();
    m.create();
    m.freeze();
    assert.equal(fake.read('freezer', 'freezer.state'), 'FROZEN');
    assert.equal(m.frozen(), true);
    m.thaw();
    assert.equal(fake.read('freezer', 'freezer.state'), 'THAWED');
    assert.equal(m.frozen(), false);
  });

  test('without a freezer hierarchy, freeze names the controller and kill still signals', async () => {
    const { m } = setup('/berth/c1', { mounts: ['memory', 'pids'] });
    m.create();
    assert.throws(() => m.freeze(), isBerth('CGROUP_CONTROLLER_UNAVAILABLE', 'freezer'));
    const p = spawnGated('exec sleep 30');
    join(m, p.pid);
    m.kill('SIGKILL');
    assert.equal((await p.exited).signal, 'SIGKILL');
  });

  test('destroy removes the default /berth parent with its last container, and never a parent the user named', () => {
    const { fake, m } = setup();
    m.create();
    // Another container's cgroup under /berth keeps it.
    mkdirSync(joinPath(fake.root, 'memory/berth/c2'));
    m.destroy();
    assert.ok(!existsSync(fake.dir('memory')));
    assert.ok(existsSync(joinPath(fake.root, 'memory/berth')), '/berth stays while another container is in it');
    rmdirSync(joinPath(fake.root, 'memory/berth/c2'));
    m.destroy();
    assert.ok(!existsSync(joinPath(fake.root, 'memory/berth')), 'the last container takes /berth with it');
    const mine = setup('/mine/c1');
    mine.m.create();
    mine.m.destroy();
    assert.ok(existsSync(joinPath(mine.fake.root, 'memory/mine')), 'a parent the user named stays');
  });
});
