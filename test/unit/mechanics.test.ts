// The formatting behind `berth top`, `stats`, `ns` and `cgroups`, on fixed
// inputs: Docker's columns and units, ps parsing, the cgroup tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProcessList, parsePsOutput } from '../../src/cli/container/top.js';
import { statsRow } from '../../src/cli/container/stats.js';
import { cpuTime, limitsText, renderCgroupTree, whereIs, type ContainerCgroup } from '../../src/cli/cgroups.js';
import { namespaceRows } from '../../src/cli/ns.js';
import { bytesSize } from '../../src/cli/format.js';
import { cpuPercent, parseNetDev, systemCpuNs, type StatsSample } from '../../src/engine/container-stats.js';
import type { CgroupSummary } from '../../src/engine/cgroups-view.js';

const PS = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 06:46 ?        00:00:01 /sbin/init splash
root         200       1  0 06:50 ?        00:00:00 sleep 1000
root         201     200  0 06:50 ?        00:00:00 /bin/sh -c echo  two  spaces
`;

test('ps rows are kept by PID, and the command keeps its spaces as one field', () => {
  const list = parsePsOutput(PS, new Set([200, 201]));
  assert.deepEqual(list.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(list.processes.map((p) => [p[1], p.at(-1)]), [['200', 'sleep 1000'], ['201', '/bin/sh -c echo two spaces']]);
});

test("threads ps prints with PID '-' stay with their process", () => {
  const out = 'PID TID CMD\n200 - sleep\n- 200 -\n1 - init\n- 1 -\n';
  assert.deepEqual(parsePsOutput(out, new Set([200])).processes, [['200', '-', 'sleep'], ['-', '200', '-']]);
});

test('ps output without a PID column is refused, with what ps printed', () => {
  assert.throws(() => parsePsOutput('USER COMMAND\nroot init\n', new Set([1])), /couldn't find PID field in ps output \(ps printed: USER COMMAND\)/);
});

test("top's columns are at least 20 wide, as Docker's tabwriter makes them", () => {
  const text = formatProcessList({ titles: ['PID', 'CMD'], processes: [['200', 'sleep 1000']] });
  assert.equal(text, `${'PID'.padEnd(20)}CMD\n${'200'.padEnd(20)}sleep 1000\n`);
});

test("bytesSize is Docker's BytesSize: binary units, four significant digits", () => {
  assert.deepEqual([0, 1023, 1024, 696320, 64 * 2 ** 20, 1.5 * 2 ** 30, 25276981248].map(bytesSize),
    ['0B', '1023B', '1KiB', '680KiB', '64MiB', '1.5GiB', '23.54GiB']);
});

const sample = (over: Partial<StatsSample>): StatsSample => ({
  systemCpuNs: 0, onlineCpus: 2, cpuNs: 0, memoryBytes: 0, memoryLimitBytes: 0, pids: 0,
  netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, ...over,
});

test("CPU % is Docker's: the container's share of the host's CPU time, times the CPUs", () => {
  // Half of all the host's CPU time on a 2-CPU host: one CPU fully busy.
  assert.equal(cpuPercent(sample({ systemCpuNs: 0, cpuNs: 0 }), sample({ systemCpuNs: 2e9, cpuNs: 1e9 })), 100);
  assert.equal(cpuPercent(sample({ systemCpuNs: 5 }), sample({ systemCpuNs: 5, cpuNs: 10 })), 0);
});

test('a stats row in Docker units; a stopped container reads zeros', () => {
  const c = { id: 'a'.repeat(64), name: 'web' };
  const row = statsRow(c, sample({ systemCpuNs: 0 }), sample({
    systemCpuNs: 4e9, cpuNs: 1e8, memoryBytes: 2 ** 20, memoryLimitBytes: 64 * 2 ** 20, pids: 3,
    netRxBytes: 1234, netTxBytes: 0, blockReadBytes: 4096000, blockWriteBytes: 512,
  }), true);
  assert.deepEqual(row, {
    Container: c.id, ID: 'aaaaaaaaaaaa', Name: 'web', CPUPerc: '5.00%', MemUsage: '1MiB / 64MiB', MemPerc: '1.56%',
    NetIO: '1.23kB / 0B', BlockIO: '4.1MB / 512B', PIDs: '3',
  });
  assert.deepEqual(statsRow({ ...c, asNamed: 'web' }, undefined, undefined, false), {
    Container: 'web', ID: c.id, Name: 'web', CPUPerc: '0.00%', MemUsage: '0B / 0B', MemPerc: '0.00%', NetIO: '0B / 0B', BlockIO: '0B / 0B', PIDs: '0',
  });
});

test('network bytes leave out loopback; host CPU time sums user through steal', () => {
  const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:    1200      10    0    0    0     0          0         0      800       8    0    0    0     0       0          0
`;
  assert.deepEqual(parseNetDev(dev), { rx: 1200, tx: 800 });
  // user nice system idle iowait irq softirq steal guest: guest is already in user.
  assert.equal(systemCpuNs('cpu  100 0 50 1000 10 0 5 1 100 0\ncpu0 1 2 3\n'), (100 + 50 + 1000 + 10 + 5) * 1e7);
});

