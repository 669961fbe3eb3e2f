// Hostile images and archives through the CLI, as an attacker hands them to a
// user: a layer whose tar header claims more data than the stream holds (in a
// docker-archive, an OCI archive, an import and a pull from Debian's
// docker-registry on loopback), manifests and configs over the size bound,
// and text carrying terminal escape sequences. Each is refused with status
// 125 and a clear message, and leaves every file under the root exactly as it
// was: what the command added before it failed is taken back, what was there
// before (the base image's blobs and layer, which the hostile images share)
// stays.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { berth, berthAsync, tempRoot, leftovers, cleanup } from '../support.js';
import { makeTar, type TarEntry } from '../layer-support.js';
import {
  ensureRegistryTools, startRegistry, startProxy, sha256, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP,
  type RunningRegistry, type Proxy,
} from '../registry-support.js';
import { RegistryClient } from '../../src/image/registry/index.js';
import { hostPlatform } from '../../src/image/manifest.js';

const root = tempRoot('hostile');
const dataRoot = join(root, 'data');
const runRoot = join(root, 'run');
const b = (...args: string[]) => berth(['--root', dataRoot, '--run-root', runRoot, ...args]);
const bAsync = (...args: string[]) => berthAsync(['--root', dataRoot, '--run-root', runRoot, ...args]);
let registry: RunningRegistry;
const proxies: Proxy[] = [];
let n = 0;
const scratch = (name: string): string => join(root, `${++n}-${name}`);

/** The base image's plain layer tar, as imported: its sha256 is the base layer's diffID. */
let baseTar: Buffer;
/** The base image's layer blob as the store keeps it (gzip), pushed to the registry as t/base:v1. */
let baseBlob: Buffer;

const MiB = 1 << 20;
const platform = hostPlatform();

before(async () => {
  ensureRegistryTools();
  registry = await startRegistry(join(root, 'registry'));
  const rootfs = scratch('rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'base.txt'), 'the base image\n');
  const tarball = scratch('base.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', tarball, '.']);
  baseTar = readFileSync(tarball);
  let r = b('import', '--epoch', tarball, 'base:latest');
  assert.equal(r.status, 0, r.stderr);
  const inspect = JSON.parse(b('image', 'inspect', 'base').stdout)[0];
  const manifest = JSON.parse(readFileSync(join(dataRoot, 'blobs', 'sha256', inspect.Descriptor.digest.slice(7))).toString());
  baseBlob = readFileSync(join(dataRoot, 'blobs', 'sha256', manifest.layers[0].digest.slice(7)));
  assert.equal(b('tag', 'base:latest', `${registry.host}/t/base:v1`).status, 0);
  r = b('push', `${registry.host}/t/base:v1`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(b('rmi', `${registry.host}/t/base:v1`).status, 0);
});

after(async () => {
  for (const p of proxies) await p.close();
  await registry?.stop();
  cleanup(root);
});

afterEach(() => assert.deepEqual(leftovers(root), [], 'the test left something on the host'));

/** Every file, directory and link under the root, with sizes and link targets. */
function storeListing(): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dataRoot, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(dataRoot, path));
      if (st.isDirectory()) {
        out.push(`${path}/`);
        walk(path);
      } else if (st.isSymbolicLink()) out.push(`${path} -> ${readlinkSync(join(dataRoot, path))}`);
      else out.push(`${path} ${st.size}`);
    }
  };
  walk('');
  return out;
}

