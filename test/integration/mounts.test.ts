// Bind mounts, --mount and --tmpfs on real containers, and storage flags that
// are refused before anything is made.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { leftovers, cleanup } from '../support.js';
import { storageRoot, importBusybox } from '../volume-support.js';

const s = storageRoot('mounts');
const { root, b, ok, volumeNames, volumeData } = s;

before(() => importBusybox(s));

after(() => cleanup(root));

afterEach(() => assert.deepEqual(leftovers(root), [], 'the test left something on the host'));

test('-v binds: read-only inside, writes seen by the host, files too, a missing source made, parents before children', () => {
  const host = join(root, 'bind-host');
  mkdirSync(host);
  writeFileSync(join(host, 'in'), 'from host\n');
  let r = b('run', '--rm', '-v', `${host}:/x:ro`, 'busybox', 'sh', '-c', 'cat /x/in; echo no > /x/new');
  assert.equal(r.stdout, 'from host\n');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Read-only file system/);
  assert.ok(!existsSync(join(host, 'new')));
  const missing = join(root, 'made-by-v', 'deeper');
  // Given child first: the parent volume is still mounted first, so the child bind shows through it.
  r = b('run', '--rm', '-v', `${host}:/x`, '-v', `${join(host, 'in')}:/etc/in.conf:ro`, '-v', `${missing}:/m`, '-v', `${host}:/a/b`, '-v', 'outer1:/a',
    'busybox', 'sh', '-c', 'echo yes > /x/new; cat /etc/in.conf; echo made > /m/f; echo inner > /a/b/from-child; echo outer > /a/top');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'from host\n');
  assert.equal(readFileSync(join(host, 'new'), 'utf8'), 'yes\n');
  assert.equal(readFileSync(join(missing, 'f'), 'utf8'), 'made\n', '-v makes a missing host directory, as Docker does');
  assert.equal(readFileSync(join(host, 'from-child'), 'utf8'), 'inner\n');
  assert.deepEqual(readdirSync(volumeData('outer1')).sort(), ['b', 'top'], 'the child\'s mount point is made inside the parent volume');
  ok('volume', 'rm', 'outer1');
});

test('--tmpfs and --mount type=tmpfs: size limit, Docker\'s noexec,nosuid,nodev, mode, exec', () => {
  const r = b('run', '--rm', '--tmpfs', '/scratch:size=1m', '--tmpfs', '/run/x:exec,mode=700', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770',
    'busybox', 'sh', '-c', 'grep -E " /(scratch|run/x|t) " /proc/mounts; stat -c %a /run/x /t; dd if=/dev/zero of=/scratch/big bs=1024 count=2048');
  assert.notEqual(r.status, 0);
  const [modes, ...mounts] = r.stdout.trimEnd().split('\n').reverse();
  assert.equal(modes, '1770');
  assert.deepEqual(mounts.sort(), [
    '700',
    'tmpfs /run/x tmpfs rw,nosuid,nodev,relatime,mode=700 0 0',
    'tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k 0 0',
    'tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=1770 0 0',
  ]);
  assert.match(r.stderr, /No space left on device/);
});

test('--mount of each type, with readonly', () => {
  const host = join(root, 'mount-host');
  mkdirSync(host);
  writeFileSync(join(host, 'f'), 'bound\n');
  let r = b('run', '--rm', '--mount', `type=bind,source=${host},target=/ro,readonly`, '--mount', `"type=bind","src=${host}","destination=/rw"`,
    '--mount', 'type=volume,source=mvol,target=/v', 'busybox', 'sh', '-c', 'cat /ro/f; echo v > /v/f; echo w > /rw/g; touch /ro/h');
  assert.equal(r.stdout, 'bound\n');
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(readFileSync(join(host, 'g'), 'utf8'), 'w\n');
  assert.ok(!existsSync(join(host, 'h')));
  r = b('run', '--rm', '--mount', 'source=mvol,target=/v,ro=true', 'busybox', 'sh', '-c', 'cat /v/f; echo x > /v/f');
  assert.equal(r.stdout, 'v\n');
  assert.match(r.stderr, /Read-only file system/);
  ok('volume', 'rm', 'mvol');
});

test('bad storage flags: exit 125, the message Docker gives, nothing made', () => {
  const cases: [string[], RegExp][] = [
    [['-v', './rel:/x'], /"\.\/rel" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed. If you intended to pass a host directory, use absolute path/],
    [['-v', '/tmp:/x:bogus'], /invalid volume specification: '\/tmp:\/x:bogus': invalid mode: bogus/],
    [['-v', 'keep:/x', '--mount', `type=bind,source=${join(root, 'nope')},target=/y`], /invalid mount config for type "bind": bind source path does not exist: .*\/nope/],
    [['--mount', 'type=volume,target=/x,bogus=1'], /invalid argument "type=volume,target=\/x,bogus=1" for "--mount" flag: unexpected key 'bogus' in 'bogus=1'/],
    [['--tmpfs', '/x:size=big'], /invalid tmpfs option "size=big" for \/x/],
    [['-v', '/tmp:/x', '--tmpfs', '/x'], /Duplicate mount point: \/x/],
  ];
  for (const [flags, message] of cases) {
    const r = b('run', '--rm', ...flags, 'busybox', 'true');
    assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
  assert.deepEqual(volumeNames(), [], 'no volume made for a container that was refused');
  assert.equal(ok('ps', '-a', '-q'), '');
  assert.ok(!existsSync(join(root, 'nope')), '--mount does not make a missing bind source');
});
