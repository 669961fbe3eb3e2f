// Pull and unpack a multi-layer image of more than 200 MB (compressed too:
// the content is mostly random bytes) from Debian's docker-registry on
// loopback, with berth and with `podman pull` (and skopeo + umoci when both
// are installed), in the same run; print the medians and their ratio.
//
//   node --import tsx bench/pull.ts [runs]          (default 3 runs each)
//
// The image is generated with berth's own stores and pushed with
// Engine.push; generation and push are not timed. berth is timed in-process
// (new Engine({ root }) + Engine.pull), from the call to its return (the layer
// store syncs each layer before it returns); podman and skopeo/umoci as
// processes. Every run starts from a fresh, empty store. Each tool pulls once
// untimed first, so that all of them find the registry's files in the page
// cache. berth's pull also reports, from its progress events, when its
// downloads were done and how long each layer took to unpack.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { Engine } from '../src/engine/engine.js';
import { MediaType, hostPlatform } from '../src/image/manifest.js';
import { Hasher } from '../src/image/digest.js';
import type { ImageLayer } from '../src/image/images.js';
import type { PullProgress } from '../src/image/pull.js';
import { ensureRegistryTools, startRegistry, type RunningRegistry } from '../test/registry-support.js';
import { have, median, removeTree, run } from './engines.js';

const runs = Number(process.argv[2] ?? 3);
const MB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'berth-bench-pull-'));

// ---- the image ---------------------------------------------------------------

interface FileSpec {
  name: string;
  data?: Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

/** Mostly incompressible: random bytes, some of them as text (base64), as binaries and data files are. */
function randomFile(name: string, size: number): FileSpec {
  return { name, data: randomBytes(size) };
}

function layerSpecs(): { label: string; files: FileSpec[] }[] {
  const big = (dir: string, sizes: number[]) => sizes.map((s, i) => randomFile(`${dir}/blob-${i}.bin`, s));
  const small: FileSpec[] = [];
  for (let d = 0; d < 100; d++) {
    small.push({ name: `usr/share/many/d${d}`, type: 'directory' });
    for (let f = 0; f < 50; f++) {
      const size = 256 + Math.floor(Math.random() * 7936); // 256 B – 8 KiB, about 4 KiB on average
      const data = f % 4 === 0 ? Buffer.from(randomBytes(Math.ceil(size * 3 / 4)).toString('base64').slice(0, size)) : randomBytes(size);
      small.push({ name: `usr/share/many/d${d}/f${f}.dat`, data });
    }
  }
  return [
    { label: '90 MB in 3 files', files: [{ name: 'opt/a', type: 'directory' }, ...big('opt/a', [48 * MB, 30 * MB, 12 * MB])] },
    { label: '60 MB in 20 files', files: [{ name: 'opt/b', type: 'directory' }, ...big('opt/b', Array.from({ length: 20 }, () => 3 * MB))] },
    { label: '40 MB in 1 file', files: [{ name: 'opt/c', type: 'directory' }, ...big('opt/c', [40 * MB])] },
    { label: '5000 small files', files: [{ name: 'usr/share/many', type: 'directory' }, ...small] },
    {
      label: 'config files',
      files: [
        { name: 'etc', type: 'directory' },
        { name: 'etc/bench.conf', data: Buffer.from('bench = true\n'.repeat(50)) },
        { name: 'etc/hostname', data: Buffer.from('bench\n') },
        { name: 'etc/current', type: 'symlink', linkname: 'bench.conf' },
        { name: 'opt/a/.wh.blob-2.bin', data: Buffer.alloc(0) },
      ],
    },
  ];
}


/** Build the layers as gzip tar blobs into a berth store, record the image, push it. */
async function makeImage(ref: string): Promise<{ compressed: number; content: number; layers: { label: string; size: number }[] }> {
  const engine = new Engine({ root: join(work, 'source-root'), runRoot: join(work, 'source-run') });
  const { content, images } = engine.stores;
  const layers: ImageLayer[] = [];
  const labels: { label: string; size: number }[] = [];
  let contentBytes = 0;
  for (const spec of layerSpecs()) {
    const pack = tar.pack();
    const mtime = new Date('2024-01-01T00:00:00Z');
    for (const f of spec.files) {
      if (f.type === 'directory') pack.entry({ name: f.name, type: 'directory', mode: 0o755, mtime });
      else if (f.type === 'symlink') pack.entry({ name: f.name, type: 'symlink', linkname: f.linkname!, mode: 0o777, mtime });
      else {
        pack.entry({ name: f.name, mode: 0o644, mtime }, f.data!);
        contentBytes += f.data!.length;
      }
    }
    pack.finalize();
    const file = join(work, 'layer.tar.gz');
    const plain = new Hasher();
    const compressed = new Hasher();
    await pipeline(pack, plain, createGzip({ level: 6 }), compressed, createWriteStream(file));
    const digest = compressed.digest();
    const size = compressed.size;
    await content.ingest(createReadStream(file), { digest, size });
    rmSync(file);
    layers.push({ digest, mediaType: MediaType.ociLayerGzip, size, diffId: plain.digest() });
    labels.push({ label: spec.label, size });
  }
  const platform = hostPlatform();
  const created = new Date().toISOString();
  const configBytes = Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os, created,
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: labels.map((l) => ({ created, created_by: `berth bench: ${l.label}` })),
  }));
  const configDigest = content.put(configBytes);
  const manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestDigest = content.put(Buffer.from(JSON.stringify(manifest)));
  const compressed = layers.reduce((n, l) => n + l.size, 0);
  images.addImage({ digest: manifestDigest, mediaType: MediaType.ociManifest, configDigest, layers, platform, created, size: compressed + configBytes.length });
  images.tag(ref, manifestDigest);
  await engine.push(ref, undefined);
  rmSync(engine.root, { recursive: true, force: true });
  return { compressed, content: contentBytes, layers: labels };
}

