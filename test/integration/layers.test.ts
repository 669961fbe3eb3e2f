// Unpacking layers as root: every kind of entry lands as Docker's overlay2
// would store it, compression is found by magic bytes, the diffID is checked,
// shared chains are stored once, and hostile layers are refused with the
// store left exactly as it was.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LayerStore, type ChainId } from '../../src/image/layers.js';
import { BerthError } from '../../src/util/errors.js';
import { sha256 } from '../../src/image/digest.js';
import { tempRoot, cleanup } from '../support.js';
import { getXattr, hasZstd, layerBlob, listTree, storeSnapshot, type TarEntry } from '../layer-support.js';

const root = tempRoot('layers');
after(() => cleanup(root));
let n = 0;

/** A fresh store per test, so that tests do not see each other's layers. */
function freshStore(): { store: LayerStore; dir: string } {
  const dir = join(root, `s${++n}`);
  mkdirSync(dir);
  return { store: new LayerStore(dir), dir };
}

async function apply(store: LayerStore, dir: string, entries: TarEntry[], parent?: ChainId, compression: 'none' | 'gzip' | 'zstd' = 'none', warn?: (m: string) => void): Promise<ChainId> {
  const blob = await layerBlob(dir, entries, compression);
  const r = await store.apply(blob.path, blob.mediaType, parent, blob.diffId, warn ? { warn } : {});
  return r.chainId;
}

/** Applying `entries` on `parent` must be refused with a message matching `message`, changing nothing. */
async function refused(store: LayerStore, dir: string, entries: TarEntry[], message: RegExp, parent?: ChainId): Promise<void> {
  const before = storeSnapshot(store.dir);
  const blob = await layerBlob(dir, entries);
  await assert.rejects(store.apply(blob.path, blob.mediaType, parent, blob.diffId), (err: unknown) => {
    assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
    assert.match(err.message, message);
    assert.ok(err.message.includes(blob.diffId), `the message names the layer: ${err.message}`);
    return true;
  });
  assert.deepEqual(storeSnapshot(store.dir), before, 'the store changed');
  assert.deepEqual(readdirSync(store.dir).filter((f) => f.startsWith('.tmp-')), [], 'a temp dir was left');
}

const BASE: TarEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/hostname', body: 'base\n' },
  { name: 'bin/', type: 'directory' },
  { name: 'bin/tool', body: '#!/bin/sh\n', mode: 0o755 },
];

test('a plain, a gzip and a zstd layer of the same tar give the same chain', async (t) => {
  const { store, dir } = freshStore();
  const plain = await apply(store, dir, BASE, undefined, 'none');
  const gz = freshStore();
  assert.equal(await apply(gz.store, gz.dir, BASE, undefined, 'gzip'), plain);
  assert.deepEqual(listTree(gz.store.diffDir(plain), { meta: true }), listTree(store.diffDir(plain), { meta: true }));
  if (!hasZstd()) {
    t.skip('the zstd command (Debian package zstd) is not installed: cannot make a zstd layer');
    return;
  }
  const zs = freshStore();
  assert.equal(await apply(zs.store, zs.dir, BASE, undefined, 'zstd'), plain);
  assert.deepEqual(listTree(zs.store.diffDir(plain), { meta: true }), listTree(store.diffDir(plain), { meta: true }));
});

test('the base layer: chain ID is the diffID, layer.json, size, lowerDirs', async () => {
  const { store, dir } = freshStore();
  const blob = await layerBlob(dir, BASE, 'gzip');
  const r = await store.apply(blob.path, blob.mediaType, undefined, blob.diffId);
  assert.equal(r.chainId, blob.diffId);
  assert.equal(r.size, 'base\n'.length + '#!/bin/sh\n'.length);
  const rec = store.get(r.chainId);
  assert.deepEqual({ ...rec }, { chainId: blob.diffId, diffId: blob.diffId, parent: null, size: r.size, opaque: [] });
  assert.deepEqual(store.lowerDirs(r.chainId), [join(dir, 'layers', blob.diffId.slice(7), 'diff')]);
  assert.deepEqual(listTree(store.diffDir(r.chainId)), ['bin dir', 'bin/tool file #!/bin/sh\n', 'etc dir', 'etc/hostname file base\n']);
  const top = await apply(store, dir, [{ name: 'etc/hostname', body: 'top\n' }], r.chainId);
  assert.equal(top, sha256(`${r.chainId} ${store.get(top).diffId}`));
  assert.deepEqual(store.lowerDirs(top), [store.diffDir(top), store.diffDir(r.chainId)]);
  assert.deepEqual(store.shortLowerDirs(top).map((p) => readlinkSync(join(store.dir, p))), [`../${top.slice(7)}/diff`, `../${r.chainId.slice(7)}/diff`]);
});

