// save and load against the reference implementation of both formats,
// Debian's skopeo (containers/image): what berth writes skopeo reads, what
// skopeo writes berth loads, with the same image ID and layers that unpack;
// broken archives (a flipped byte, a missing manifest.json or layer, a path
// traversal entry, a layer that is not its diffID) are refused by name and
// leave the image store as it was.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { tempRoot, cleanup, leftovers } from '../support.js';
import { hasZstd, makeTar, listTree, unmountAllUnder, type TarEntry } from '../layer-support.js';
import { openDatabase } from '../../src/util/db.js';
import { BerthError } from '../../src/util/errors.js';
import { ContentStore } from '../../src/image/content-store.js';
import { LayerStore, type ChainId } from '../../src/image/layers.js';
import { ImageStore, type Image } from '../../src/image/images.js';
import { importRootfs } from '../../src/image/import.js';
import { MediaType, hostPlatform } from '../../src/image/manifest.js';
import { hexOf, sha256, type Digest } from '../../src/image/digest.js';
import { mountRootfs, unmountRootfs } from '../../src/image/snapshots.js';
import { saveImages, loadImages, type ArchiveFormat } from '../../src/image/archive.js';
import type { ImageStores } from '../../src/image/pull.js';

type TarHeader = Partial<tar.Header> & { name: string };

const root = tempRoot('archive');
let n = 0;
let source: ImageStores;
let one: Image;
let two: Image;
let twoGzip: Image;

function ensureSkopeo(): void {
  if (spawnSync('sh', ['-c', 'command -v skopeo']).status === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'skopeo'], { stdio: 'inherit', env });
}

const skopeo = (...args: string[]): string => execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A store of its own under the test root. */
function freshStores(): { stores: ImageStores; dir: string } {
  const dir = join(root, `store-${++n}`);
  mkdirSync(dir);
  const content = new ContentStore(dir);
  return { stores: { content, layers: new LayerStore(dir), images: new ImageStore(openDatabase(dir), content) }, dir };
}

const scratch = (name: string): string => join(root, `${++n}-${name}`);

async function save(stores: ImageStores, names: string[], format: ArchiveFormat): Promise<string> {
  const file = scratch(`${format}.tar`);
  await saveImages(stores, names, createWriteStream(file), { format });
  return file;
}

/** An archive's entries: name → body (regular files), in order. */
async function readTar(bytes: Buffer): Promise<{ header: TarHeader; body: Buffer }[]> {
  const extract = tar.extract();
  const out: { header: TarHeader; body: Buffer }[] = [];
  const fed = (async () => {
    extract.end(bytes);
  })();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
    out.push({ header: entry.header, body: Buffer.concat(chunks) });
  }
  await fed;
  return out;
}

