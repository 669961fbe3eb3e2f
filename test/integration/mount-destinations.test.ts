// Mount destinations Docker's runtime refuses (/proc, and anything inside it
// but lxcfs's files): refused before anything is made, with runc's words and
// exit 125 — from the CLI's -v, --mount and --tmpfs, from an image's VOLUME,
// and from a config.json given to `berth runtime create`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { berth, cleanup, imageRoot, leftovers, makeBundle } from '../support.js';

const { root, dataRoot, b, removeAll } = imageRoot('mount-destinations');

after(() => {
  removeAll();
  cleanup(root);
});

const volumes = () => (existsSync(join(dataRoot, 'volumes')) ? readdirSync(join(dataRoot, 'volumes')).filter((n) => !n.startsWith('.')) : []);
const containers = () => b('ps', '-a', '-q').stdout.split('\n').filter(Boolean);

test('run and create refuse /proc and paths inside it: exit 125, nothing created', () => {
  const src = join(root, 'src');
  mkdirSync(src);
  for (const [flags, message] of [
    [['-v', `${src}:/proc`], /error mounting ".*\/src" to rootfs at "\/proc": "\/proc" cannot be mounted because it is not of type proc/],
    [['-v', 'procvol:/proc/sys'], /error mounting "procvol" to rootfs at "\/proc\/sys": "\/proc\/sys" cannot be mounted because it is inside \/proc/],
    [['--mount', `type=bind,source=${src},target=/proc/sysrq-trigger`], /"\/proc\/sysrq-trigger" cannot be mounted because it is inside \/proc/],
    [['--mount', 'type=volume,target=/proc'], /"\/proc" cannot be mounted because it is not of type proc/],
    [['--tmpfs', '/proc'], /error mounting "tmpfs" to rootfs at "\/proc": "\/proc" cannot be mounted because it is not of type proc/],
    [['--tmpfs', '/proc/self/fd'], /inside \/proc/],
    [['-v', `${src}:/`], /destination can't be '\/'/],
  ] as [string[], RegExp][]) {
    for (const verb of ['run', 'create']) {
      const r = b(verb, '--rm', ...flags, 'busybox', 'true');
      assert.equal(r.status, 125, `${verb} ${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, `${verb} ${flags.join(' ')}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  }
  assert.deepEqual(containers(), []);
  assert.deepEqual(volumes(), []);
  assert.deepEqual(leftovers(root), []);
});

test("an image's VOLUME inside /proc is refused the same way, and leaves nothing", () => {
  const created = b('create', 'busybox', 'true');
  assert.equal(created.status, 0, created.stderr);
  const built = b('commit', '--change', 'VOLUME /proc/driver', created.stdout.trim(), 'procvolume:latest');
  assert.equal(built.status, 0, built.stderr);
  removeAll();
  const r = b('run', '--rm', 'procvolume', 'true');
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /error mounting "an anonymous volume" to rootfs at "\/proc\/driver": "\/proc\/driver" cannot be mounted because it is inside \/proc/);
  assert.deepEqual(containers(), []);
  assert.deepEqual(volumes(), []);
  assert.deepEqual(leftovers(root), []);
});

test('what runc allows still runs: lxcfs-style files bound into /proc, and the host procfs on /proc', () => {
  const r = b('run', '--rm', '-v', '/proc/meminfo:/proc/meminfo:ro', '-v', '/proc:/proc', 'busybox', 'sh', '-c', 'head -1 /proc/meminfo');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^MemTotal:/);
});

test('berth runtime create refuses a config.json mount onto /proc that is not a procfs, and creates nothing', () => {
  const state = join(root, 'runtime-state');
  const bundle = makeBundle(join(root, 'bundle-proc'), (s) => {
    s.mounts!.push({ destination: '/proc', type: 'bind', source: '/tmp', options: ['rbind'] });
  }, { args: ['true'] });
  const id = `procdest${process.pid}`;
  const r = berth(['runtime', '--root', state, 'create', '--bundle', bundle, id]);
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /mounts\[\d+\]\.destination: "\/proc" cannot be mounted because it is not of type proc/);
  assert.ok(!existsSync(join(state, id)), 'no state directory');
  assert.deepEqual(leftovers(root, [id]), []);
  const dev = makeBundle(join(root, 'bundle-dev'), (s) => {
    s.linux!.devices = [{ path: '/dev/../etc/passwd', type: 'c', major: 1, minor: 3 }];
  }, { args: ['true'] });
  const d = berth(['runtime', '--root', state, 'create', '--bundle', dev, `${id}d`]);
  assert.equal(d.status, 125, d.stderr);
  assert.match(d.stderr, /linux\.devices\[0\]\.path: "\/dev\/\.\.\/etc\/passwd" must be under \/dev/);
  assert.deepEqual(leftovers(root, [`${id}d`]), []);
});