test('every kind of entry: owners, modes, times, read-only dirs, links, devices, FIFOs, long names, xattrs', async () => {
  const { store, dir } = freshStore();
  const long = `${'deep/'.repeat(30)}${'n'.repeat(120)}`;
  const warnings: string[] = [];
  const id = await apply(store, dir, [
    { name: './', type: 'directory', mode: 0o700 },
    { name: 'ro/', type: 'directory', mode: 0o555, uid: 7, gid: 8 },
    { name: 'ro/inside', body: 'still written' },
    { name: 'owned', body: 'x', mode: 0o4755, uid: 1234, gid: 5678, mtime: new Date('2001-02-03T04:05:06Z') },
    { name: 'implicit/parent/file', body: 'p' },
    { name: 'sym', type: 'symlink', linkname: '/nowhere/at/all', uid: 3, gid: 4 },
    { name: 'hard1', body: 'same' },
    { name: 'hard2', type: 'link', linkname: 'hard1' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    { name: 'dev/null-link', type: 'link', linkname: 'dev/null' },
    { name: 'fifo', type: 'fifo', mode: 0o600 },
    { name: long, body: 'long' },
    { name: 'longlink', type: 'symlink', linkname: `/${'t'.repeat(200)}` },
    { name: 'attrs', body: 'a', pax: { 'SCHILY.xattr.user.note': 'hello', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
  ], undefined, 'gzip', (m) => warnings.push(m));
  const diff = store.diffDir(id);
  assert.equal(lstatSync(diff).mode & 0o7777, 0o755, 'the root entry does not change the diff root');
  const ro = lstatSync(join(diff, 'ro'));
  assert.equal(ro.mode & 0o7777, 0o555);
  assert.deepEqual([ro.uid, ro.gid], [7, 8]);
  assert.equal(readFileSync(join(diff, 'ro/inside'), 'utf8'), 'still written');
  const owned = lstatSync(join(diff, 'owned'));
  assert.equal(owned.mode & 0o7777, 0o4755, 'set-user-ID survives the chown');
  assert.deepEqual([owned.uid, owned.gid], [1234, 5678]);
  assert.equal(owned.mtime.toISOString(), '2001-02-03T04:05:06.000Z');
  assert.equal(lstatSync(join(diff, 'implicit/parent')).mode & 0o7777, 0o755);
  assert.equal(readlinkSync(join(diff, 'sym')), '/nowhere/at/all');
  assert.deepEqual([lstatSync(join(diff, 'sym')).uid, lstatSync(join(diff, 'sym')).gid], [3, 4]);
  assert.equal(lstatSync(join(diff, 'hard1')).ino, lstatSync(join(diff, 'hard2')).ino);
  const devNull = lstatSync(join(diff, 'dev/null'));
  assert.ok(devNull.isCharacterDevice());
  assert.equal(devNull.rdev, 0x103);
  assert.equal(devNull.mode & 0o7777, 0o666);
  assert.equal(lstatSync(join(diff, 'dev/null-link')).ino, devNull.ino, 'a hard link to a device node');
  const loop = lstatSync(join(diff, 'dev/loop0'));
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.rdev, 0x700);
  assert.equal(loop.gid, 6);
  assert.ok(lstatSync(join(diff, 'fifo')).isFIFO());
  assert.equal(readFileSync(join(diff, long), 'utf8'), 'long');
  assert.equal(readlinkSync(join(diff, 'longlink')), `/${'t'.repeat(200)}`);
  assert.equal(getXattr(join(diff, 'attrs'), 'user.note'), 'hello');
  assert.equal(getXattr(join(diff, 'attrs'), 'trusted.overlay.opaque'), undefined, 'a layer cannot set overlay xattrs');
  assert.ok(warnings.some((w) => w.includes('trusted.overlay.opaque')), warnings.join('\n'));
  assert.equal(store.get(id).size, 'still written'.length + 1 + 1 + 'same'.length + 'long'.length + 1);
});

test('whiteouts become character devices 0/0 and opaque markers the overlay xattr', async () => {
  const { store, dir } = freshStore();
  const base = await apply(store, dir, [
    { name: 'a/', type: 'directory' }, { name: 'a/1', body: '1' }, { name: 'a/2', body: '2' }, { name: 'gone', body: 'g' },
    { name: 'b/', type: 'directory' }, { name: 'b/old', body: 'o' },
  ]);
  const id = await apply(store, dir, [
    { name: 'a/.wh.1' },
    { name: '.wh.gone' },
    { name: '.wh.never-existed' },
    { name: 'b/', type: 'directory', mode: 0o750 },
    { name: 'b/.wh..wh..opq' },
    { name: 'b/new', body: 'n' },
    { name: 'c/.wh..wh..opq' },
    { name: 'x/.wh.y' },
  ], base);
  const diff = store.diffDir(id);
  for (const wh of ['a/1', 'gone', 'never-existed', 'x/y']) {
    const st = lstatSync(join(diff, wh));
    assert.ok(st.isCharacterDevice() && st.rdev === 0, `${wh} is a whiteout`);
  }
  assert.equal(existsSync(join(diff, 'a/.wh.1')), false);
  assert.equal(getXattr(join(diff, 'b'), 'trusted.overlay.opaque'), 'y');
  assert.equal(lstatSync(join(diff, 'b')).mode & 0o7777, 0o750);
  assert.equal(getXattr(join(diff, 'c'), 'trusted.overlay.opaque'), 'y');
  assert.equal(getXattr(join(diff, 'a'), 'trusted.overlay.opaque'), undefined);
  assert.deepEqual(store.get(id).opaque, ['b', 'c']);
  assert.equal(readFileSync(join(diff, 'b/new'), 'utf8'), 'n');
});

test('a whiteout and a new entry of the same name in one layer: the new entry stays, a directory turns opaque', async () => {
  const { store, dir } = freshStore();
  const base = await apply(store, dir, [{ name: 'd/', type: 'directory' }, { name: 'd/old', body: 'o' }, { name: 'f', body: 'old' }]);
  const id = await apply(store, dir, [
    { name: '.wh.d' }, { name: 'd/', type: 'directory' }, { name: 'd/new', body: 'n' },
    { name: 'f', body: 'new' }, { name: '.wh.f' },
  ], base);
  const diff = store.diffDir(id);
  assert.equal(getXattr(join(diff, 'd'), 'trusted.overlay.opaque'), 'y');
  assert.deepEqual(listTree(diff), ['d dir', 'd/new file n', 'f file new']);
});

test('hard links to a device node that a later entry replaces keep the node', async () => {
  const { store, dir } = freshStore();
  const id = await apply(store, dir, [
    { name: 'dev/a', type: 'character-device', devmajor: 1, devminor: 5 },
    { name: 'b', type: 'link', linkname: 'dev/a' },
    { name: 'c', type: 'link', linkname: 'dev/a' },
    { name: 'dev/a', body: 'now a file' },
  ]);
  const diff = store.diffDir(id);
  const b = lstatSync(join(diff, 'b'));
  assert.ok(b.isCharacterDevice());
  assert.equal(b.rdev, 0x105);
  assert.equal(lstatSync(join(diff, 'c')).ino, b.ino);
  assert.equal(readFileSync(join(diff, 'dev/a'), 'utf8'), 'now a file');
});

test('temp dirs of processes that died mid-apply are swept', async () => {
  const { store, dir } = freshStore();
  const dead = spawnSync('true').pid!;
  const stale = join(store.dir, `.tmp-${dead}-abcdef`);
  mkdirSync(join(stale, 'diff'), { recursive: true });
  await apply(store, dir, BASE);
  assert.equal(existsSync(stale), false);
});

test('a wrong diffID is refused and nothing is kept', async () => {
  const { store, dir } = freshStore();
  const blob = await layerBlob(dir, BASE, 'gzip');
  const wrong = sha256('something else');
  const before = storeSnapshot(store.dir);
  await assert.rejects(store.apply(blob.path, blob.mediaType, undefined, wrong), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'DigestMismatch');
    assert.match(err.message, new RegExp(`${wrong}.*${blob.diffId}`));
    return true;
  });
  assert.deepEqual(storeSnapshot(store.dir), before);
  assert.equal(store.has(wrong), false);
});

