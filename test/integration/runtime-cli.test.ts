// `berth runtime` as another engine drives runc: the calls a containerd shim
// or conmon makes, each as its own process, and what each leaves behind.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, berth, cleanup, eventually, leftovers, makeBundle, tempRoot } from '../support.js';
import { cgroupOf } from '../../src/runtime/container.js';
import type { ContainerRecord } from '../../src/runtime/state.js';

const root = tempRoot('runtime-cli');
const state = join(root, 'state');
const ids: string[] = [];
let n = 0;
const nextId = () => {
  const id = `rc${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  return id;
};
const runtimeCommand = [...CLI, 'runtime', '--root', state].map((a) => `'${a}'`).join(' ');

after(() => cleanup(root));
afterEach(() => {
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
});

test("after create the container's process is the child of the caller's subreaper, with the caller's stdio and the pid file written (runc's contract)", () => {
  const id = nextId();
  const bundle = makeBundle(join(root, id), () => {}, { args: ['sh', '-c', 'echo "out from $$"; echo "err from $$" >&2; exit 7'] });
  const pidFile = join(root, `${id}.pid`);
  const script = join(root, `${id}.sh`);
  // tini -s is the subreaper, as a containerd shim or conmon is; the script
  // is its child and runs the verbs as the engine would.
  writeFileSync(script, `
set -e
R="${runtimeCommand}"
eval "$R create --bundle '${bundle}' --pid-file '${pidFile}' ${id}"
pid=$(cat '${pidFile}')
echo "parent $(cut -d' ' -f4 /proc/$pid/stat) subreaper $PPID" >&3
eval "$R state ${id}" | grep -o '"status": "[a-z]*"' >&3
eval "$R start ${id}"
i=0
until eval "$R state ${id}" | grep -q '"status": "stopped"'; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.1; done
echo stopped >&3
eval "$R delete ${id}"
`);
  const out = join(root, `${id}.out`);
  const err = join(root, `${id}.err`);
  const report = join(root, `${id}.report`);
  execFileSync('sh', ['-c', `exec tini -s -- sh '${script}' >'${out}' 2>'${err}' 3>'${report}'`], { timeout: 60_000 });
  const lines = readFileSync(report, 'utf8').trim().split('\n');
  const [, parent, subreaper] = /^parent (\d+) subreaper (\d+)$/.exec(lines[0]!)!;
  assert.equal(parent, subreaper, 'the subreaper is its parent: no berth process stays between them');
  assert.deepEqual(lines.slice(1), ['"status": "created"', 'stopped']);
  assert.equal(readFileSync(out, 'utf8'), 'out from 1\n', 'stdout is the fd the caller passed to create');
  assert.match(readFileSync(err, 'utf8'), /^err from 1\n/, 'stderr too');
  assert.ok(!existsSync(join(state, id)), 'delete removed the state');
});

test("with --log and --log-format json an error is also a runc log line there, which is where engines read it; --systemd-cgroup is refused clearly", () => {
  const log = join(root, 'runtime.log');
  const id = nextId();
  const bundle = makeBundle(join(root, id), () => {}, { args: ['no-such-program'] });
  const r = berth(['runtime', '--root', state, '--log', log, '--log-format', 'json', 'create', '--bundle', bundle, id]);
  assert.equal(r.status, 127, r.stderr);
  assert.match(r.stderr, /no-such-program/, 'stderr has it too');
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 'error');
  assert.match(lines[0]!.msg, /exec: "no-such-program": executable file not found/);
  assert.ok(!Number.isNaN(Date.parse(lines[0]!.time)));
  assert.ok(!existsSync(join(state, id)), 'nothing created');

  const text = join(root, 'runtime-text.log');
  const t = berth(['runtime', '--root', state, '--log', text, 'state', 'nonexistent']);
  assert.equal(t.status, 125);
  assert.match(readFileSync(text, 'utf8'), /^time="[^"]+" level=error msg="container \\"nonexistent\\" does not exist"\n$/);

  const s = berth(['runtime', '--root', state, '--systemd-cgroup', 'state', 'nonexistent']);
  assert.equal(s.status, 125);
  assert.match(s.stderr, /--systemd-cgroup: berth has no systemd cgroup driver/);
  const f = berth(['runtime', '--log-format', 'xml', 'state', 'x']);
  assert.equal(f.status, 125);
  assert.match(f.stderr, /--log-format "xml": expected text or json/);
});

test('ps --format json, update --resources -, kill --all and delete --force, as containerd calls them; create refuses --no-pivot and --preserve-fds it cannot honour', async () => {
  const id = nextId();
  const bundle = makeBundle(join(root, id), () => {}, { args: ['sh', '-c', 'sleep 60 & sleep 60; exit 0'] });
  const rt = (...args: string[]) => berth(['runtime', '--root', state, ...args]);
  for (const [flag, words] of [[['--no-pivot'], /--no-pivot: berth always uses pivot_root/], [['--preserve-fds', '2'], /--preserve-fds 2: berth passes the container only its stdio/]] as const) {
    const r = rt('create', '--bundle', bundle, ...flag, id);
    assert.equal(r.status, 125);
    assert.match(r.stderr, words);
    assert.ok(!existsSync(join(state, id)));
  }
  const created = rt('create', '--bundle', bundle, '--no-new-keyring', '--preserve-fds', '0', id);
  assert.equal(created.status, 0, created.stderr);
  try {
    assert.equal(rt('start', id).status, 0);
    const pids = await eventually(() => {
      const list = JSON.parse(rt('ps', '--format', 'json', id).stdout) as number[];
      return list.length === 3 && list;
    }, 10_000, 'sh and its two sleeps');
    const init = (JSON.parse(rt('state', id).stdout) as { pid: number }).pid;
    assert.ok(pids.includes(init));
    const table = rt('ps', id).stdout;
    assert.match(table, /sleep 60/);
    const updated = berth(['runtime', '--root', state, 'update', '--resources', '-', id], { input: JSON.stringify({ pids: { limit: 42 } }) });
    assert.equal(updated.status, 0, updated.stderr);
    const pidsDir = cgroupOf(JSON.parse(readFileSync(join(state, id, 'state.json'), 'utf8')) as ContainerRecord);
    assert.equal(readFileSync(join(pidsDir.version === 1 ? pidsDir.dir('pids')! : pidsDir.dir, 'pids.max'), 'utf8').trim(), '42');
    const bad = berth(['runtime', '--root', state, 'update', '--resources', '-', id], { input: '{"pids":{"limit":"many"}}' });
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /--resources -: pids\.limit/);
    assert.equal(rt('kill', '--all', id, 'KILL').status, 0);
    await eventually(() => (JSON.parse(rt('ps', '--format', 'json', id).stdout) as number[]).length === 0, 10_000, 'every process to end');
  } finally {
    const deleted = rt('delete', '--force', id);
    assert.equal(deleted.status, 0, deleted.stderr);
  }
  assert.ok(!existsSync(join(state, id)));
});
