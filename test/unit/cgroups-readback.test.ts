// What the cgroup drivers read back for `berth stats`, `berth cgroups` and
// `inspect`: the limits in force and the block I/O counters, on fake v1 and v2
// layouts (v1 runs for real in test/integration/mechanics.test.ts; v2 hosts
// are where most users run, so its conversions are pinned here).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupManager } from '../../src/runtime/cgroups/index.js';
import { cgroupSummaryOf } from '../../src/engine/cgroups-view.js';
import { fakeV1, fakeV2, type FakeV1, type FakeV2 } from './cgroups-fake.js';

const fakes: (FakeV1 | FakeV2)[] = [];
after(() => { for (const f of fakes) f.cleanup(); });

describe('cgroup v1 read-back', () => {
  const setup = () => {
    const fake = fakeV1('/berth/c1', { mounts: ['cpu,cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer'] });
    fakes.push(fake);
    return { fake, m: cgroupManager('/berth/c1', { root: fake.root }) };
  };

  test('limits() reads what create() wrote and leaves out what is unlimited', () => {
    const { m } = setup();
    m.create({ memory: { limit: 64 * 2 ** 20, swap: 128 * 2 ** 20 }, cpu: { quota: 50000, period: 100000, shares: 512 }, pids: { limit: 100 } });
    assert.deepEqual(m.limits(), {
      memory: 64 * 2 ** 20, memorySwap: 128 * 2 ** 20, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512, pids: 100,
    });
  });

  test('a fresh cgroup has no limits but its default shares and period; the inherited cpuset is no restriction', () => {
    const { m } = setup();
    m.create();
    assert.deepEqual(m.limits(), { cpuPeriod: 100000, cpuShares: 1024 });
    m.update({ cpu: { cpus: '1' } });
    assert.equal(m.limits().cpusetCpus, '1');
  });

  test('stats() sums blkio bytes over devices and reads total_inactive_file', () => {
    const { fake, m } = setup();
    m.create();
    fake.set('blkio', 'blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 512\n8:16 Read 1000\n8:16 Write 0\nTotal 5608\n');
    fake.set('memory', 'memory.stat', 'cache 8192\ninactive_file 100\ntotal_inactive_file 4096\n');
    const s = m.stats();
    assert.deepEqual(s.blockIO, { readBytes: 5096, writeBytes: 512 });
    assert.equal(s.memory.inactiveFile, 4096);
  });
});

describe('cgroup v2 read-back', () => {
  const setup = () => {
    const fake = fakeV2('/berth/c1');
    fakes.push(fake);
    return { fake, m: cgroupManager('/berth/c1', { root: fake.root }) };
  };

  test('limits() turns cpu.max and memory.swap.max back into quota/period and memory plus swap', () => {
    const { fake, m } = setup();
    m.create({ memory: { limit: 64 * 2 ** 20, swap: 96 * 2 ** 20 }, cpu: { quota: 150000, period: 100000 }, pids: { limit: 50 } });
    // What the kernel shows for a cpu.max written as "150000 100000".
    assert.equal(fake.read('cpu.max', '/berth/c1').trim(), '150000 100000');
    assert.deepEqual(m.limits(), {
      memory: 64 * 2 ** 20, memorySwap: 96 * 2 ** 20, cpuQuota: 150000, cpuPeriod: 100000, cpuWeight: 100, pids: 50,
    });
  });

  test('"max" everywhere reads as no limit', () => {
    const { m } = setup();
    m.create();
    assert.deepEqual(m.limits(), { cpuPeriod: 100000, cpuWeight: 100 });
  });

  test('stats() sums io.stat rbytes and wbytes and reads inactive_file', () => {
    const { fake, m } = setup();
    m.create();
    fake.set('io.stat', '8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n8:16 rbytes=1000 wbytes=24 rios=2 wios=1 dbytes=0 dios=0\n', '/berth/c1');
    fake.set('memory.stat', 'anon 4096\nfile 8192\ninactive_file 2048\nactive_file 0\n', '/berth/c1');
    const s = m.stats();
    assert.deepEqual(s.blockIO, { readBytes: 5096, writeBytes: 536 });
    assert.equal(s.memory.inactiveFile, 2048);
  });
});

describe("the engine's cgroup summary on both layouts", () => {
  test('v2: one directory, limits, usage and the processes with their command lines', () => {
    const fake = fakeV2('/berth/c1');
    fakes.push(fake);
    cgroupManager('/berth/c1', { root: fake.root }).create({ memory: { limit: 64 * 2 ** 20 } });
    fake.set('cgroup.procs', `${process.pid}\n`, '/berth/c1');
    fake.set('memory.current', '1048576\n', '/berth/c1');
    const s = cgroupSummaryOf('/berth/c1', undefined, { root: fake.root });
    assert.equal(s.version, 2);
    assert.deepEqual(s.directories, [fake.at('/berth/c1')]);
    assert.equal(s.exists, true);
    assert.equal(s.limits.memory, 64 * 2 ** 20);
    assert.equal(s.usage.memoryBytes, 1048576);
    assert.deepEqual(s.processes.map((p) => p.pid), [process.pid]);
    assert.match(s.processes[0]!.command, /node/);
  });

  test('v1: a directory per hierarchy; a cgroup that is gone reads as not existing, with nothing in it', () => {
    const fake = fakeV1('/berth/c1', { mounts: ['cpu,cpuacct', 'memory', 'pids'] });
    fakes.push(fake);
    const s = cgroupSummaryOf('/berth/c1', undefined, { root: fake.root });
    assert.equal(s.version, 1);
    assert.deepEqual(s.directories.map((d) => d.slice(fake.root.length)), ['/cpu,cpuacct/berth/c1', '/memory/berth/c1', '/pids/berth/c1']);
    const gone = cgroupSummaryOf('/berth/c2', undefined, { root: fake.root });
    assert.equal(gone.exists, false);
    assert.deepEqual(gone.processes, []);
    assert.deepEqual(gone.limits, {});
  });
});