async function writeTar(entries: { header: TarHeader; body: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const { header, body } of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (header.type === 'file' || header.type === undefined) pack.entry({ ...header, size: body.length }, body, done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** A copy of the archive at `file` with its entries edited (return null to drop one) and others appended. */
async function rewrite(file: string, edit: (name: string, body: Buffer) => Buffer | null, extra: { header: TarHeader; body: Buffer }[] = []): Promise<string> {
  const entries = await readTar(readFileSync(file));
  const kept: { header: TarHeader; body: Buffer }[] = [];
  for (const e of entries) {
    const body = e.header.type === 'file' ? edit(e.header.name, e.body) : e.body;
    if (body !== null) kept.push({ header: e.header, body });
  }
  const out = scratch('edited.tar');
  writeFileSync(out, await writeTar([...kept, ...extra]));
  return out;
}

function flipByte(body: Buffer, at = Math.floor(body.length / 2)): Buffer {
  const copy = Buffer.from(body);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

/** What a store records, to compare before and after a refused load. */
function snapshot(stores: ImageStores): string {
  return JSON.stringify(stores.images.list().map(({ added: _added, ...rest }) => rest));
}

/** Loading `file` is refused with a BerthError whose message matches, and nothing is recorded. */
async function refused(stores: ImageStores, file: string, code: string, message: RegExp): Promise<void> {
  const before = snapshot(stores);
  await assert.rejects(loadImages(stores, file), (err: unknown) => {
    assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
  assert.equal(snapshot(stores), before, 'the image store changed');
  assert.deepEqual(readdirSync(join(stores.content.root, 'ingest')), [], 'the spool was left behind');
}

/** The merged root filesystem of an image, listed through a real overlay mount. */
function mountedTree(stores: ImageStores, image: Image): string[] {
  let chain: ChainId | undefined;
  for (const l of image.layers) chain = stores.layers.chainId(chain, l.diffId);
  const dir = scratch('mount');
  try {
    return listTree(mountRootfs(stores.layers, chain, dir));
  } finally {
    unmountRootfs(dir);
  }
}

/**
 * An image made by hand: a gzip base layer and a top layer that deletes a
 * file with a whiteout, zstd-compressed if `zstd` (and the zstd tool is
 * there), else gzip. skopeo 1.9 cannot write a zstd layer into a
 * docker-archive, hence both.
 */
async function twoLayerImage(stores: ImageStores, tag: string, zstd: boolean): Promise<Image> {
  const base: TarEntry[] = [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hello', body: 'hello from layer one\n' },
    { name: 'etc/gone', body: 'deleted by layer two\n' },
  ];
  const top: TarEntry[] = [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'etc/new', body: 'added by layer two\n' },
  ];
  const tars = [await makeTar(base), await makeTar(top)];
  const blobs = [
    { bytes: gzipSync(tars[0]!), mediaType: MediaType.ociLayerGzip },
    zstd
      ? { bytes: execFileSync('zstd', ['-q', '-c'], { input: tars[1]! }), mediaType: MediaType.ociLayerZstd }
      : { bytes: gzipSync(tars[1]!), mediaType: MediaType.ociLayerGzip },
  ];
  const diffIds = tars.map((t) => sha256(t));
  const platform = hostPlatform();
  const configBytes = Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os, created: '2024-01-02T03:04:05Z',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created_by: 'layer one' }, { created_by: 'layer two' }],
  }));
  const configDigest = stores.content.put(configBytes);
  const layers = blobs.map((b, i) => ({ digest: stores.content.put(b.bytes), mediaType: b.mediaType, size: b.bytes.length, diffId: diffIds[i]! }));
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  const digest = stores.content.put(manifestBytes);
  let parent: ChainId | undefined;
  for (const l of layers) parent = (await stores.layers.apply(stores.content.path(l.digest), l.mediaType, parent, l.diffId)).chainId;
  stores.images.addImage({ digest, mediaType: MediaType.ociManifest, configDigest, layers, platform, size: 0 });
  stores.images.tag(tag, digest);
  return stores.images.get(digest)!;
}

const TWO_TREE = [
  'etc dir',
  'etc/hello file hello from layer one\n',
  'etc/new file added by layer two\n',
];

before(async () => {
  ensureSkopeo();
  source = freshStores().stores;
  const rootfs = scratch('rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  writeFileSync(join(rootfs, 'bin', 'hello'), 'imported\n');
  const tarball = scratch('rootfs.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', tarball, '.']);
  one = await importRootfs(source, tarball, { reference: 'busybox:latest', changes: ['CMD ["sh"]'], created: '2024-01-01T00:00:00Z' });
  two = await twoLayerImage(source, 'example.com/team/two:v1', hasZstd());
  twoGzip = await twoLayerImage(source, 'example.com/team/two:gzip', false);
});

after(() => {
  unmountAllUnder(root);
  cleanup(root);
});

afterEach(() => assert.deepEqual(leftovers(root), [], 'the test left a mount behind'));