/** Run the command; it must fail with 125 and a message matching `message`, and leave the store exactly as it was. */
async function refusedLeavingNothing(args: string[], message: RegExp): Promise<string> {
  const beforeListing = storeListing();
  const r = await bAsync(...args);
  assert.equal(r.status, 125, `status ${r.status}; stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
  assert.deepEqual(storeListing(), beforeListing, 'the store changed');
  return r.stderr;
}

/**
 * A tar whose file claims 20000 bytes, cut off `kept` bytes into them: the
 * stream ends inside the entry. Each test cuts elsewhere, so that no test
 * finds another's blob in the store.
 */
async function truncatedTar(kept: number): Promise<Buffer> {
  const whole = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/big.bin', body: Buffer.alloc(20000, 'x') }]);
  return whole.subarray(0, 512 + 512 + kept);
}

function imageConfig(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os, created: '2024-01-02T03:04:05Z',
    config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds }, ...extra,
  }));
}

const hex = (d: string): string => d.slice(7);

async function writeArchive(entries: TarEntry[]): Promise<string> {
  const file = scratch('archive.tar');
  writeFileSync(file, await makeTar(entries));
  return file;
}

/** A docker-archive (manifest.json, blobs/sha256/…) of one image with these uncompressed layers and config. */
async function dockerArchive(layers: Buffer[], config: Buffer = imageConfig(layers.map((l) => sha256(l)))): Promise<string> {
  const names = layers.map((l) => `blobs/sha256/${hex(sha256(l))}`);
  return writeArchive([
    ...layers.map((l, i) => ({ name: names[i]!, body: l })),
    { name: `blobs/sha256/${hex(sha256(config))}`, body: config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${hex(sha256(config))}`, RepoTags: ['hostile:latest'], Layers: names }]) },
  ]);
}

/** An OCI archive (oci-layout, index.json, blobs) of one image with these gzip layers of the given plain tars. */
async function ociArchive(tars: Buffer[], opts: { manifestPadding?: number } = {}): Promise<string> {
  const blobs = tars.map((t) => gzipSync(t));
  const config = imageConfig(tars.map((t) => sha256(t)));
  const manifestJson = JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: blobs.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: sha256(l), size: l.length })),
  });
  const manifest = Buffer.from(opts.manifestPadding ? `${manifestJson}${' '.repeat(opts.manifestPadding)}` : manifestJson);
  return writeArchive([
    { name: 'oci-layout', body: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    ...[...blobs, config, manifest].map((body) => ({ name: `blobs/sha256/${hex(sha256(body))}`, body })),
    {
      name: 'index.json', body: JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': 'docker.io/library/hostile:oci' } }],
      }),
    },
  ]);
}

/** Push an image of these blobs (gzip layers, a config) as t/<repo>:v1; returns the reference. */
async function pushImage(repo: string, layers: Buffer[], config: Buffer): Promise<string> {
  const client = new RegistryClient({ registry: registry.host });
  for (const blob of [...layers, config]) await client.uploadBlob(`t/${repo}`, sha256(blob), blob.length, () => Readable.from([blob]));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: sha256(l), size: l.length })),
  }));
  await client.putManifest(`t/${repo}`, 'v1', manifest, OCI_MANIFEST);
  return `t/${repo}:v1`;
}

const TRUNCATED = /layer sha256:[a-f0-9]{64}.*not a valid (gzip-compressed )?tar: unexpected end of data/i;

test('load of a docker-archive whose layer ends inside an entry: 125, and the store is as it was', async () => {
  const archive = await dockerArchive([baseTar, await truncatedTar(1000)]);
  await refusedLeavingNothing(['load', '-i', archive], TRUNCATED);
});

test('load of an OCI archive whose layer ends inside an entry: 125, and the store is as it was', async () => {
  const archive = await ociArchive([baseTar, await truncatedTar(2000)]);
  await refusedLeavingNothing(['load', '-i', archive], TRUNCATED);
});

test('import of a tar that ends inside an entry: 125, and the store is as it was', async () => {
  const file = scratch('truncated.tar');
  writeFileSync(file, await truncatedTar(3000));
  await refusedLeavingNothing(['import', file, 'truncated:latest'], TRUNCATED);
  writeFileSync(file, gzipSync(await truncatedTar(4000)));
  await refusedLeavingNothing(['import', file, 'truncated:latest'], TRUNCATED);
});

test('pull of an image whose second layer ends inside an entry: 125, and the store is as it was (the shared base stays)', async () => {
  const truncated = await truncatedTar(5000);
  const ref = await pushImage('truncated', [baseBlob, gzipSync(truncated)], imageConfig([sha256(baseTar), sha256(truncated)]));
  await refusedLeavingNothing(['pull', `${registry.host}/${ref}`], TRUNCATED);
  // Pulled into a root without the base, everything it added goes again too.
  const empty = join(root, 'empty-root');
  const r = await berthAsync(['--root', empty, '--run-root', runRoot, 'pull', `${registry.host}/${ref}`]);
  assert.equal(r.status, 125, r.stderr);
  assert.deepEqual(readdirSync(join(empty, 'blobs', 'sha256')), []);
  assert.deepEqual(readdirSync(join(empty, 'layers')).sort(), ['l']);
  assert.deepEqual(readdirSync(join(empty, 'layers', 'l')), []);
  assert.deepEqual(readdirSync(join(empty, 'ingest')), []);
});

