// `berth runtime` under real engines, as their runc: containerd (through
// `ctr run --runc-binary`) and Podman (`--runtime`), each started here on
// directories of its own under a temporary root, with a busybox image saved
// by berth and imported into each. Nothing is pulled, nothing networked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cleanup, eventually, imageRoot, leftovers } from '../support.js';
import { startContainerd } from '../containerd-support.js';

const missing = ['containerd', 'ctr', 'podman', 'conmon', 'tini'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const skip = missing.length ? `needs ${missing.join(', ')} (scripts/setup.sh installs them)` : false;

const { root, b, removeAll } = imageRoot('runtime-engines');
const image = join(root, 'busybox-image.tar');
const cgroupParent = `berth-engines-${process.pid}`;
const runtimeState = join(root, 'runtime-state');
// Podman refuses a run root of more than 50 characters.
const podmanDir = mkdtempSync('/tmp/berth-podman-');
const TIMEOUT = 120_000;

/** The wrapper an engine calls as its runc: `berth runtime` with our state root first (an engine's own --root, later, wins). */
function wrapper(name: string): string {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\nexec ${CLI.map((a) => `'${a}'`).join(' ')} runtime --root '${runtimeState}' "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

// Directories an engine makes outside its roots whatever it is told: kept
// only if they were there before (containerd's shim sockets are always under /run/containerd/s).
const hostDirs = ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd'];
const hostDirsBefore = new Set(hostDirs.filter((d) => existsSync(d)));

/** The cgroups the engines made under our parent (conmon's own among them), innermost first; rmdir fails on one still in use. */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(dir, e.name));
  rmdirSync(dir);
}

function removeCgroupParents(): void {
  removeCgroupTree(join('/sys/fs/cgroup', cgroupParent));
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) removeCgroupTree(join('/sys/fs/cgroup', hierarchy, cgroupParent));
}

let containerd: ChildProcess | undefined;
const ctd = join(root, 'containerd');
const address = join(ctd, 'containerd.sock');
const ctr = (...args: string[]) => spawnSync('ctr', ['--address', address, '--namespace', 'berth-test', ...args], { encoding: 'utf8', timeout: TIMEOUT });

before(async () => {
  if (skip) return;
  const r = b('save', '-o', image, 'busybox:latest');
  assert.equal(r.status, 0, r.stderr);
  containerd = startContainerd({ configDir: root, dataDir: ctd, address });
  await eventually(() => ctr('version').status === 0, 30_000, 'containerd to serve');
  const imported = ctr('image', 'import', image);
  assert.equal(imported.status, 0, imported.stderr);
});

