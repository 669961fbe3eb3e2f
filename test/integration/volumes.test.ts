// Volumes on real containers: data that outlives a container, the image's
// content copied into a volume on first use (and only then), the image's
// VOLUMEs as anonymous volumes that go with their container, and hostile
// images whose links try to point a copy or a mount at the host.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, rmSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { busyboxRootfs, leftovers, cleanup } from '../support.js';
import { storageRoot, importBusybox, makeImage, makeWithdata } from '../volume-support.js';

const s = storageRoot('volumes');
const { root, b, ok, volumeNames, volumeData } = s;
const hostSecret = join(root, 'host-secret');
const hostSecret2 = join(root, 'host-secret2');

before(() => {
  importBusybox(s);
  makeWithdata(s);
  // A hostile image: its volume paths are links to the host's /etc, to a host
  // directory by absolute path, and to another through "..".
  for (const dir of [hostSecret, hostSecret2]) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'marker'), 'host only\n');
  }
  makeImage(s, 'hostile', ['VOLUME /etcvol', 'VOLUME /abs', 'VOLUME /up', 'CMD ["sh"]'], (rootfs) => {
    symlinkSync('/etc', join(rootfs, 'etcvol'));
    symlinkSync(hostSecret, join(rootfs, 'abs'));
    symlinkSync(`../../../../../../../..${hostSecret2}`, join(rootfs, 'up'));
  });
});

after(() => cleanup(root));

afterEach(() => assert.deepEqual(leftovers(root), [], 'the test left something on the host'));

test('a named volume is made on first use and keeps its data for the next container; :ro is read-only', () => {
  ok('run', '--rm', '-v', 'keep1:/data', 'busybox', 'sh', '-c', 'echo first > /data/note');
  assert.equal(readFileSync(join(volumeData('keep1'), 'note'), 'utf8'), 'first\n');
  const r = b('run', '--rm', '-v', 'keep1:/data:ro', 'busybox', 'sh', '-c', 'cat /data/note; echo second > /data/note');
  assert.equal(r.stdout, 'first\n');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Read-only file system/);
  assert.equal(readFileSync(join(volumeData('keep1'), 'note'), 'utf8'), 'first\n');
  const [v] = JSON.parse(ok('volume', 'inspect', 'keep1')) as Record<string, unknown>[];
  assert.match(String(v!.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual({ ...v, CreatedAt: 'x' }, {
    CreatedAt: 'x', Driver: 'local', Labels: null, Mountpoint: volumeData('keep1'), Name: 'keep1', Options: null, Scope: 'local',
  });
  ok('volume', 'rm', 'keep1');
  assert.deepEqual(volumeNames(), []);
});

test("a volume's first use copies the image's content with owners, modes, links and xattrs; a used volume is not refilled", () => {
  assert.equal(ok('run', '--rm', '-v', 'filled:/data', 'withdata', 'sh', '-c', 'stat -c "%u:%g %a" /data/hello; echo mine > /data/mine'), '1000:1001 640\n');
  const data = volumeData('filled');
  assert.deepEqual(readdirSync(data).sort(), ['hello', 'link', 'mine', 'sub']);
  assert.equal(execFileSync('getfattr', ['-n', 'user.origin', '--only-values', join(data, 'hello')], { encoding: 'utf8' }), 'image', 'the xattr came along');
  assert.equal(readlinkSync(join(data, 'link')), 'hello');
  assert.equal(readFileSync(join(data, 'sub', 'deep'), 'utf8'), 'deep\n');
  const st = lstatSync(data);
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [123, 456, 0o750], 'the volume takes the owner and mode of the image directory');
  rmSync(join(data, 'hello'));
  // Second use: the volume is not empty, so hello does not come back; nocopy leaves a new volume empty.
  assert.equal(ok('run', '--rm', '-v', 'filled:/data', '-v', 'empty1:/data/sub:nocopy', 'withdata', 'ls', '-A', '/data', '/data/sub'), '/data:\nlink\nmine\nsub\n\n/data/sub:\n');
  assert.deepEqual(readdirSync(volumeData('empty1')), []);
  ok('volume', 'rm', 'filled', 'empty1');
});

