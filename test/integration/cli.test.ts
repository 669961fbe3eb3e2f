// `berth runtime` as another engine or a person drives it: runc's command
// line, exit statuses, and clear errors for bad input.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { berth, makeBundle, tempRoot, leftovers, cleanup } from '../support.js';
import type { Spec } from '../../src/runtime/spec.js';

const root = tempRoot('cli');
const state = join(root, 'state');
let n = 0;
const ids: string[] = [];
const rt = (...args: string[]) => berth(['runtime', '--root', state, ...args]);

after(() => cleanup(root));
afterEach(() => assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host'));

function bundle(args: string[], patch: (s: Spec) => void = () => {}): { id: string; dir: string } {
  const id = `c${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  return { id, dir: makeBundle(join(root, id), patch, { args }) };
}

test('spec writes a config.json with Docker defaults, and refuses to overwrite it', () => {
  const dir = join(root, 'spec');
  mkdirSync(dir);
  let r = berth(['runtime', 'spec', '--bundle', dir, '--', 'echo', 'hi']);
  assert.equal(r.status, 0, r.stderr);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  assert.deepEqual(spec.process!.args, ['echo', 'hi']);
  assert.equal(spec.process!.capabilities!.bounding!.length, 14);
  assert.equal(spec.linux!.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.ok(spec.linux!.seccomp!.syscalls!.some((s) => s.names.includes('clone3') && s.errnoRet === 38), 'clone3 gets ENOSYS');
  r = berth(['runtime', 'spec', '--bundle', dir]);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /config\.json exists: remove it first/);
});

test('create, state, start, kill by name and number, delete', async () => {
  const { id, dir } = bundle(['sleep', '60']);
  const pidFile = join(root, `${id}.pid`);
  let r = rt('create', '--bundle', dir, '--pid-file', pidFile, id);
  assert.equal(r.status, 0, r.stderr);
  let st = JSON.parse(rt('state', id).stdout);
  assert.equal(st.status, 'created');
  assert.equal(st.id, id);
  assert.equal(st.ociVersion, '1.2.0');
  assert.equal(String(st.pid), readFileSync(pidFile, 'utf8').trim());
  assert.equal(st.bundle, dir);

  r = rt('start', id);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(rt('state', id).stdout).status, 'running');

  r = rt('start', id);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /cannot start container "c\d+": it is running/);
  r = rt('delete', id);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /cannot delete container "c\d+": it is running/);

  r = rt('kill', id, 'NOSUCHSIG');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /invalid signal "NOSUCHSIG"/);
  r = rt('kill', id, '9');
  assert.equal(r.status, 0, r.stderr);
  for (let i = 0; i < 100 && st.status !== 'stopped'; i++) {
    await new Promise((res) => setTimeout(res, 20));
    st = JSON.parse(rt('state', id).stdout);
  }
  assert.equal(st.status, 'stopped');
  assert.equal(st.pid, 0);
  r = rt('delete', id);
  assert.equal(r.status, 0, r.stderr);
  r = rt('state', id);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /container "c\d+" does not exist/);
});

test('kill --all signals every process; delete --force stops a running container', () => {
  const { id, dir } = bundle(['sh', '-c', 'sleep 60 & sleep 60']);
  assert.equal(rt('create', '--bundle', dir, id).status, 0);
  assert.equal(rt('start', id).status, 0);
  assert.equal(rt('kill', '--all', id, 'SIGSTOP').status, 0);
  assert.equal(rt('kill', '--all', id, 'CONT').status, 0);
  const r = rt('delete', '--force', id);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(rt('list', '-q').stdout.trim(), '');
});

test('run: stdin in, output out, the exit status returned, nothing kept', () => {
  const { id, dir } = bundle(['sh', '-c', 'read line; echo "got $line"; exit 7']);
  const r = berth(['runtime', '--root', state, 'run', '--bundle', dir, id], { input: 'hello\n' });
  assert.equal(r.stdout, 'got hello\n');
  assert.equal(r.status, 7);
  assert.ok(!existsSync(join(state, id)));
});

test('exec runs a process in a running container, in its namespaces', () => {
  const { id, dir } = bundle(['sleep', '60'], (s) => { s.hostname = 'exec-host'; });
  assert.equal(rt('create', '--bundle', dir, id).status, 0);
  assert.equal(rt('start', id).status, 0);
  try {
    let r = rt('exec', id, 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; exit 4');
    assert.equal(r.status, 4, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['exec-host', 'sleep 60']);
    r = rt('exec', '-e', 'GREETING=hi', '--cwd', '/proc', id, 'sh', '-c', 'echo $GREETING $(pwd)');
    assert.equal(r.stdout.trim(), 'hi /proc');
  } finally {
    rt('delete', '--force', id);
  }
});

test('exit statuses: 127 for a missing program, 126 for one that cannot run', () => {
  let { id, dir } = bundle(['nosuchprogram']);
  let r = rt('run', '--bundle', dir, id);
  assert.equal(r.status, 127);
  assert.match(r.stderr, /exec: "nosuchprogram": executable file not found in \$PATH/);
  ({ id, dir } = bundle(['/etc/hostname']));
  r = rt('run', '--bundle', dir, id);
  assert.equal(r.status, 126);
  assert.match(r.stderr, /permission denied/);
});

test('bad bundles get clear errors naming the field, and leave nothing', () => {
  const cases: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ['missing rootfs', (s) => { (s.root as { path: string }).path = 'nope'; }, /root\.path: .*nope does not exist/],
    ['unknown namespace', (s) => { (s.linux as { namespaces: unknown[] }).namespaces.push({ type: 'mount2' }); }, /linux\.namespaces\[6\]\.type: unknown namespace type/],
    ['malformed seccomp rule', (s) => { (s.linux as { seccomp: { syscalls: unknown[] } }).seccomp.syscalls.unshift({ names: ['read'], action: 'SCMP_ACT_FOO' }); }, /linux\.seccomp\.syscalls\[0\]\.action: unknown action "SCMP_ACT_FOO"/],
    ['relative cwd', (s) => { (s.process as { cwd: string }).cwd = 'tmp'; }, /process\.cwd: must be an absolute path/],
    ['not JSON', () => { throw new Error('raw'); }, /not valid JSON/],
  ];
  for (const [name, patch, message] of cases) {
    const { id, dir } = bundle(['true']);
    const path = join(dir, 'config.json');
    try {
      const spec = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      patch(spec);
      writeFileSync(path, JSON.stringify(spec));
    } catch {
      writeFileSync(path, '{ "ociVersion": ');
    }
    const r = rt('run', '--bundle', dir, id);
    assert.equal(r.status, 125, name);
    assert.match(r.stderr, message, name);
    assert.ok(!r.stderr.includes('    at '), `${name}: no stack trace for a user error`);
    assert.ok(!existsSync(join(state, id)), `${name}: no state left`);
  }
});

test('unknown flags and missing containers are usage errors (125)', () => {
  let r = rt('create', '--no-such-flag', 'x');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
  r = rt('kill', 'ghost');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /container "ghost" does not exist/);
  r = rt('state', '../etc');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /invalid container id/);
});

test('exit statuses as Docker\'s CLI: 1 for a wrong number of arguments, no terminal, a list\'s bad filter or a missing image relayed; 125 for an unknown flag', () => {
  const face = (...args: string[]) => berth(['--root', join(root, 'face'), '--run-root', join(root, 'face-run'), ...args]);
  for (const [args, status, message] of [
    [['run'], 1, /missing required argument 'image'/],
    [['rename', 'a'], 1, /missing required argument 'new-name'/],
    [['run', '-it', 'busybox', 'true'], 1, /the input device is not a TTY/],
    [['ps', '--filter', 'colour=red'], 1, /^Error response from daemon: invalid filter 'colour'/],
    [['images', '--filter', 'colour=red'], 1, /^Error response from daemon: invalid filter 'colour'/],
    [['tag', 'nosuch:1', 'other:1'], 1, /^Error response from daemon: no such image: nosuch:1/],
    [['history', 'nosuch'], 1, /^Error response from daemon: no such image: nosuch/],
    [['run', '--no-such-flag', 'busybox'], 125, /unknown option '--no-such-flag'/],
  ] as [string[], number, RegExp][]) {
    const r = face(...args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('plan prints every step in words without running anything', () => {
  const { dir } = bundle(['echo', 'hi'], (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } };
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const r = rt('plan', '--bundle', dir);
  assert.equal(r.status, 0, r.stderr);
  for (const expected of [
    /user +own user and group ids/,
    /write \/proc\/<pid>\/uid_map: 0 100000 65536/,
    /memory.*67108864/,
    /pids.*50/,
    /pivot_root into/,
    /seccomp filter: default SCMP_ACT_ERRNO/,
    /capabilities: effective chown/,
    /execve \["echo","hi"\]/,
  ]) assert.match(r.stdout, expected);
  assert.ok(!existsSync(state) || rt('list', '-q').stdout.trim() === '', 'plan created nothing');
});

test('features describes the runtime', () => {
  const r = rt('features');
  const features = JSON.parse(r.stdout);
  assert.equal(features.ociVersionMax, '1.2.0');
  assert.ok(features.linux.namespaces.includes('cgroup'));
  assert.equal(features.linux.cgroup.v2, true);
});