after(async () => {
  // Every step runs, whatever an earlier one threw; the first error is reported.
  const errors: unknown[] = [];
  const step = async (fn: () => unknown) => {
    try {
      await fn();
    } catch (err) {
      errors.push(err);
    }
  };
  await step(async () => {
    if (containerd && containerd.exitCode === null) {
      const exited = new Promise((r) => containerd!.once('exit', r));
      containerd.kill('SIGTERM');
      await exited;
    }
  });
  if (!skip) {
    await step(() => {
      const podman = spawnSync('podman', [...podmanGlobals(), 'rm', '--all', '--force'], { encoding: 'utf8', timeout: TIMEOUT });
      assert.equal(podman.status, 0, podman.stderr);
    });
    await step(removeCgroupParents);
  }
  await step(() => {
    for (const dir of hostDirs) {
      if (!hostDirsBefore.has(dir) && existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
    }
  });
  await step(removeAll);
  await step(() => assert.deepEqual([...leftovers(root), ...leftovers(podmanDir)], [], 'an engine left something on the host'));
  cleanup(root);
  cleanup(podmanDir);
  if (errors.length) throw errors[0];
});

test('containerd: `ctr run --runc-binary` berth runs the container, gives its output and exit status, and returns when it ends', { skip, timeout: TIMEOUT }, () => {
  const id = `ctr${process.pid}`;
  const r = ctr(
    'run', '--rm', '--net-host', '--cgroup', `/${cgroupParent}/${id}`, '--fifo-dir', join(ctd, 'fifo'), '--runc-root', join(ctd, 'runc'),
    '--runc-binary', wrapper('berth-for-containerd'), 'docker.io/library/busybox:latest', id,
    'sh', '-c', 'echo "hello from $$"; echo to-stderr >&2; exit 3',
  );
  assert.equal(r.error, undefined, 'ctr run returned (before, it hung: the shim never saw the exit)');
  assert.equal(r.stdout, 'hello from 1\n');
  assert.match(r.stderr, /to-stderr/);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(ctr('containers', 'list', '-q').stdout.trim(), '', '--rm removed the container');
  assert.ok(!existsSync(join(ctd, 'runc', 'berth-test', id)), 'the runtime state is gone');
});

test("containerd: a create that fails shows berth's reason, read from the runtime's --log as the shim reads runc's", { skip, timeout: TIMEOUT }, () => {
  const id = `ctrfail${process.pid}`;
  const r = ctr(
    'run', '--rm', '--net-host', '--cgroup', `/${cgroupParent}/${id}`, '--fifo-dir', join(ctd, 'fifo'), '--runc-root', join(ctd, 'runc'),
    '--runc-binary', wrapper('berth-for-containerd'), 'docker.io/library/busybox:latest', id, 'no-such-program',
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /OCI runtime create failed: process\.args\[0\]: exec: "no-such-program": executable file not found/);
  ctr('containers', 'delete', id);
  assert.equal(ctr('containers', 'list', '-q').stdout.trim(), '');
});

test('containerd: `ctr task exec` runs a process in the running container (runc exec --process --detach --pid-file), with its output and exit status; kill ends the task', { skip, timeout: TIMEOUT }, async () => {
  const id = `ctrexec${process.pid}`;
  const started = ctr(
    'run', '-d', '--net-host', '--cgroup', `/${cgroupParent}/${id}`, '--fifo-dir', join(ctd, 'fifo'), '--runc-root', join(ctd, 'runc'),
    '--runc-binary', wrapper('berth-for-containerd'), 'docker.io/library/busybox:latest', id, 'sleep', '300',
  );
  assert.equal(started.status, 0, started.stderr);
  try {
    const r = ctr('task', 'exec', '--fifo-dir', join(ctd, 'fifo'), '--exec-id', 'e1', id, 'sh', '-c', 'echo "exec in $(cat /proc/1/cmdline | tr \\\\0 " ")"; exit 6');
    assert.equal(r.error, undefined, 'ctr task exec returned');
    assert.equal(r.stdout, 'exec in sleep 300 \n');
    assert.equal(r.status, 6, r.stderr);
  } finally {
    ctr('task', 'kill', '--signal', 'SIGKILL', id);
    await eventually(() => !/RUNNING/.test(ctr('task', 'list').stdout), 30_000, 'the task to stop');
    const deleted = ctr('task', 'delete', id);
    assert.equal(deleted.status, 0, deleted.stderr);
    ctr('containers', 'delete', id);
  }
  assert.equal(ctr('containers', 'list', '-q').stdout.trim(), '');
});

function podmanGlobals(): string[] {
  const p = podmanDir;
  return [
    '--root', join(p, 'root'), '--runroot', join(p, 'runroot'), '--tmpdir', join(p, 'tmp'), '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', wrapper('berth-for-podman'),
  ];
}

test('podman: `podman --runtime` berth runs an image from a local archive, with its output and exit status', { skip, timeout: TIMEOUT }, () => {
  const podman = (...args: string[]) => spawnSync('podman', [...podmanGlobals(), ...args], { encoding: 'utf8', timeout: TIMEOUT });
  const loaded = podman('load', '-i', image);
  assert.equal(loaded.status, 0, loaded.stderr);
  const r = podman('run', '--rm', '--network', 'none', '--cgroup-parent', `/${cgroupParent}`, 'docker.io/library/busybox:latest', 'sh', '-c', 'echo "hello from $$"; ls -l /dev/null; exit 4');
  assert.equal(r.error, undefined);
  assert.match(r.stdout, /^hello from 1\ncrw-rw-rw- +1 root +root +1, +3 .* \/dev\/null\n$/);
  assert.equal(r.status, 4, r.stderr);
  assert.equal(podman('ps', '-a', '-q').stdout.trim(), '', '--rm removed the container');
});

test('podman: exec in a detached container gives its output and status; rm -f stops and removes it', { skip, timeout: TIMEOUT }, () => {
  const podman = (...args: string[]) => spawnSync('podman', [...podmanGlobals(), ...args], { encoding: 'utf8', timeout: TIMEOUT });
  const started = podman('run', '-d', '--network', 'none', '--cgroup-parent', `/${cgroupParent}`, 'docker.io/library/busybox:latest', 'sleep', '300');
  assert.equal(started.status, 0, started.stderr);
  const id = started.stdout.trim();
  try {
    const r = podman('exec', id, 'sh', '-c', 'echo "exec beside $(cat /proc/1/cmdline | tr \\\\0 " ")"; exit 5');
    assert.equal(r.stdout, 'exec beside sleep 300 \n');
    assert.equal(r.status, 5, r.stderr);
  } finally {
    const removed = podman('rm', '-f', '-t', '0', id);
    assert.equal(removed.status, 0, removed.stderr);
  }
  assert.equal(podman('ps', '-a', '-q').stdout.trim(), '');
});