test('CPU time and where a cgroup lives, as the tree shows them', () => {
  assert.deepEqual([500, 4_490_000, 1_210_000_000, 182e9].map(cpuTime), ['0.5µs', '4.49ms', '1.21s', '3m2s']);
  assert.equal(whereIs('/berth', ['/sys/fs/cgroup/memory/berth', '/sys/fs/cgroup/pids/berth']), '/sys/fs/cgroup/{memory,pids}/berth');
  assert.equal(whereIs('/berth', ['/sys/fs/cgroup/berth']), '/sys/fs/cgroup/berth');
});

const summary = (over: Partial<CgroupSummary>): CgroupSummary => ({
  path: '/berth/abc', version: 2, directories: ['/sys/fs/cgroup/berth/abc'], exists: true, limits: {},
  usage: { memoryBytes: 2 ** 20, memoryInactiveFileBytes: 0, cpuNs: 4_490_000, pids: 2, blockReadBytes: 0, blockWriteBytes: 0, oomKills: 0 },
  processes: [], ...over,
});

test('limits name what is unlimited and leave out the default shares', () => {
  assert.equal(limitsText(summary({ limits: { memory: 64 * 2 ** 20, cpuQuota: 50000, cpuPeriod: 100000, cpuWeight: 100, pids: 50 } })),
    'memory=64MiB cpus=0.5 pids=50');
  assert.equal(limitsText(summary({ limits: { cpuShares: 512, cpusetCpus: '0' } })), 'memory=unlimited cpus=unlimited cpu-shares=512 cpuset-cpus=0 pids=unlimited');
});

test('the cgroup tree: containers under their parent, then their processes', () => {
  const entries: ContainerCgroup[] = [
    { id: 'a'.repeat(64), name: 'web', status: 'running', cgroup: summary({ path: `/berth/${'a'.repeat(64)}`, limits: { memory: 64 * 2 ** 20 }, processes: [{ pid: 10, command: 'sleep 1000' }, { pid: 11, command: 'sh' }] }) },
    { id: 'b'.repeat(64), name: 'old', status: 'exited', cgroup: summary({ path: `/berth/${'b'.repeat(64)}`, exists: false }) },
  ];
  const text = renderCgroupTree(entries, [{ path: '/berth', version: 2, directories: ['/sys/fs/cgroup/berth'] }]);
  assert.equal(text, [
    '/berth  (cgroup v2: /sys/fs/cgroup/berth)',
    '├─aaaaaaaaaaaa web  (running)',
    '│ │ limits: memory=64MiB cpus=unlimited pids=unlimited',
    '│ │ usage:  memory=1MiB cpu=4.49ms pids=2 io-read=0B io-write=0B',
    '│ ├─10 sleep 1000',
    '│ └─11 sh',
    '└─bbbbbbbbbbbb old  (exited: no cgroup)',
    '',
  ].join('\n'));
});

test("ns rows say 'host', 'no', or the other container that shares the namespace", () => {
  const ns = (type: 'net' | 'user', inode: number, shared: boolean, sharedWith: string[] = []) => ({
    type, inode, path: `/proc/10/ns/${type}`, shared, processes: 1, pid: 10, command: 'sleep', purpose: '', sharedWith,
  });
  const rows = namespaceRows([{ id: 'x', name: 'web', pid: 10, namespaces: [ns('net', 5, false, ['db']), ns('user', 1, true), ns('net', 6, false)] }]);
  assert.deepEqual(rows.map((r) => r.Shared), ['db', 'host', 'no']);
});