test('save docker-archive: Docker 25 layout (manifest.json, repositories, OCI layout), uncompressed layers named by diffID', async () => {
  const file = await save(source, ['busybox:latest', 'example.com/team/two:v1'], 'docker-archive');
  const entries = await readTar(readFileSync(file));
  const byName = new Map(entries.map((e) => [e.header.name, e.body]));
  const manifest = JSON.parse(byName.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  assert.deepEqual(manifest.map((m) => m.RepoTags), [['busybox:latest'], ['example.com/team/two:v1']]);
  assert.equal(manifest[1]!.Config, `blobs/sha256/${hexOf(two.configDigest)}`);
  assert.deepEqual(manifest[1]!.Layers, two.layers.map((l) => `blobs/sha256/${hexOf(l.diffId)}`));
  for (const image of [one, two]) {
    for (const l of image.layers) {
      const body = byName.get(`blobs/sha256/${hexOf(l.diffId)}`)!;
      assert.equal(sha256(body), l.diffId, 'a layer is its uncompressed tar');
      assert.equal(body.readUInt32LE(0) === 0xfd2fb528 || (body[0] === 0x1f && body[1] === 0x8b), false);
    }
  }
  assert.deepEqual(JSON.parse(byName.get('repositories')!.toString()), {
    busybox: { latest: hexOf(one.layers[0]!.diffId) },
    'example.com/team/two': { v1: hexOf(two.layers[1]!.diffId) },
  });
  assert.deepEqual(JSON.parse(byName.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(byName.get('index.json')!.toString()) as { manifests: { digest: Digest; annotations: Record<string, string> }[] };
  assert.deepEqual(index.manifests.map((m) => m.annotations), [
    { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' },
    { 'io.containerd.image.name': 'example.com/team/two:v1', 'org.opencontainers.image.ref.name': 'v1' },
  ]);
  for (const m of index.manifests) assert.equal(sha256(byName.get(`blobs/sha256/${hexOf(m.digest)}`)!), m.digest);
});

test('skopeo reads berth\'s docker-archive: inspect, and copy to an OCI layout keeping the config digest', async () => {
  const file = await save(source, ['example.com/team/two:v1'], 'docker-archive');
  const inspected = JSON.parse(skopeo('inspect', `docker-archive:${file}`)) as { Layers: string[]; Architecture: string };
  assert.deepEqual(inspected.Layers, two.layers.map((l) => l.diffId));
  const raw = JSON.parse(skopeo('inspect', '--raw', `docker-archive:${file}`)) as { config: { digest: string } };
  assert.equal(raw.config.digest, two.configDigest);
  // The archive is an OCI layout too, as Docker 25's is.
  const asOci = JSON.parse(skopeo('inspect', '--raw', `oci-archive:${file}`)) as { config: { digest: string } };
  assert.equal(asOci.config.digest, two.configDigest);

  const layout = scratch('oci');
  skopeo('copy', '--preserve-digests', `docker-archive:${file}`, `oci:${layout}:two`);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: Digest }[] };
  const copied = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', hexOf(index.manifests[0]!.digest)), 'utf8')) as { config: { digest: Digest } };
  assert.equal(copied.config.digest, two.configDigest);
  assert.equal(sha256(readFileSync(join(layout, 'blobs', 'sha256', hexOf(two.configDigest)))), two.configDigest);

  // A plain copy converts to OCI, re-encoding the config (containers/image does that to any
  // Docker schema 2 source): the same image, the same layers.
  const converted = scratch('oci-converted');
  skopeo('copy', `docker-archive:${file}`, `oci:${converted}:two`);
  const config = JSON.parse(skopeo('inspect', '--config', `oci:${converted}:two`)) as { rootfs: { diff_ids: string[] }; config: unknown };
  assert.deepEqual(config.rootfs.diff_ids, two.layers.map((l) => l.diffId));
  assert.deepEqual(config.config, { Env: ['PATH=/bin'], Cmd: ['sh'] });
});

test('skopeo reads berth\'s oci-archive: the stored manifest, blobs as stored', async () => {
  const file = await save(source, ['example.com/team/two:v1'], 'oci-archive');
  const inspected = JSON.parse(skopeo('inspect', `oci-archive:${file}`)) as { Digest: string; Layers: string[] };
  assert.equal(inspected.Digest, two.digest);
  assert.deepEqual(inspected.Layers, two.layers.map((l) => l.digest));
  const byRef = JSON.parse(skopeo('inspect', '--raw', `oci-archive:${file}:v1`)) as { config: { digest: string } };
  assert.equal(byRef.config.digest, two.configDigest);
  const layout = scratch('oci');
  skopeo('copy', '--preserve-digests', `oci-archive:${file}:v1`, `oci:${layout}:v1`);
  assert.ok(existsSync(join(layout, 'blobs', 'sha256', hexOf(two.digest))));
});

/** An OCI layout directory of a stored image, written by hand (not by saveImages). */
function ociLayoutOf(stores: ImageStores, image: Image, tag: string): string {
  const dir = scratch('layout');
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const d of [image.digest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
    copyFileSync(stores.content.path(d), join(dir, 'blobs', 'sha256', hexOf(d)));
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: image.mediaType, digest: image.digest, size: stores.content.size(image.digest), annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return dir;
}

test('berth loads skopeo\'s docker-archive: tag, image ID, layers that unpack (whiteout applied)', async () => {
  const layout = ociLayoutOf(source, twoGzip, 'two');
  const file = scratch('skopeo-docker.tar');
  skopeo('copy', `oci:${layout}:two`, `docker-archive:${file}:busybox:latest`);
  const { stores } = freshStores();
  const result = await loadImages(stores, file);
  assert.deepEqual(result.loaded, ['Loaded image: busybox:latest']);
  const image = stores.images.resolve('busybox:latest');
  assert.equal(image.configDigest, two.configDigest);
  assert.deepEqual(image.names, ['docker.io/library/busybox:latest']);
  assert.deepEqual(image.layers.map((l) => l.diffId), two.layers.map((l) => l.diffId));
  // Stored as the archive had them: uncompressed, the blob is the diffID.
  assert.deepEqual(image.layers.map((l) => [l.digest, l.mediaType]), two.layers.map((l) => [l.diffId, MediaType.ociLayer]));
  assert.deepEqual(stores.images.config(image).config, { Env: ['PATH=/bin'], Cmd: ['sh'] });
  assert.deepEqual(mountedTree(stores, image), TWO_TREE);
  // Loading again changes nothing but is fine.
  assert.deepEqual((await loadImages(stores, file)).loaded, ['Loaded image: busybox:latest']);
  assert.equal(stores.images.list().length, 1);
});

test('berth loads skopeo\'s oci-archive: the same manifest digest, compressed layers kept', async () => {
  const layout = ociLayoutOf(source, two, 'two');
  const file = scratch('skopeo-oci.tar');
  skopeo('copy', '--preserve-digests', `oci:${layout}:two`, `oci-archive:${file}:busybox:latest`);
  const { stores } = freshStores();
  assert.deepEqual((await loadImages(stores, file)).loaded, ['Loaded image: busybox:latest']);
  const image = stores.images.resolve('busybox');
  assert.equal(image.digest, two.digest);
  assert.equal(image.configDigest, two.configDigest);
  assert.deepEqual(image.layers, two.layers);
  assert.deepEqual(mountedTree(stores, image), TWO_TREE);
});

test('an OCI layout whose ref.name is a bare tag loads untagged, by image ID', async () => {
  const layout = ociLayoutOf(source, one, 'latest');
  const file = scratch('bare.tar');
  execFileSync('tar', ['-C', layout, '-cf', file, '.']);
  const { stores } = freshStores();
  assert.deepEqual((await loadImages(stores, file)).loaded, [`Loaded image ID: ${one.configDigest}`]);
  assert.deepEqual(stores.images.resolve(one.configDigest).names, []);
});

test('round trip: berth save | berth load, both formats, several images, gzip or zstd, stream or file', async () => {
  for (const format of ['docker-archive', 'oci-archive'] as const) {
    const file = await save(source, ['busybox', 'example.com/team/two:v1'], format);
    const { stores } = freshStores();
    // The docker-archive gzipped, as a stream; the OCI one zstd-compressed, as a file.
    let input: Readable | string = Readable.from([gzipSync(readFileSync(file))]);
    if (format === 'oci-archive' && hasZstd()) {
      input = `${file}.zst`;
      execFileSync('zstd', ['-q', file, '-o', input]);
    }
    const loaded = await loadImages(stores, input);
    assert.deepEqual(loaded.loaded, ['Loaded image: busybox:latest', 'Loaded image: example.com/team/two:v1'], format);
    for (const [name, original] of [['busybox', one], ['example.com/team/two:v1', two]] as const) {
      const image = stores.images.resolve(name);
      assert.equal(image.configDigest, original.configDigest, `${format} ${name}`);
      if (format === 'oci-archive') assert.equal(image.digest, original.digest, 'an oci-archive keeps the manifest');
    }
    // A docker-archive keeps the manifest berth wrote into its OCI layout.
    if (format === 'docker-archive') {
      const index = JSON.parse((await readTar(readFileSync(file))).find((e) => e.header.name === 'index.json')!.body.toString()) as { manifests: { digest: string }[] };
      assert.deepEqual(stores.images.list().map((i) => i.digest).sort(), index.manifests.map((m) => m.digest).sort());
    }
    assert.deepEqual(mountedTree(stores, stores.images.resolve('example.com/team/two:v1')), TWO_TREE);
    assert.deepEqual(mountedTree(stores, stores.images.resolve('busybox')), ['bin dir', 'bin/hello file imported\n']);
  }
});

test('a docker-archive whose layer files are gzip-compressed (as some tools write them) loads, the layers kept compressed', async () => {
  const file = await save(source, ['example.com/team/two:v1'], 'docker-archive');
  const names = new Set(two.layers.map((l) => `blobs/sha256/${hexOf(l.diffId)}`));
  const compressed = await rewrite(file, (name, body) => (names.has(name) ? gzipSync(body) : body));
  const { stores } = freshStores();
  assert.deepEqual((await loadImages(stores, compressed)).loaded, ['Loaded image: example.com/team/two:v1']);
  const image = stores.images.resolve('example.com/team/two:v1');
  assert.equal(image.configDigest, two.configDigest);
  assert.deepEqual(image.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayerGzip]);
  assert.deepEqual(image.layers.map((l) => l.diffId), two.layers.map((l) => l.diffId));
  assert.deepEqual(mountedTree(stores, image), TWO_TREE);
});

test('save by image ID writes no tag; an unknown name fails before writing', async () => {
  const file = await save(source, [hexOf(one.configDigest).slice(0, 12)], 'docker-archive');
  const manifest = JSON.parse((await readTar(readFileSync(file))).find((e) => e.header.name === 'manifest.json')!.body.toString()) as { RepoTags: unknown }[];
  assert.equal(manifest[0]!.RepoTags, null);
  const { stores } = freshStores();
  assert.deepEqual((await loadImages(stores, file)).loaded, [`Loaded image ID: ${one.configDigest}`]);
  const out = createWriteStream(scratch('x.tar'));
  await assert.rejects(saveImages(source, ['nosuchimage'], out), { code: 'ImageNotFound' });
  out.destroy();
});

test('a flipped byte in a layer is refused, naming the entry; the store is unchanged', async () => {
  const { stores } = freshStores();
  await loadImages(stores, await save(source, ['busybox'], 'docker-archive'));
  const dockerFile = await save(source, ['example.com/team/two:v1'], 'docker-archive');
  const layerName = `blobs/sha256/${hexOf(two.layers[0]!.diffId)}`;
  const corrupt = await rewrite(dockerFile, (name, body) => (name === layerName ? flipByte(body, body.indexOf('hello from layer one')) : body));
  await refused(stores, corrupt, 'DigestMismatch', new RegExp(`archive entry "${layerName}".*diffID ${two.layers[0]!.diffId}`));

  const ociFile = await save(source, ['example.com/team/two:v1'], 'oci-archive');
  const blobName = `blobs/sha256/${hexOf(two.layers[1]!.digest)}`;
  await refused(stores, await rewrite(ociFile, (name, body) => (name === blobName ? flipByte(body) : body)),
    'DigestMismatch', new RegExp(`archive entry "${blobName}".*expected ${two.layers[1]!.digest}`));
  const configName = `blobs/sha256/${hexOf(two.configDigest)}`;
  await refused(stores, await rewrite(dockerFile, (name, body) => (name === configName ? flipByte(body) : body)),
    'DigestMismatch', new RegExp(`archive entry "${configName}"`));
  assert.deepEqual(stores.images.list().map((i) => i.names), [['docker.io/library/busybox:latest']]);
});

test('missing manifest.json, missing layer, missing oci-layout, not a tar: clear errors', async () => {
  const { stores } = freshStores();
  const dockerFile = await save(source, ['example.com/team/two:v1'], 'docker-archive');
  const without = (...names: string[]) => rewrite(dockerFile, (name, body) => (names.includes(name) ? null : body));
  await refused(stores, await without('manifest.json', 'index.json', 'repositories'), 'InvalidArchive', /not an image archive: archive entry "manifest.json" \(docker-archive\) is missing/);
  await refused(stores, await without('manifest.json', 'index.json'), 'InvalidArchive', /archive entry "manifest.json" is missing: this looks like a legacy/);
  // Without manifest.json, a Docker 25 archive is still an OCI layout, and loads as one.
  const { stores: other } = freshStores();
  assert.deepEqual((await loadImages(other, await without('manifest.json'))).loaded, ['Loaded image: example.com/team/two:v1']);
  const layerName = `blobs/sha256/${hexOf(two.layers[1]!.diffId)}`;
  await refused(stores, await rewrite(dockerFile, (name, body) => (name === layerName ? null : body)),
    'InvalidArchive', new RegExp(`manifest.json \\[0\\].Layers\\[1\\]: archive entry "${layerName}" is missing`));
  const ociFile = await save(source, ['example.com/team/two:v1'], 'oci-archive');
  await refused(stores, await rewrite(ociFile, (name, body) => (name === 'oci-layout' ? null : body)),
    'InvalidArchive', /archive entry "oci-layout" is missing/);
  const garbage = scratch('garbage.tar');
  writeFileSync(garbage, Buffer.alloc(4096, 'x'));
  await refused(stores, garbage, 'InvalidArchive', /not a valid tar archive/);
  const badJson = await rewrite(dockerFile, (name, body) => (name === 'manifest.json' ? Buffer.from('[{"Config": 3}]') : body));
  await refused(stores, badJson, 'InvalidArchive', /archive entry "manifest.json" \[0\]\.Config/);
  assert.deepEqual(stores.images.list(), []);
});

test('path traversal is refused: an entry named ../x, a symlink or a manifest path leaving the archive', async () => {
  const { stores } = freshStores();
  const dockerFile = await save(source, ['busybox'], 'docker-archive');
  const outside = join(root, 'escaped');
  const file = (name: string, body = 'x') => ({ header: { name, type: 'file' as const, mode: 0o644 }, body: Buffer.from(body) });
  await refused(stores, await rewrite(dockerFile, (_n, b) => b, [file('../escaped')]), 'InvalidArchive', /archive entry "\.\.\/escaped" refused: its path contains "\.\."/);
  await refused(stores, await rewrite(dockerFile, (_n, b) => b, [file('/etc/evil')]), 'InvalidArchive', /archive entry "\/etc\/evil" refused: its path is absolute/);
  const link = { header: { name: 'evil-link', type: 'symlink' as const, linkname: '../../etc/passwd', mode: 0o777 }, body: Buffer.alloc(0) };
  await refused(stores, await rewrite(dockerFile, (_n, b) => b, [link]), 'InvalidArchive', /archive entry "evil-link" \(symbolic link\): "\.\.\/\.\.\/etc\/passwd" points outside the archive/);
  const escaping = await rewrite(dockerFile, (name, body) => {
    if (name !== 'manifest.json') return body;
    const m = JSON.parse(body.toString()) as { Layers: string[] }[];
    m[0]!.Layers[0] = '../../../etc/passwd';
    return Buffer.from(JSON.stringify(m));
  });
  await refused(stores, escaping, 'InvalidArchive', /manifest.json \[0\].Layers\[0\]: "\.\.\/\.\.\/\.\.\/etc\/passwd" points outside the archive/);
  assert.equal(existsSync(outside), false);
  assert.deepEqual(stores.images.list(), []);
});

test('a layer that does not unpack to its diffID is refused after verification, recording nothing', async () => {
  // A consistent OCI layout (every blob matches its descriptor) whose config lies about the diffID.
  const layer = await makeTar([{ name: 'file', body: 'content\n' }]);
  const blob = gzipSync(layer);
  const wrongDiffId = sha256('not the layer');
  const platform = hostPlatform();
  const config = Buffer.from(JSON.stringify({ architecture: platform.architecture, os: platform.os, rootfs: { type: 'layers', diff_ids: [wrongDiffId] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256(config), size: config.length },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: sha256(blob), size: blob.length }],
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: MediaType.ociManifest, digest: sha256(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': 'docker.io/library/liar:latest' } }],
  }));
  const entry = (name: string, body: Buffer) => ({ header: { name, type: 'file' as const, mode: 0o644 }, body });
  const file = scratch('liar.tar');
  writeFileSync(file, await writeTar([
    entry('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
    ...[config, blob, manifest].map((b) => entry(`blobs/sha256/${hexOf(sha256(b))}`, b)),
    entry('index.json', index),
  ]));
  const { stores } = freshStores();
  await refused(stores, file, 'DigestMismatch', new RegExp(`archive entry "blobs/sha256/${hexOf(sha256(blob))}" \\(layer 0 of liar:latest\\)`));
  assert.equal(stores.layers.has(wrongDiffId), false);
  assert.deepEqual(stores.images.list(), []);
});