test("the image's VOLUMEs become anonymous volumes: --rm and rm -v remove them, rm keeps them, named ones stay", () => {
  // --rm: the anonymous volume goes with the container; the image content was in it.
  assert.equal(ok('run', '--rm', 'withdata', 'cat', '/data/hello'), 'from the image\n');
  assert.deepEqual(volumeNames(), []);
  // A mount at the path takes the anonymous volume's place; rm -v keeps the named one.
  ok('run', '--name', 'covered', '-v', 'named1:/data', 'withdata', 'true');
  assert.deepEqual(volumeNames(), ['named1']);
  ok('rm', '-v', 'covered');
  assert.deepEqual(volumeNames(), ['named1']);
  // rm -v: the anonymous one goes.
  ok('run', '--name', 'anon-rmv', 'withdata', 'true');
  const [anon] = volumeNames().filter((n) => n !== 'named1');
  assert.match(anon ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual(readdirSync(volumeData(anon!)).sort(), ['hello', 'link', 'sub']);
  const [v] = JSON.parse(ok('volume', 'inspect', anon!)) as { Labels: Record<string, string> }[];
  assert.deepEqual(v!.Labels, { 'com.docker.volume.anonymous': '' });
  ok('rm', '-v', 'anon-rmv');
  assert.deepEqual(volumeNames(), ['named1']);
  // rm without -v leaves it, dangling; `volume prune` takes it, and named ones only with -a.
  ok('run', '--name', 'anon-keep', 'withdata', 'true');
  ok('rm', 'anon-keep');
  const [dangling] = volumeNames().filter((n) => n !== 'named1');
  // withdata's /data: 15 bytes of hello, 5 of sub/deep, 5 of the link (its target's name).
  assert.equal(ok('volume', 'prune', '-f'), `Deleted Volumes:\n${dangling}\n\nTotal reclaimed space: 25B\n`);
  assert.deepEqual(volumeNames(), ['named1']);
  assert.equal(ok('volume', 'prune', '-f', '-a'), 'Deleted Volumes:\nnamed1\n\nTotal reclaimed space: 25B\n');
  assert.deepEqual(volumeNames(), []);
});

test('a hostile image cannot point the copy or the mounts at the host', () => {
  const hostEtc = readdirSync('/etc').sort();
  const imageEtc = readdirSync(join(busyboxRootfs(), 'etc')).sort();
  ok('run', '--name', 'hostile-run', 'hostile', 'sh', '-c', 'echo pwned > /etcvol/pwned; echo pwned > /abs/pwned; echo pwned > /up/pwned');
  // The host is untouched.
  assert.deepEqual(readdirSync(hostSecret), ['marker']);
  assert.deepEqual(readdirSync(hostSecret2), ['marker']);
  assert.deepEqual(readdirSync('/etc').sort(), hostEtc);
  // /etcvol's volume holds the image's /etc (never the host's), the others only what the container wrote.
  const contents = volumeNames().map((n) => ({ name: n, files: readdirSync(volumeData(n)).sort() }));
  assert.equal(contents.length, 3);
  const etc = contents.find((c) => c.files.includes('passwd'));
  assert.deepEqual(etc?.files, [...imageEtc, 'pwned'].sort());
  assert.equal(readFileSync(join(volumeData(etc!.name), 'passwd'), 'utf8'), readFileSync(join(busyboxRootfs(), 'etc', 'passwd'), 'utf8'));
  assert.deepEqual(contents.filter((c) => c !== etc).map((c) => c.files), [['pwned'], ['pwned']]);
  ok('rm', '-v', 'hostile-run');
  assert.deepEqual(volumeNames(), []);
});
