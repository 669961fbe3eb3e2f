// Layers mounted as a container's root with overlayfs, as root: the merged
// view of a chain with whiteouts and opaque directories is what Docker shows,
// a chain longer than full paths would allow still mounts, and a container's
// changes come back out as a layer tar that recreates the same view.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { LayerStore, type ChainId } from '../../src/image/layers.js';
import { diffTar, isMountPoint, mountRootfs, unmountRootfs } from '../../src/image/snapshots.js';
import { tempRoot, cleanup, leftovers } from '../support.js';
import { layerBlob, listTree, unmountAllUnder, type TarEntry } from '../layer-support.js';

const root = tempRoot('layers-overlay');
after(() => {
  unmountAllUnder(root);
  cleanup(root);
});
afterEach(() => {
  assert.deepEqual(leftovers(root), [], 'the test left something mounted');
});
let n = 0;

async function chain(store: LayerStore, dir: string, layers: TarEntry[][]): Promise<ChainId> {
  let parent: ChainId | undefined;
  for (const entries of layers) {
    const blob = await layerBlob(dir, entries, 'gzip');
    parent = (await store.apply(blob.path, blob.mediaType, parent, blob.diffId)).chainId;
  }
  return parent!;
}

/** Mount, run `fn` on the rootfs, always unmount. */
async function withRootfs<T>(store: LayerStore, top: ChainId | undefined, dir: string, fn: (rootfs: string) => T | Promise<T>): Promise<T> {
  const rootfs = mountRootfs(store, top, dir);
  try {
    assert.ok(isMountPoint(rootfs));
    return await fn(rootfs);
  } finally {
    unmountRootfs(dir);
    assert.equal(isMountPoint(rootfs), false);
  }
}

const L1: TarEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/a', body: 'A1' },
  { name: 'etc/b', body: 'B1' },
  { name: 'd/', type: 'directory' },
  { name: 'd/x', body: 'x' },
  { name: 'd/sub/', type: 'directory' },
  { name: 'd/sub/z', body: 'z' },
  { name: 'keep', body: 'keep' },
  { name: 'usr/', type: 'directory' },
  { name: 'usr/lib/', type: 'directory' },
  { name: 'usr/lib/libc', body: 'libc' },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  { name: 'dev/', type: 'directory' },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/pipe', type: 'fifo' },
  { name: 'ro/', type: 'directory', mode: 0o555 },
  { name: 'ro/file', body: 'ro' },
];
const L2: TarEntry[] = [
  { name: 'etc/.wh.a' },
  { name: 'etc/c', body: 'C2' },
  { name: 'd/', type: 'directory' },
  { name: 'd/.wh..wh..opq' },
  { name: 'd/new', body: 'new' },
  { name: '.wh.ghost' },
];
const L3: TarEntry[] = [
  { name: 'etc/b', body: 'B3' },
  { name: '.wh.keep' },
  { name: '.wh.lib' },
  { name: 'lib/', type: 'directory' },
  { name: 'lib/own', body: 'own' },
];

/** What `docker run` of the image L1+L2+L3 would list. */
const MERGED = [
  'd dir', 'd/new file new',
  'dev dir', 'dev/null char 1,3', 'dev/pipe fifo',
  'etc dir', 'etc/b file B3', 'etc/c file C2',
  'lib dir', 'lib/own file own',
  'ro dir', 'ro/file file ro',
  'usr dir', 'usr/lib dir', 'usr/lib/libc file libc',
];

test('a 3-layer chain with a whiteout and an opaque directory, mounted: what Docker shows', async () => {
  const dir = join(root, `t${++n}`);
  mkdirSync(dir);
  const store = new LayerStore(dir);
  const top = await chain(store, dir, [L1, L2, L3]);
  await withRootfs(store, top, join(dir, 'c1'), (rootfs) => {
    assert.deepEqual(listTree(rootfs), MERGED);
  });
  // Mounting twice is harmless, and unmounting what is not mounted too.
  const c2 = join(dir, 'c2');
  mountRootfs(store, top, c2);
  mountRootfs(store, top, c2);
  unmountRootfs(c2);
  unmountRootfs(c2);
});

test('an image without layers mounts an empty root', async () => {
  const dir = join(root, `t${++n}`);
  const store = new LayerStore(dir);
  await withRootfs(store, undefined, join(dir, 'c'), (rootfs) => {
    assert.deepEqual(listTree(rootfs), []);
    writeFileSync(join(rootfs, 'x'), 'x');
  });
});