// ---- the pullers -----------------------------------------------------------------

interface BerthRun {
  seconds: number;
  /** When the last download completed, from the start. */
  downloadsDone: number;
  /** Per layer, in order: when its download completed, when its unpacking started. */
  downloaded: Map<string, number>;
  extracting: Map<string, number>;
  /** Seconds spent unpacking each layer (Extracting → Pull complete). */
  unpack: number[];
  unpackedBytes: number;
}

async function berthPull(ref: string): Promise<BerthRun> {
  const root = mkdtempSync(join(work, 'berth-'));
  try {
    const t0 = performance.now();
    const at = () => (performance.now() - t0) / 1000;
    let downloadsDone = 0;
    const downloaded = new Map<string, number>();
    const extracting = new Map<string, number>();
    const unpack: number[] = [];
    const onProgress = (p: PullProgress) => {
      if (p.status === 'Download complete') downloaded.set(p.id, downloadsDone = at());
      else if (p.status === 'Extracting') extracting.set(p.id, at());
      else if (p.status === 'Pull complete') unpack.push(at() - extracting.get(p.id)!);
    };
    const engine = new Engine({ root, runRoot: join(root, 'run') });
    await engine.pull(ref, { onProgress });
    const seconds = at();
    engine.db.close();
    const unpackedBytes = Number(spawnSync('du', ['-sb', join(root, 'layers')], { encoding: 'utf8' }).stdout.split('\t')[0]);
    return { seconds, downloadsDone, downloaded, extracting, unpack, unpackedBytes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

let podmanDriver: 'overlay' | 'vfs' = 'overlay';

function podmanPull(ref: string): number {
  const dir = mkdtempSync(join(work, 'podman-'));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const args = (driver: string) => [
    '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', driver,
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', join(dir, 'libpod-tmp'),
    'pull', '-q', '--tls-verify=false', ref,
  ];
  // Its downloads go to TMPDIR (default /var/tmp): into the temp dir too.
  const env = { ...process.env, TMPDIR: tmp };
  try {
    const t0 = performance.now();
    run('podman', args(podmanDriver), env);
    return (performance.now() - t0) / 1000;
  } finally {
    removeTree(dir);
  }
}

function skopeoUmoci(ref: string): number {
  const dir = mkdtempSync(join(work, 'umoci-'));
  try {
    const t0 = performance.now();
    run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'layout')}:latest`], { ...process.env, TMPDIR: dir });
    run('umoci', ['unpack', '--image', `${join(dir, 'layout')}:latest`, join(dir, 'bundle')]);
    return (performance.now() - t0) / 1000;
  } finally {
    removeTree(dir);
  }
}

/**
 * Before each timed run: write back what earlier runs (and the removal of
 * their stores) left dirty, so that no run pays for the one before it.
 */
function settle(): void {
  spawnSync('sync');
}

// ---- the run ---------------------------------------------------------------------

// podman keeps a blob-info cache in /var/lib/containers/cache whatever --root says: removed after if it made it.
const podmanCache = '/var/lib/containers/cache';
const podmanCacheExisted = existsSync(podmanCache);
let registry: RunningRegistry | undefined;
try {
  ensureRegistryTools();
  registry = await startRegistry(join(work, 'registry'));
  const ref = `${registry.host}/bench/big:latest`;
  process.stdout.write('generating and pushing the image (not timed)… ');
  const g0 = performance.now();
  const image = await makeImage(ref);
  console.log(`${((performance.now() - g0) / 1000).toFixed(1)} s`);

  const withPodman = have('podman');
  const withUmoci = have('skopeo') && have('umoci');
  // Untimed first pulls: the registry's files into the page cache, and podman's storage driver chosen.
  const first = await berthPull(ref);
  if (withPodman) {
    try {
      podmanPull(ref);
    } catch (err) {
      console.log(`podman with the overlay driver failed, using vfs: ${(err as Error).message.split('\n').slice(-3).join(' ')}`);
      podmanDriver = 'vfs';
      podmanPull(ref);
    }
  }
  if (withUmoci) skopeoUmoci(ref);

  const berth: BerthRun[] = [];
  const podman: number[] = [];
  const umoci: number[] = [];
  for (let i = 0; i < runs; i++) {
    settle();
    berth.push(await berthPull(ref));
    if (withPodman) {
      settle();
      podman.push(podmanPull(ref));
    }
    if (withUmoci) {
      settle();
      umoci.push(skopeoUmoci(ref));
    }
  }

  const mb = (n: number) => (n / MB).toFixed(1);
  const b = median(berth.map((r) => r.seconds));
  console.log(`image: ${ref}, ${image.layers.length} gzip layers (${image.layers.map((l) => `${l.label}: ${mb(l.size)} MB`).join('; ')})`);
  console.log(`  compressed ${mb(image.compressed)} MB, file content ${mb(image.content)} MB, unpacked by berth (du -sb layers/) ${mb(first.unpackedBytes)} MB`);
  console.log(`runs: ${runs} each, fresh store every run; medians`);
  console.log(`berth (in-process Engine.pull):   ${b.toFixed(2)} s  ${(image.compressed / MB / b).toFixed(0)} MB/s  [${berth.map((r) => r.seconds.toFixed(2)).join(', ')}]`);
  const mid = berth.find((r) => r.seconds === median(berth.map((x) => x.seconds))) ?? berth[0]!;
  console.log(`  median run: downloads (3 at a time) all done at ${mid.downloadsDone.toFixed(2)} s; layers unpacked one after another, ${mid.unpack.reduce((a, c) => a + c, 0).toFixed(2)} s in all:`);
  [...mid.extracting.keys()].forEach((id, i) => {
    console.log(`    ${image.layers[i]!.label.padEnd(18)} downloaded at ${mid.downloaded.get(id)!.toFixed(2)} s, unpacked ${mid.extracting.get(id)!.toFixed(2)} → ${(mid.extracting.get(id)! + mid.unpack[i]!).toFixed(2)} s`);
  });
  if (withPodman) {
    const p = median(podman);
    console.log(`podman pull (${podmanDriver} driver):       ${p.toFixed(2)} s  ${(image.compressed / MB / p).toFixed(0)} MB/s  [${podman.map((s) => s.toFixed(2)).join(', ')}]`);
    console.log(`ratio berth/podman:               ${(b / p).toFixed(2)}  (goal: < 1)`);
  } else {
    console.log('podman: not installed (apt-get install podman)');
  }
  if (withUmoci) {
    const u = median(umoci);
    console.log(`skopeo copy + umoci unpack:       ${u.toFixed(2)} s  ${(image.compressed / MB / u).toFixed(0)} MB/s  [${umoci.map((s) => s.toFixed(2)).join(', ')}]`);
    console.log(`ratio berth/(skopeo+umoci):       ${(b / u).toFixed(2)}`);
  } else {
    console.log('skopeo + umoci: not installed (apt-get install skopeo umoci)');
  }
} finally {
  await registry?.stop();
  removeTree(work);
  if (!podmanCacheExisted && existsSync(podmanCache)) {
    rmSync(podmanCache, { recursive: true, force: true });
    try {
      rmdirSync('/var/lib/containers');
    } catch { /* not empty, or not there */ }
  }
}
