// cgroup v2 driver against a fake unified tree: which file gets which value,
// controllers enabled in each ancestor, refusals, freeze/kill fallbacks.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import {
  cgroupManager, cgroupWriteChannel, planV2, type CgroupManager, type CgroupWriteEvent, type LinuxResources,
} from '../../src/runtime/cgroups/index.js';
import { BerthError } from '../../src/util/errors.js';
import { cgroupConformance, join, spawnGated } from './cgroups-conformance.js';
import { fakeV2, type FakeV2 } from './cgroups-fake.js';

const fakes: FakeV2[] = [];
after(() => { for (const f of fakes) f.cleanup(); });

function setup(path = '/berth/c1', opts: Parameters<typeof fakeV2>[1] = {}): { fake: FakeV2; m: CgroupManager } {
  const fake = fakeV2(path, opts);
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

/** file → value, for the writes planV2 makes for `r` (first choice of each). */
function planned(r: LinuxResources, currentMemoryLimit?: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of planV2(r, currentMemoryLimit).writes) (out[w.choices[0].file] ??= []).push(w.choices[0].value);
  return out;
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
cgroupConformance('cgroup v2 (fake tree)', {
  newManager: () => setup(`/berth-conf/c${++n}`).m,
  absent: () => cgroupManager('/not-there', { root: setup('/berth-conf/x').fake.root }),
  live: false,
});

describe('cgroup v2 conversions (as runc)', () => {
  test('cpu.shares → cpu.weight = 1 + (shares-2)*9999/262142, truncated', () => {
    const table: [number, string][] = [[2, '1'], [512, '20'], [1024, '39'], [2048, '79'], [262144, '10000']];
    for (const [shares, weight] of table) assert.deepEqual(planned({ cpu: { shares } })['cpu.weight'], [weight], `shares ${shares}`);
    assert.deepEqual(planned({ cpu: { shares: 0 } }), {}, '0 means unset');
  });

  test('cpu quota and period → cpu.max', () => {
    const table: [LinuxResources['cpu'], string][] = [
      [{ quota: 50000, period: 100000 }, '50000 100000'],
      [{ quota: -1, period: 100000 }, 'max 100000'],
      [{ quota: 20000 }, '20000'],
      [{ period: 250000 }, 'max 250000'],
      [{ quota: -1 }, 'max'],
    ];
    for (const [cpu, value] of table) assert.deepEqual(planned({ cpu })['cpu.max'], [value], JSON.stringify(cpu));
  });

  test('memory: limit → memory.max, reservation → memory.low, swap (memory+swap) → memory.swap.max = swap - limit', () => {
    assert.deepEqual(planned({ memory: { limit: 104857600, swap: 209715200, reservation: 52428800 } }), {
      'memory.max': ['104857600'], 'memory.swap.max': ['104857600'], 'memory.low': ['52428800'],
    });
    assert.deepEqual(planned({ memory: { limit: 104857600, swap: 104857600 } })['memory.swap.max'], ['0'], 'no swap at all');
    assert.deepEqual(planned({ memory: { limit: 104857600, swap: -1 } })['memory.swap.max'], ['max']);
    assert.deepEqual(planned({ memory: { limit: -1 } }), { 'memory.max': ['max'], 'memory.swap.max': ['max'] }, 'unlimited memory frees swap too');
    assert.deepEqual(planned({ memory: { swap: 300 } }, 100)['memory.swap.max'], ['200'], 'swap alone uses the limit in force');
    assert.deepEqual(planned({ memory: { limit: 2 ** 63 } })['memory.max'], ['max'], 'beyond int64 is unlimited');
  });

  test('pids.limit ≤ 0 is "max"', () => {
    assert.deepEqual(planned({ pids: { limit: 0 } })['pids.max'], ['max']);
    assert.deepEqual(planned({ pids: { limit: -1 } })['pids.max'], ['max']);
    assert.deepEqual(planned({ pids: { limit: 64 } })['pids.max'], ['64']);
  });

  test('blkio weight → io.bfq.weight as is, else io.weight = 1 + (w-10)*9999/990', () => {
    const table: [number, string][] = [[10, '1'], [100, '910'], [500, '4950'], [1000, '10000']];
    for (const [w, ioWeight] of table) {
      const write = planV2({ blockIO: { weight: w } }).writes[0];
      assert.deepEqual(write.choices, [{ file: 'io.bfq.weight', value: String(w) }, { file: 'io.weight', value: ioWeight }]);
    }
  });

  test('throttles → io.max lines, a rate of 0 being "max"', () => {
    assert.deepEqual(planned({
      blockIO: {
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }],
      },
    })['io.max'], ['8:0 rbps=1048576', '8:16 wiops=max']);
  });

  test('unified is written verbatim, after everything else', () => {
    const files = planV2({ unified: { 'memory.high': '50M' }, memory: { limit: 100 } }).writes.map((w) => w.choices[0].file);
    assert.deepEqual(files, ['memory.max', 'memory.high']);
  });

  test('values that cannot be right are refused before any write, naming the field', () => {
    const cases: [LinuxResources, string][] = [
      [{ memory: { limit: 100, swap: 50 } }, 'linux.resources.memory.swap'],
      [{ memory: { swap: 50 } }, 'linux.resources.memory.swap'],
      [{ memory: { limit: -5 } }, 'linux.resources.memory.limit'],
      [{ cpu: { shares: 1 } }, 'linux.resources.cpu.shares'],
      [{ cpu: { quota: 'abc' as unknown as number } }, 'linux.resources.cpu.quota'],
      [{ blockIO: { weight: 5 } }, 'linux.resources.blockIO.weight'],
      [{ cpu: { cpus: '0\n1' } }, 'linux.resources.cpu.cpus'],
      [{ unified: { 'cgroup.procs': '1' } }, 'linux.resources.unified["cgroup.procs"]'],
      [{ unified: { '../x': '1' } }, 'linux.resources.unified["../x"]'],
      [{ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, 'linux.resources.hugepageLimits[0].pageSize'],
    ];
    for (const [r, field] of cases) assert.throws(() => planV2(r), isBerth('CGROUP_VALUE_INVALID', field), field);
    assert.throws(() => planV2({ cpu: { realtimeRuntime: 1000 } }), isBerth('CGROUP_UNSUPPORTED', 'linux.resources.cpu.realtimeRuntime'));
  });
});

