// The mechanics made visible, on real containers: `berth ns` shows a
// container's namespaces apart from the host's, `berth cgroups` its cgroup
// with the limits set, `stats` its usage against its limit, `top` its
// processes and only those. The engine's readers first, on a container the
// OCI runtime starts from a config.json; then the commands as a user runs them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime/container.js';
import { containerNamespaces, namespacesOf } from '../../src/engine/namespaces-view.js';
import { cgroupSummaryOf } from '../../src/engine/cgroups-view.js';
import { sampleStats } from '../../src/engine/container-stats.js';
import { CLI, PROJECT, berth, berthAsync, busyboxRootfs, cleanup, leftovers, makeBundle, tempRoot } from '../support.js';

const root = tempRoot('mechanics');
const dataRoot = join(root, 'data');
const runRoot = join(root, 'run');
const b = (...args: string[]) => berth(['--root', dataRoot, '--run-root', runRoot, ...args]);
// Commands that do not depend on each other run at once: on a busy host each takes seconds.
const all = (...commands: string[][]) => Promise.all(commands.map((args) => berthAsync(['--root', dataRoot, '--run-root', runRoot, ...args])));
const ids: string[] = [];
const MiB = 2 ** 20;
// The namespaces a container gets of its own; `user` and `time` stay the host's without --userns.
const ISOLATED = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts'];
const hostInode = (type: string): number => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/self/ns/${type}`))![1]);

// Two containers every test looks at: one running with a memory limit and two
// processes, one that has exited.
const name = `mech-${process.pid}`;
const stopped = `mech-stopped-${process.pid}`;
let id = '';
let stoppedId = '';
let pid = 0;

before(async () => {
  const tarball = join(root, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', busyboxRootfs(), '-cf', tarball, '.']);
  const imported = b('import', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
  assert.equal(imported.status, 0, imported.stderr);
  const [running, exited] = await all(
    ['run', '-d', '--name', name, '--memory', '64m', 'busybox', 'sh', '-c', 'sleep 1000 & exec sleep 1001'],
    ['run', '-d', '--name', stopped, 'busybox', 'true'],
  );
  for (const r of [running!, exited!]) {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), /^[0-9a-f]{64}$/);
    ids.push(r.stdout.trim());
  }
  [id, stoppedId] = ids as [string, string];
  const [waited, inspected] = await all(['wait', stoppedId], ['inspect', '--format', '{{.State.Pid}}', id]);
  assert.equal(waited!.stdout.trim(), '0', waited!.stderr);
  pid = Number(inspected!.stdout.trim());
  assert.ok(pid > 0, inspected!.stderr);
  // The background sleep may still be on its way.
  for (let i = 0; i < 200 && cgroupSummaryOf(`/berth/${id}`).processes.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
});

after(async () => {
  await all(...ids.map((c) => ['rm', '-f', c]));
  try {
    assert.deepEqual(leftovers(root, ids), [], 'the tests left something on the host');
  } finally {
    cleanup(root);
  }
});

// The tests only read the two containers, so they run at once.
describe('the mechanics made visible', { concurrency: true }, () => {
  test('the readers on a runtime container: own namespaces, the memory limit from config.json, usage', async () => {
    const runtime = new Runtime(join(root, 'runtime'));
    const rid = `mech${process.pid}`;
    ids.push(rid);
    const bundle = makeBundle(join(root, rid), (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 48 * MiB }, pids: { limit: 40 }, cpu: { quota: 50000, period: 100000 } };
    }, { args: ['/bin/sh', '-c', 'sleep 1000 & sleep 1000'] });
    const record = await runtime.create({ id: rid, bundle, stdio: ['ignore', 'ignore', 'ignore'], detach: true });
    try {
      runtime.start(rid);
      const namespaces = namespacesOf(record.pid);
      for (const type of ISOLATED) {
        const ns = namespaces.find((n) => n.type === type);
        assert.ok(ns, `no ${type} namespace`);
        assert.equal(ns.shared, false, `${type} is the host's`);
        assert.notEqual(ns.inode, hostInode(type), `${type} inode is the host's`);
        assert.equal(ns.pid, record.pid, `${type}: the container's init is the lowest pid in it`);
      }
      const user = namespaces.find((n) => n.type === 'user')!;
      assert.equal(user.shared, true);
      assert.equal(user.inode, hostInode('user'));
      assert.ok(user.processes > 2, 'the host user namespace holds the host\'s processes too');

      const summary = cgroupSummaryOf(record.cgroupsPath);
      assert.equal(summary.limits.memory, 48 * MiB);
      assert.equal(summary.limits.pids, 40);
      assert.equal(summary.limits.cpuQuota, 50000);
      assert.ok(summary.directories.every((d) => existsSync(d)), summary.directories.join(' '));
      for (let i = 0; i < 200 && cgroupSummaryOf(record.cgroupsPath).processes.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      const later = cgroupSummaryOf(record.cgroupsPath);
      assert.deepEqual(later.processes.map((p) => p.command), ['sleep 1000', 'sleep 1000']);
      assert.ok(later.processes.some((p) => p.pid === record.pid));
      assert.equal(namespacesOf(record.pid).find((n) => n.type === 'pid')!.processes, 2, 'both processes share the container\'s pid namespace');

      const s = sampleStats(record.pid, record.cgroupsPath);
      assert.ok(s.memoryBytes > 0, 'memory in use');
      assert.equal(s.memoryLimitBytes, 48 * MiB);
      assert.equal(s.pids, 2);

      // A second container that joins the first one's network namespace (as --network container:x would).
      const joined = `${rid}j`;
      ids.push(joined);
      const joinedBundle = makeBundle(join(root, joined), (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: `/proc/${record.pid}/ns/net` } : ns));
      }, { args: ['/bin/sleep', '1000'] });
      const second = await runtime.create({ id: joined, bundle: joinedBundle, stdio: ['ignore', 'ignore', 'ignore'], detach: true });
      try {
        runtime.start(joined);
        const [first, other] = containerNamespaces([{ id: rid, name: 'first', pid: record.pid }, { id: joined, name: 'second', pid: second.pid }]);
        const net = other!.namespaces.find((n) => n.type === 'net')!;
        assert.deepEqual({ shared: net.shared, sharedWith: net.sharedWith, inode: net.inode }, { shared: false, sharedWith: ['first'], inode: first!.namespaces.find((n) => n.type === 'net')!.inode });
        assert.deepEqual(other!.namespaces.find((n) => n.type === 'uts')!.sharedWith, [], 'the rest is its own');
        assert.match(net.purpose, /network stack/);
      } finally {
        await runtime.delete(joined, true);
      }
    } finally {
      await runtime.delete(rid, true);
    }
    assert.equal(cgroupSummaryOf(record.cgroupsPath).exists, false, 'delete removed the cgroup');
  });

  test('berth ns: PID, mount, network, UTS, IPC and cgroup namespaces apart from the host\'s; user shared', async () => {
    const [r, json, templated] = await all(['ns', name], ['ns', '--format', 'json', name], ['ns', '--format', '{{.Container}} {{.Type}} {{.Shared}}']);
    assert.equal(r!.status, 0, r!.stderr);
    const [header, ...lines] = r!.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.split(/\s+/), ['CONTAINER', 'NS', 'TYPE', 'NPROCS', 'PID', 'SHARED', 'COMMAND']);
    const rows = new Map(lines.map((l) => { const f = l.split(/\s+/); return [f[2]!, f]; }));
    for (const type of ISOLATED) {
      const row = rows.get(type);
      assert.ok(row, `no ${type} row in\n${r!.stdout}`);
      assert.equal(row[0], name);
      assert.notEqual(Number(row[1]), hostInode(type));
      assert.equal(row[3], '2', `${type}: both processes are in it`);
      assert.equal(row[4], String(pid));
      assert.equal(row[5], 'no');
      assert.equal(row.slice(6).join(' '), 'sleep 1001');
    }
    assert.equal(rows.get('user')?.[1], String(hostInode('user')));
    assert.equal(rows.get('user')?.[5], 'host');

    const parsed = JSON.parse(json!.stdout) as { id: string; namespaces: { type: string; shared: boolean }[] }[];
    assert.equal(parsed[0]!.id, id);
    assert.deepEqual(parsed[0]!.namespaces.filter((n) => !n.shared).map((n) => n.type), ISOLATED);
    // Without arguments: every running container, this one among them, the exited one not.
    assert.equal(templated!.status, 0, templated!.stderr);
    assert.ok(templated!.stdout.split('\n').includes(`${name} net no`), templated!.stdout);
    assert.ok(!templated!.stdout.includes(stopped), templated!.stdout);
  });

  test('berth cgroups: the memory limit set with --memory, the usage and the processes', async () => {
    const [r, json] = await all(['cgroups', name], ['cgroups', '--format', 'json', name]);
    assert.equal(r!.status, 0, r!.stderr);
    const lines = r!.stdout.split('\n');
    assert.match(lines[0]!, /^\/berth {2}\(cgroup v[12]: /);
    assert.equal(lines[1], `└─${id.slice(0, 12)} ${name}  (running)`);
    assert.match(lines[2]!, /limits: memory=64MiB /);
    assert.match(lines[3]!, /usage: {2}memory=[\d.]+(KiB|MiB) .*pids=2 /);
    // The processes, by pid: the container's init and the sleep it started in the background.
    assert.match(lines[4]!, /^ {2}├─\d+ sleep 100[01]$/);
    assert.match(lines[5]!, /^ {2}└─\d+ sleep 100[01]$/);
    assert.ok(lines.slice(4, 6).some((l) => l.endsWith(`─${pid} sleep 1001`)), r!.stdout);
    assert.equal(lines[6], '');

    const parsed = JSON.parse(json!.stdout) as { cgroup: { path: string; limits: { memory?: number }; usage: { memoryBytes: number }; processes: { pid: number }[] } }[];
    assert.equal(parsed[0]!.cgroup.path, `/berth/${id}`);
    assert.equal(parsed[0]!.cgroup.limits.memory, 64 * MiB);
    assert.ok(parsed[0]!.cgroup.usage.memoryBytes > 0);
    assert.ok(parsed[0]!.cgroup.processes.some((p) => p.pid === pid));
  });

  test('berth stats --no-stream: Docker\'s columns, memory in use against the limit; -a adds the stopped one with zeros', async () => {
    const fmt = '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}';
    const [r, formatted, json, withAll, runningOnly] = await all(
      ['stats', '--no-stream', name],
      ['stats', '--no-stream', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.PIDs}}', name],
      ['stats', '--no-stream', '--format', 'json', name],
      ['stats', '--no-stream', '-a', '--format', fmt],
      ['stats', '--no-stream', '--format', fmt],
    );
    assert.equal(r!.status, 0, r!.stderr);
    const [header, row, extra] = r!.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.split(/\s{2,}/), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    assert.equal(extra, undefined);
    const cells = row!.split(/\s{2,}/);
    assert.equal(cells[0], id.slice(0, 12));
    assert.equal(cells[1], name);
    assert.match(cells[2]!, /^\d+\.\d\d%$/);
    assert.match(cells[3]!, /^[1-9][\d.]*(KiB|MiB) \/ 64MiB$/);
    assert.match(cells[4]!, /^\d+\.\d\d%$/);
    assert.notEqual(cells[4], '0.00%');
    assert.equal(cells[7], '2');

    assert.equal(formatted!.stdout, `${id} ${name} 2\n`);
    const parsed = JSON.parse(json!.stdout) as Record<string, string>;
    assert.equal(parsed.Name, name);
    assert.match(parsed.MemUsage!, / \/ 64MiB$/);
    assert.ok(withAll!.stdout.split('\n').includes(`${stopped}|0.00%|0B / 0B|0`), withAll!.stdout);
    assert.ok(withAll!.stdout.split('\n').some((l) => l.startsWith(`${name}|`)), withAll!.stdout);
    assert.ok(!runningOnly!.stdout.includes(stopped), runningOnly!.stdout);
  });

  test('berth stats redraws every second until interrupted', async () => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot, 'stats', name],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: PROJECT });
    let out = '';
    const frames = () => out.split('\x1b[H').length - 1;
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`${code} ${signal}`)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (frames() >= 2) resolve(); });
        void exited.then((how) => reject(new Error(`stats ended by itself (${how}):\n${out}`)));
      });
      child.kill('SIGINT');
      assert.equal(await exited, 'null SIGINT');
    } finally {
      child.kill('SIGKILL');
    }
    const lastFrame = out.split('\x1b[H').at(-1)!;
    assert.match(lastFrame, /CONTAINER ID\s+NAME\s+CPU %/);
    assert.match(lastFrame, new RegExp(`${name}\\s+\\d+\\.\\d\\d%`));
  });

  test('berth top: the container\'s processes in ps columns, no host process; ps options pass through', async () => {
    const [r, custom, renamed] = await all(['top', name], ['top', name, '-o', 'pid,args'], ['top', name, '-o', 'uid=PID']);
    assert.equal(r!.status, 0, r!.stderr);
    const [header, ...rows] = r!.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.match(header!, /^UID {17}PID {17}/, 'columns 20 wide, as Docker prints them');
    assert.deepEqual(rows.map((l) => l.split(/\s+/).slice(7).join(' ')).sort(), ['sleep 1000', 'sleep 1001']);
    assert.ok(rows.some((l) => l.split(/\s+/)[1] === String(pid)));
    assert.ok(!rows.some((l) => l.split(/\s+/)[1] === String(process.pid)));

    assert.equal(custom!.status, 0, custom!.stderr);
    assert.deepEqual(custom!.stdout.split('\n')[0]!.split(/\s+/), ['PID', 'COMMAND']);
    assert.ok(custom!.stdout.includes(`${String(pid).padEnd(20)}sleep 1001\n`), custom!.stdout);

    assert.equal(renamed!.status, 1);
    assert.equal(renamed!.stderr, 'Error response from daemon: specifying "uid=PID" is not allowed\n');
  });

  test('a container that does not exist or does not run: Docker\'s message, status 1, nothing printed', async () => {
    const missing = [['top', 'nosuch'], ['stats', '--no-stream', 'nosuch'], ['ns', 'nosuch'], ['cgroups', 'nosuch']];
    const notRunning = [['top', stopped], ['ns', stopped]];
    const results = await all(...missing, ...notRunning, ['cgroups', '-a', stopped], ['cgroups', '--format', 'yaml']);
    missing.forEach((args, i) => {
      const r = results[i]!;
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n', args.join(' '));
      assert.equal(r.stdout, '');
    });
    notRunning.forEach((args, i) => {
      const r = results[missing.length + i]!;
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.stderr, `Error response from daemon: container ${stoppedId} is not running\n`, args.join(' '));
    });
    const [tree, bad] = results.slice(-2);
    assert.equal(tree!.status, 0, tree!.stderr);
    assert.match(tree!.stdout, new RegExp(`└─${stoppedId.slice(0, 12)} ${stopped} {2}\\(exited`));
    assert.equal(bad!.status, 1);
    assert.match(bad!.stderr, /--format yaml: berth cgroups prints a tree or 'json'/);
  });

  test('the help says what a namespace and a cgroup are', async () => {
    const [ns, cgroups] = (await all(['ns', '--help'], ['cgroups', '--help'])).map((r) => r.stdout.replace(/\s+/g, ' '));
    assert.match(ns!, /A namespace is the kernel's per-process view of one kind of resource/);
    assert.match(cgroups!, /A cgroup is a group of processes the kernel accounts for and limits together/);
  });
});