test('a corrupt blob is refused and nothing is kept', async () => {
  const { store, dir } = freshStore();
  const blob = await layerBlob(dir, BASE, 'gzip');
  const bytes = readFileSync(blob.path);
  writeFileSync(blob.path, bytes.subarray(0, bytes.length - 20));
  const before = storeSnapshot(store.dir);
  await assert.rejects(store.apply(blob.path, blob.mediaType, undefined, blob.diffId), /not a valid gzip-compressed tar: unexpected end of file/);
  assert.deepEqual(storeSnapshot(store.dir), before);
});

test('a shared chain is stored once, also when two pulls apply it at the same time', async () => {
  const { store, dir } = freshStore();
  const first = await apply(store, dir, BASE);
  assert.equal(await apply(store, dir, BASE), first);
  const blob = await layerBlob(dir, [{ name: 'etc/shared', body: 's'.repeat(100_000) }]);
  const results = await Promise.all([1, 2, 3].map(() => store.apply(blob.path, blob.mediaType, first, blob.diffId)));
  assert.ok(results.every((r) => r.chainId === results[0]!.chainId));
  const names = readdirSync(store.dir).sort();
  assert.deepEqual(names, ['l', first.slice(7), results[0]!.chainId.slice(7)].sort());
  assert.equal(readdirSync(join(store.dir, 'l')).length, 2);
  assert.equal(store.list().length, 2);
});