describe('cgroup v2 driver on a fake tree', () => {
  test('create writes each value to its file and enables controllers in every ancestor, not in the container', () => {
    const { fake, m } = setup('/berth/c1');
    m.create({
      memory: { limit: 104857600, swap: 209715200, reservation: 52428800 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
      pids: { limit: 64 },
      blockIO: { weight: 500 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      unified: { 'memory.high': '94371840' },
    });
    const expect: Record<string, string> = {
      'memory.max': '104857600', 'memory.swap.max': '104857600', 'memory.low': '52428800', 'memory.high': '94371840',
      'cpu.weight': '39', 'cpu.max': '50000 100000', 'cpuset.cpus': '0-1', 'cpuset.mems': '0',
      'pids.max': '64', 'io.weight': '4950', 'hugetlb.2MB.max': '4194304', 'hugetlb.2MB.rsvd.max': '4194304',
    };
    for (const [file, value] of Object.entries(expect)) assert.equal(fake.read(file), value, file);
    const all = '+cpuset +cpu +io +memory +hugetlb +pids';
    assert.equal(fake.read('cgroup.subtree_control', ''), all, 'root');
    assert.equal(fake.read('cgroup.subtree_control', '/berth'), all, '/berth');
    assert.equal(fake.read('cgroup.subtree_control'), '', 'the container keeps its own empty: it holds processes');
    assert.deepEqual(m.warnings, []);
  });

  test('only controllers the parent has are enabled; one already enabled is not written again', () => {
    const { fake, m } = setup('/berth/c1', { controllers: ['memory', 'pids'] });
    fake.set('cgroup.subtree_control', 'memory pids', '');
    m.create({ pids: { limit: 5 } });
    assert.equal(fake.read('cgroup.subtree_control', ''), 'memory pids', 'root: both on already, nothing written');
    assert.equal(fake.read('cgroup.subtree_control', '/berth'), '+memory +pids');
  });

  test('a limit whose controller is unavailable is refused, naming the controller and the field', () => {
    const { m } = setup('/berth/c1', { controllers: ['hugetlb'] });
    assert.throws(
      () => m.create({ memory: { limit: 104857600 } }),
      isBerth('CGROUP_CONTROLLER_UNAVAILABLE', 'memory controller', 'linux.resources.memory.limit', 'cgroup.controllers: hugetlb'),
    );
    assert.throws(() => m.create({ pids: { limit: 1 } }), isBerth('CGROUP_CONTROLLER_UNAVAILABLE', 'pids controller', 'linux.resources.pids.limit'));
    assert.throws(() => m.create({ unified: { 'io.max': '8:0 rbps=1' } }), isBerth('CGROUP_CONTROLLER_UNAVAILABLE', 'io controller'));
    m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
  });

  test('a file this kernel lacks: an error for a limit, a warning for swap', () => {
    const { fake, m } = setup('/berth/c1', { drop: ['memory.swap.max', 'cpu.max.burst'] });
    m.create({ memory: { limit: 1048576, swap: 2097152 } });
    assert.equal(fake.read('memory.max'), '1048576');
    assert.match(m.warnings.join('\n'), /memory\.swap.*no swap accounting/);
    assert.throws(() => m.update({ cpu: { burst: 1000 } }), isBerth('CGROUP_FILE_MISSING', 'linux.resources.cpu.burst', 'cpu.max.burst'));
  });

  test('BFQ takes the blkio weight unconverted when io.bfq.weight exists', () => {
    const { fake, m } = setup('/berth/c1', { extra: { 'io.bfq.weight': 'default 100' } });
    m.create({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 300 }] } });
    assert.equal(fake.read('io.bfq.weight'), '8:0 300', 'the device line came last');
    assert.equal(fake.read('io.weight'), 'default 100', 'io.weight untouched');
  });

  test('io.max gets one write per device', () => {
    const { m } = setup('/berth/c1');
    const writes = recordWrites(() => m.create({
      blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 200 }] },
    }));
    assert.deepEqual(writes.filter((w) => w.path.endsWith('io.max')).map((w) => w.value), ['8:0 rbps=100', '8:0 wbps=200']);
  });

  test('device rules are not enforced on v2, and describe() and warnings say so', () => {
    const { m } = setup('/berth/c1');
    m.create({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    assert.ok(m.describe().includes('devices: not enforced on cgroup v2 (needs eBPF)'), m.describe().join('\n'));
    assert.match(m.warnings.join('\n'), /linux\.resources\.devices: not enforced/);
  });

  test('v1-only settings are warnings, not failures', () => {
    const { m } = setup('/berth/c1');
    m.create({ memory: { kernel: 1, kernelTCP: 1, swappiness: 10, disableOOMKiller: true }, network: { classID: 1 } });
    for (const f of ['kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller']) {
      assert.ok(m.warnings.some((w) => w.startsWith(`linux.resources.memory.${f}:`)), f);
    }
    assert.ok(m.warnings.some((w) => w.startsWith('linux.resources.network:')));
  });

  test('update writes only the fields it names; describe() shows the union', () => {
    const { fake, m } = setup('/berth/c1');
    m.create({ memory: { limit: 104857600 }, pids: { limit: 10 } });
    fake.set('memory.max', '104857600');
    m.update({ memory: { swap: 209715200 } });
    assert.equal(fake.read('memory.swap.max'), '104857600', 'swap alone is counted from the memory.max in force');
    assert.equal(fake.read('pids.max'), '10');
    const line = m.describe()[0];
    assert.match(line, /memory\.max=104857600 memory\.swap\.max=104857600 pids\.max=10/);
  });

  test('describe() before create is a dry run and writes nothing', () => {
    const { fake, m } = setup('/berth/c1');
    const lines = recordWrites(() => {
      const out = m.describe({ cpu: { quota: 50000, period: 100000 }, pids: { limit: 5 } });
      assert.match(out[0], new RegExp(`^cgroup2: ${fake.at('/berth/c1')}  cpu\\.max="50000 100000" pids\\.max=5$`));
      assert.match(out[1], /^cgroup2: subtree_control \+cpuset \+cpu \+io \+memory \+hugetlb \+pids from /);
    });
    assert.deepEqual(lines, []);
  });

  test('create rolls back the directories it made when a limit is refused', () => {
    const fake = fakeV2('/berth');
    fakes.push(fake);
    // /berth/new does not exist: create makes it (an empty plain directory), then
    // fails on its first write because the fake kernel did not fill it.
    const m = cgroupManager('/berth/new', { root: fake.root });
    assert.throws(() => m.create({ pids: { limit: 3 } }), isBerth('CGROUP_FILE_MISSING'));
    assert.ok(!existsSync(fake.at('/berth/new')), 'the directory it made is gone');
    assert.ok(existsSync(fake.at('/berth')), 'the ancestor it did not make stays');
  });

  test('stats and oomKilled read memory.current, memory.peak, memory.events, cpu.stat, pids.*', () => {
    const { fake, m } = setup('/berth/c1');
    m.create();
    fake.set('memory.current', '4096\n');
    fake.set('memory.peak', '8192\n');
    fake.set('memory.max', '104857600\n');
    fake.set('memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n');
    fake.set('cpu.stat', 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 250\n');
    fake.set('pids.current', '3\n');
    assert.deepEqual(m.stats(), {
      memory: { usage: 4096, maxUsage: 8192, limit: 104857600, oomKills: 2, inactiveFile: 0 },
      cpu: { usageNs: 1_500_000, throttledPeriods: 4, throttledNs: 250_000 },
      pids: { current: 3, limit: undefined },
      blockIO: { readBytes: 0, writeBytes: 0 },
    });
    assert.equal(m.oomKilled(), true);
  });

  test('without a memory controller, oomKilled is false and usage 0', () => {
    const { m } = setup('/berth/c1', { controllers: [] });
    m.create();
    assert.equal(m.oomKilled(), false);
    assert.equal(m.stats().memory.usage, 0);
  });

  test('freeze writes cgroup.freeze and waits for "frozen 1" in cgroup.events; thaw writes 0', () => {
    const { fake, m } = setup('/berth/c1');
    m.create();
    fake.set('cgroup.events', 'populated 1\nfrozen 1\n'); // what the kernel reports once every task stopped
    m.freeze();
    assert.equal(fake.read('cgroup.freeze'), '1');
    assert.equal(m.frozen(), true);
    m.thaw();
    assert.equal(fake.read('cgroup.freeze'), '0');
  });

  test('without cgroup.freeze (Linux < 5.2), freeze is a clear error', () => {
    const { m } = setup('/berth/c1', { drop: ['cgroup.freeze'] });
    m.create();
    assert.throws(() => m.freeze(), isBerth('CGROUP_FREEZE_UNSUPPORTED', 'cgroup.freeze', '5.2'));
  });

  test('kill(SIGKILL) writes cgroup.kill when present', () => {
    const { fake, m } = setup('/berth/c1');
    m.create();
    writeFileSync(m.procsFiles()[0], '999999999\n');
    m.kill('SIGKILL');
    assert.equal(fake.read('cgroup.kill'), '1');
  });

  test('other signals, or no cgroup.kill: each process is signalled', async () => {
    const { m } = setup('/berth/c1', { drop: ['cgroup.kill', 'cgroup.freeze'] });
    m.create();
    const a = spawnGated('exec sleep 30');
    const b = spawnGated('exec sleep 30');
    join(m, a.pid);
    writeFileSync(m.procsFiles()[0], `${a.pid}\n${b.pid}\n`);
    m.kill('SIGTERM');
    assert.equal((await a.exited).signal, 'SIGTERM');
    assert.equal((await b.exited).signal, 'SIGTERM');
    writeFileSync(m.procsFiles()[0], '');
  });
});
