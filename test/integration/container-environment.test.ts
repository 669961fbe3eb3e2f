// What a process finds in its container, as under Docker: HOME from the
// image's passwd, the primary group among its groups, Docker's init layer
// (/.dockerenv, /etc/mtab) — and none of berth's additions counted as the
// container's own: not in diff, export, commit, a volume's first copy, or
// inspect's Config.Env.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { imageRoot, leftovers, cleanup } from '../support.js';

const { root, b, removeAll } = imageRoot('container-environment');
const ok = (...args: string[]) => {
  const r = b(...args);
  assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

after(() => cleanup(root));
afterEach(() => {
  removeAll();
  assert.deepEqual(leftovers(root), [], 'the test left something on the host');
});

test('HOME and groups come from the image\'s passwd and group files, for run and exec', () => {
  const show = 'echo "HOME=$HOME"; id';
  assert.equal(ok('run', '--rm', 'busybox', 'sh', '-c', show), 'HOME=/root\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
  assert.equal(ok('run', '--rm', '-u', 'nobody', 'busybox', 'sh', '-c', show), 'HOME=/nonexistent\nuid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
  assert.equal(ok('run', '--rm', '-u', '1000', 'busybox', 'sh', '-c', show), 'HOME=/\nuid=1000 gid=0(root) groups=0(root)\n');
  assert.equal(ok('run', '--rm', '-u', 'daemon:wheel', 'busybox', 'sh', '-c', show), 'HOME=/usr/sbin\nuid=1(daemon) gid=10(wheel) groups=10(wheel)\n');
  assert.equal(ok('run', '--rm', '-e', 'HOME=/mine', 'busybox', 'sh', '-c', 'echo $HOME'), '/mine\n');

  ok('run', '-d', '--name', 'env-exec', 'busybox', 'sleep', '600');
  assert.equal(ok('exec', 'env-exec', 'sh', '-c', show), 'HOME=/root\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
  assert.equal(ok('exec', '-u', 'nobody', 'env-exec', 'sh', '-c', 'echo $HOME'), '/nonexistent\n');
  assert.equal(ok('exec', '-u', 'nobody', '-e', 'HOME=/x', 'env-exec', 'sh', '-c', 'echo $HOME'), '/x\n');
});

test('inspect\'s Config.Env holds what the image and the user gave, not what berth added at start', () => {
  ok('create', '--name', 'env-plain', '-h', 'box', '-t', 'busybox');
  assert.equal(ok('inspect', '-f', '{{json .Config.Env}}', 'env-plain'), 'null\n');
  ok('create', '--name', 'env-given', '-e', 'A=1', '-e', 'HOME=/h', 'busybox');
  assert.equal(ok('inspect', '-f', '{{json .Config.Env}}', 'env-given'), '["A=1","HOME=/h"]\n');
  // The process still gets them.
  const env = ok('run', '--rm', '-h', 'box', 'busybox', 'env').split('\n').filter(Boolean).sort();
  assert.deepEqual(env.filter((e) => /^(HOME|HOSTNAME|PATH)=/.test(e)), ['HOME=/root', 'HOSTNAME=box', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
});

test('/.dockerenv and /etc/mtab are there, and are not the container\'s changes', () => {
  assert.equal(ok('run', '--rm', 'busybox', 'sh', '-c', 'stat -c "%n %s %a" /.dockerenv; readlink /etc/mtab; grep -c " / overlay " /etc/mtab'), '/.dockerenv 0 755\n/proc/mounts\n1\n');
  ok('run', '--name', 'env-unchanged', 'busybox', 'true');
  assert.equal(ok('diff', 'env-unchanged'), '', 'an unchanged container shows no changes');
  const tarball = join(root, 'export.tar');
  ok('export', '-o', tarball, 'env-unchanged');
  const listing = execFileSync('tar', ['-tf', tarball]).toString().split('\n');
  assert.ok(listing.includes('bin/busybox'), 'the export holds the image\'s files');
  assert.deepEqual(listing.filter((n) => /dockerenv|etc\/mtab/.test(n)), [], 'the export holds none of the init layer');

  // A container that writes its own /etc/mtab keeps it in diff, export and commit.
  ok('run', '--name', 'env-own-mtab', 'busybox', 'sh', '-c', 'rm /etc/mtab && echo mine > /etc/mtab');
  // Over the init layer's link, as Docker's diff says it: a change.
  assert.match(ok('diff', 'env-own-mtab'), /^C \/etc\/mtab$/m);
  ok('export', '-o', tarball, 'env-own-mtab');
  const own = execFileSync('tar', ['-xOf', tarball, 'etc/mtab']).toString();
  assert.equal(own, 'mine\n');

  // commit keeps only the container's changes: its image still gets /.dockerenv from the init layer, not from a layer.
  ok('commit', 'env-unchanged', 'unchanged:1');
  assert.equal(ok('run', '--rm', 'unchanged:1', 'sh', '-c', 'ls /.dockerenv && readlink /etc/mtab'), '/.dockerenv\n/proc/mounts\n');
  ok('run', '--name', 'env-from-commit', 'unchanged:1', 'true');
  assert.equal(ok('diff', 'env-from-commit'), '');

  // A volume on /etc is filled with the image's /etc, not the init layer's link.
  assert.equal(ok('run', '--rm', '-v', 'env-etc:/etc', 'busybox', 'ls', '/etc'), 'group\nhostname\nhosts\npasswd\nresolv.conf\n');
  ok('volume', 'rm', 'env-etc');
});