test('remove: refused while a child exists, then both go with their short links', async () => {
  const { store, dir } = freshStore();
  const base = await apply(store, dir, BASE);
  const top = await apply(store, dir, [{ name: 'x', body: 'x' }], base);
  assert.throws(() => store.remove(base), /parent of/);
  store.remove(top);
  store.remove(base);
  assert.deepEqual(readdirSync(store.dir), ['l']);
  assert.deepEqual(readdirSync(join(store.dir, 'l')), []);
});

test('an unknown parent is refused', async () => {
  const { store, dir } = freshStore();
  const blob = await layerBlob(dir, BASE);
  await assert.rejects(store.apply(blob.path, blob.mediaType, sha256('no such layer'), blob.diffId), /not in the store/);
});

// Hostile layers.

test('refused: an absolute path', async () => {
  const { store, dir } = freshStore();
  await refused(store, dir, [{ name: 'ok', body: 'fine' }, { name: '/etc/passwd', body: 'root::0:0::/:/bin/sh\n' }], /entry "\/etc\/passwd" refused: its path "\/etc\/passwd" is absolute/);
});

test('refused: a ".." component', async () => {
  const { store, dir } = freshStore();
  await refused(store, dir, [{ name: 'a/../../x', body: 'x' }], /entry "a\/\.\.\/\.\.\/x" refused: .*contains a "\.\." component/);
});

test('refused: a write through a symlink planted by the same layer', async () => {
  const { store, dir } = freshStore();
  const outside = join(root, `outside-${++n}`);
  mkdirSync(outside);
  await refused(store, dir, [
    { name: 'escape', type: 'symlink', linkname: outside },
    { name: 'escape/owned', body: 'pwned' },
  ], /entry "escape\/owned" refused: its parent "escape" is a symbolic link planted by this layer/);
  assert.deepEqual(readdirSync(outside), []);
});