test('an image config over 4 MiB from a registry is refused before a byte of it is fetched', async () => {
  const config = imageConfig([sha256(baseTar)], { padding: 'x'.repeat(4 * MiB) });
  const ref = await pushImage('bigconfig', [baseBlob], config);
  const recorder = await startProxy(registry.url);
  proxies.push(recorder);
  await refusedLeavingNothing(['pull', `${recorder.host}/${ref}`], new RegExp(`image config ${sha256(config)} is ${config.length} bytes, more than the 4 MiB berth accepts`));
  assert.ok(!recorder.requests.some((line) => line.includes(`/blobs/${sha256(config)}`)), `the config was fetched: ${recorder.requests.join(', ')}`);
});

test('a manifest over 4 MiB from a registry is refused', async () => {
  const padded = await startProxy(registry.url, { padManifests: 4 * MiB });
  proxies.push(padded);
  await refusedLeavingNothing(['pull', `${padded.host}/t/base:v1`], /manifest .*t\/base:v1 from registry .* is \d+ bytes, more than the 4 MiB berth accepts for a manifest or index/);
});

test('an archive\'s config or manifest over 4 MiB is refused before it is read', async () => {
  const bigConfig = imageConfig([sha256(baseTar)], { padding: 'x'.repeat(4 * MiB) });
  await refusedLeavingNothing(['load', '-i', await dockerArchive([baseTar], bigConfig)],
    new RegExp(`archive entry "blobs/sha256/${hex(sha256(bigConfig))}" is ${bigConfig.length} bytes, more than the 4 MiB berth accepts for an image config`));
  await refusedLeavingNothing(['load', '-i', await ociArchive([baseTar], { manifestPadding: 4 * MiB })],
    /archive entry "blobs\/sha256\/[a-f0-9]{64}" is \d+ bytes, more than the 4 MiB berth accepts for a manifest or index/);
});

const ESCAPES = '\x1b]0;pwned\x07\x1b[2J\r';

test('a registry\'s error message carrying escape sequences is shown escaped', async () => {
  const liar = await startProxy(registry.url, { failManifests: { status: 403, body: JSON.stringify({ errors: [{ code: 'DENIED', message: `no${ESCAPES}fake line\nberth: all good` }] }) } });
  proxies.push(liar);
  const stderr = await refusedLeavingNothing(['pull', `${liar.host}/t/base:v1`], /DENIED: no\\x1b\]0;pwned\\x07\\x1b\[2J\\rfake line\\nberth: all good/);
  assert.doesNotMatch(stderr, /[\x00-\x09\x0b-\x1f\x7f]/, 'a control character reached the terminal');
  assert.equal(stderr.split('\n').filter(Boolean).length, 1, stderr);
});

test('archive entry names carrying escape sequences are shown escaped', async () => {
  // manifest.json names a layer the archive does not hold.
  const config = imageConfig([sha256(baseTar)]);
  const missingLayer = await writeArchive([
    { name: `blobs/sha256/${hex(sha256(config))}`, body: config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${hex(sha256(config))}`, RepoTags: null, Layers: [`layer${ESCAPES}.tar`] }]) },
  ]);
  let stderr = await refusedLeavingNothing(['load', '-i', missingLayer], /archive entry "layer\\x1b\]0;pwned\\x07\\x1b\[2J\\r\.tar" is missing/);
  assert.doesNotMatch(stderr, /[\x00-\x09\x0b-\x1f\x7f]/);
  // An entry whose own name leaves the archive.
  stderr = await refusedLeavingNothing(['load', '-i', await writeArchive([{ name: `../${ESCAPES}`, body: 'x' }])], /archive entry "\.\.\/\\x1b\]0;pwned\\x07\\x1b\[2J\\r" refused/);
  assert.doesNotMatch(stderr, /[\x00-\x09\x0b-\x1f\x7f]/);
});
