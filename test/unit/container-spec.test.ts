// Docker's rules for merging an image's config with `run` flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeProcess, resolveUser } from '../../src/engine/container-spec.js';

const image = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'], Env: ['PATH=/opt/bin:/bin', 'MODE=prod'], WorkingDir: '/app', User: 'app' };

test('Entrypoint + Cmd; CMD args replace Cmd only', () => {
  assert.deepEqual(mergeProcess(image, {}).args, ['/entry.sh', 'serve', '--port', '80']);
  assert.deepEqual(mergeProcess(image, { command: ['debug'] }).args, ['/entry.sh', 'debug']);
});

test('--entrypoint replaces the entrypoint and drops the image Cmd; "" clears it', () => {
  assert.deepEqual(mergeProcess(image, { entrypoint: '/bin/sh' }).args, ['/bin/sh']);
  assert.deepEqual(mergeProcess(image, { entrypoint: '/bin/sh', command: ['-c', 'id'] }).args, ['/bin/sh', '-c', 'id']);
  assert.deepEqual(mergeProcess(image, { entrypoint: '', command: ['ls'] }).args, ['ls']);
  assert.throws(() => mergeProcess(image, { entrypoint: '' }), /no command specified/);
  assert.throws(() => mergeProcess({}, {}), /no command specified/);
});

test('env: image first, -e overrides, -e NAME takes the host value or nothing, PATH defaulted', () => {
  const m = mergeProcess(image, { env: ['MODE=dev', 'EXTRA=1', 'FROM_HOST', 'UNSET_ON_HOST'], hostname: 'abc', tty: true }, { FROM_HOST: 'h' });
  assert.deepEqual(m.env, ['PATH=/opt/bin:/bin', 'MODE=dev', 'EXTRA=1', 'FROM_HOST=h', 'HOSTNAME=abc', 'TERM=xterm']);
  assert.equal(mergeProcess({ Cmd: ['x'] }, {}).env[0], 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
});

test('-w and -u override WorkingDir and User', () => {
  assert.equal(mergeProcess(image, {}).cwd, '/app');
  assert.equal(mergeProcess(image, { workdir: '/tmp' }).cwd, '/tmp');
  assert.equal(mergeProcess({ Cmd: ['x'] }, {}).cwd, '/');
  assert.equal(mergeProcess(image, {}).user, 'app');
  assert.equal(mergeProcess(image, { user: '0' }).user, '0');
});

test("users resolve against the container's passwd and group files", () => {
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-users-'));
  try {
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\naudio:x:29:app,other\n');
    // The primary group leads the supplementary ones (CVE-2023-25173); HOME is the passwd entry's.
    assert.deepEqual(resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
    assert.deepEqual(resolveUser(rootfs, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/app' });
    assert.deepEqual(resolveUser(rootfs, 'app:wheel'), { uid: 1000, gid: 10, additionalGids: [10, 29], home: '/app' });
    assert.deepEqual(resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
    assert.deepEqual(resolveUser(rootfs, '0'), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
    assert.throws(() => resolveUser(rootfs, 'ghost'), /unable to find user ghost: no matching entries in passwd file/);
    assert.throws(() => resolveUser(rootfs, 'app:ghosts'), /unable to find group ghosts/);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
});

test('a relative -w is refused; an image\'s relative WorkingDir stays under /', () => {
  assert.throws(() => mergeProcess(image, { workdir: '../../escape' }), /the working directory '..\/..\/escape' is invalid, it needs to be an absolute path/);
  assert.equal(mergeProcess({ Cmd: ['x'], WorkingDir: '../../../etc' }, {}).cwd, '/etc');
});

test('an image whose /etc/passwd links to a host file does not read the host file', () => {
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-users-'));
  const host = mkdtempSync(join(tmpdir(), 'berth-host-'));
  try {
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(host, 'passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
    symlinkSync(join(host, 'passwd'), join(rootfs, 'etc/passwd'));
    assert.throws(() => resolveUser(rootfs, 'hostonly'), /unable to find user hostonly/);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
  }
});