test('refused: a write through a symlink planted by a lower layer', async () => {
  const { store, dir } = freshStore();
  const outside = join(root, `outside-${++n}`);
  mkdirSync(outside);
  const lowerBlob = await layerBlob(dir, [{ name: 'usr/', type: 'directory' }, { name: 'usr/escape', type: 'symlink', linkname: outside }]);
  const lower = (await store.apply(lowerBlob.path, lowerBlob.mediaType, undefined, lowerBlob.diffId)).chainId;
  const middle = await apply(store, dir, [{ name: 'other', body: 'o' }], lower);
  await refused(store, dir, [{ name: 'usr/escape/owned', body: 'pwned' }],
    new RegExp(`entry "usr/escape/owned" refused: its parent "usr/escape" is a symbolic link in lower layer ${lowerBlob.diffId}`), middle);
  assert.deepEqual(readdirSync(outside), []);
});

test('accepted: the lower symlink whited out, or replaced by a directory, before the write', async () => {
  const { store, dir } = freshStore();
  const lower = await apply(store, dir, [{ name: 'lib', type: 'symlink', linkname: 'usr/lib' }, { name: 'usr/lib/', type: 'directory' }]);
  const whited = await apply(store, dir, [{ name: '.wh.lib' }], lower);
  const ok1 = await apply(store, dir, [{ name: 'lib/libc.so', body: 'c' }], whited);
  assert.equal(readFileSync(join(store.diffDir(ok1), 'lib/libc.so'), 'utf8'), 'c');
  const ok2 = await apply(store, dir, [{ name: 'lib/', type: 'directory' }, { name: 'lib/libc.so', body: 'c' }], lower);
  assert.ok(lstatSync(join(store.diffDir(ok2), 'lib')).isDirectory());
  const ok3 = await apply(store, dir, [{ name: '.wh.lib' }, { name: 'lib/libc.so', body: 'c' }], lower);
  assert.equal(getXattr(join(store.diffDir(ok3), 'lib'), 'trusted.overlay.opaque'), 'y');
  // ...but an opaque directory above does not un-hide a symlink below it.
  const opaqueUsr = await apply(store, dir, [{ name: 'usr/.wh..wh..opq' }], lower);
  await refused(store, dir, [{ name: 'lib/x', body: 'x' }], /parent "lib" is a symbolic link in lower layer/, opaqueUsr);
});

test('an entry replaces a symlink of the same name; it never writes through it', async () => {
  const { store, dir } = freshStore();
  const outsideFile = join(root, `outside-file-${++n}`);
  writeFileSync(outsideFile, 'untouched');
  const id = await apply(store, dir, [
    { name: 'target', type: 'symlink', linkname: outsideFile },
    { name: 'target', body: 'replaced', mode: 0o600 },
  ]);
  assert.equal(readFileSync(outsideFile, 'utf8'), 'untouched');
  const st = lstatSync(join(store.diffDir(id), 'target'));
  assert.ok(st.isFile());
  assert.equal(readFileSync(join(store.diffDir(id), 'target'), 'utf8'), 'replaced');
});

test('refused: a hard link to /etc/passwd', async () => {
  const { store, dir } = freshStore();
  await refused(store, dir, [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }], /entry "passwd" refused: hard link target "\/etc\/passwd" is absolute/);
});

test('refused: a hard link to ../x', async () => {
  const { store, dir } = freshStore();
  await refused(store, dir, [{ name: 'x', type: 'link', linkname: '../x' }], /entry "x" refused: hard link target "\.\.\/x" contains a "\.\." component/);
});

test('refused: a hard link to a file of a lower layer, or through a symlink of this one', async () => {
  const { store, dir } = freshStore();
  const lower = await apply(store, dir, [{ name: 'secret', body: 's' }]);
  await refused(store, dir, [{ name: 'copy', type: 'link', linkname: 'secret' }], /entry "copy" refused: hard link to "secret" points outside the layer/, lower);
  await refused(store, dir, [
    { name: 'etc', type: 'symlink', linkname: '/etc' },
    { name: 'pw', type: 'link', linkname: 'etc/passwd' },
  ], /entry "pw" refused: hard link to "etc\/passwd" points outside the layer/);
});

test('refused: a whiteout named "..", and a file beneath a file', async () => {
  const { store, dir } = freshStore();
  await refused(store, dir, [{ name: 'a/.wh...' }], /"\.wh\.\.\." is not a valid whiteout/);
  await refused(store, dir, [{ name: 'f', body: 'f' }, { name: 'f/g', body: 'g' }], /entry "f\/g": its parent "f" is not a directory/);
});