test('a chain of 70 layers mounts: short lower paths keep the options within a page', async () => {
  const dir = join(root, `t${++n}`);
  mkdirSync(dir);
  const store = new LayerStore(dir);
  const layers: TarEntry[][] = [];
  for (let i = 0; i < 70; i++) layers.push([{ name: `f${String(i).padStart(2, '0')}`, body: String(i) }, { name: 'top', body: String(i) }]);
  const top = await chain(store, dir, layers);
  assert.ok(store.lowerDirs(top).join(':').length > 4096, 'full paths would not fit');
  await withRootfs(store, top, join(dir, 'c'), (rootfs) => {
    const tree = listTree(rootfs);
    assert.equal(tree.length, 71);
    assert.ok(tree.includes('top file 69'));
    assert.ok(tree.includes('f00 file 0'));
  });
});

interface ParsedEntry { name: string; type: string; body: string; linkname: string | null }

async function readTar(stream: NodeJS.ReadableStream): Promise<{ entries: ParsedEntry[]; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  const entries: ParsedEntry[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      entries.push({ name: entry.header.name, type: entry.header.type, body: Buffer.concat(parts).toString('utf8'), linkname: entry.header.linkname ?? null });
    }
  })();
  extract.end(bytes);
  await done;
  return { entries, bytes };
}

test('diffTar: the container\'s changes as a layer, whiteouts and opaque dirs included; applied again it gives the same view', async () => {
  const dir = join(root, `t${++n}`);
  mkdirSync(dir);
  const store = new LayerStore(dir);
  const top = await chain(store, dir, [L1, L2, L3]);
  const c1 = join(dir, 'c1');
  const changed = await withRootfs(store, top, c1, (rootfs) => {
    writeFileSync(join(rootfs, 'added'), 'added');
    unlinkSync(join(rootfs, 'etc/b'));
    writeFileSync(join(rootfs, 'etc/c'), 'C-changed');
    // Remove a directory that lower layers have, and make it again: overlay marks it opaque.
    rmSync(join(rootfs, 'usr/lib'), { recursive: true });
    mkdirSync(join(rootfs, 'usr/lib'));
    writeFileSync(join(rootfs, 'usr/lib/fresh'), 'fresh');
    symlinkSync('/etc/c', join(rootfs, 'link'));
    chownSync(join(rootfs, 'ro/file'), 1000, 1001);
    chmodSync(join(rootfs, 'ro/file'), 0o640);
    return listTree(rootfs);
  });
  assert.deepEqual(changed, [
    'added file added',
    'd dir', 'd/new file new',
    'dev dir', 'dev/null char 1,3', 'dev/pipe fifo',
    'etc dir', 'etc/c file C-changed',
    'lib dir', 'lib/own file own',
    'link symlink -> /etc/c',
    'ro dir', 'ro/file file ro',
    'usr dir', 'usr/lib dir', 'usr/lib/fresh file fresh',
  ]);

  const { entries, bytes } = await readTar(diffTar(c1));
  assert.deepEqual(entries.map((e) => `${e.name} ${e.type}${e.type === 'file' ? ` ${e.body}` : ''}${e.linkname ? ` -> ${e.linkname}` : ''}`), [
    'added file added',
    'etc directory',
    'etc/.wh.b file ',
    'etc/c file C-changed',
    'link symlink -> /etc/c',
    'ro directory',
    'ro/file file ro',
    'usr directory',
    'usr/lib directory',
    'usr/lib/.wh..wh..opq file ',
    'usr/lib/fresh file fresh',
  ]);

  // The changeset as a fourth layer: a new container on it sees what the first one left.
  const blob = await layerBlob(dir, bytes, 'gzip');
  const committed = (await store.apply(blob.path, blob.mediaType, top, blob.diffId)).chainId;
  const before = await withRootfs(store, committed, join(dir, 'c2'), (rootfs) => listTree(rootfs, { meta: true }));
  await withRootfs(store, top, c1, (rootfs) => {
    assert.deepEqual(listTree(rootfs, { meta: true }), before, 'modes and owners survive the round trip');
    assert.ok(before.includes('ro/file file 640 1000:1001 ro'), before.join('\n'));
  });
});
