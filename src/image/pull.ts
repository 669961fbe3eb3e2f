// Pull: a reference becomes a local image. Manifest (and, for an index, the
// one for our platform), config and layer blobs go into the content store,
// downloads in parallel; layers are unpacked in order as soon as each is in.
// Every step is atomic, so a killed pull leaves nothing half-written and the
// next pull reuses what had completed; a pull that fails (a corrupt layer, a
// registry error) takes back every blob and layer it added (rollback.ts).
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { invalid } from '../util/errors.js';
import { checkSize } from './limits.js';
import { undoneOnFailure, type StoreAdditions } from './rollback.js';
import type { ContentStore } from './content-store.js';
import { chainIdsOf, type LayerStore, type ChainId } from './layers.js';
import type { ImageStore, Image, ImageLayer } from './images.js';
import { shortId, sha256, type Digest } from './digest.js';
import { parseReference, formatReference, nameOf, familiarString, type Reference } from './reference.js';
import {
  parseManifest, parseImageConfig, selectPlatform, hostPlatform, configPlatform, formatPlatform,
  MANIFEST_ACCEPT, isNondistributable, type ImageManifest, type Platform,
} from './manifest.js';
import { RegistryClient, CredentialStore } from './registry/index.js';

export interface ImageStores {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
}

/** One line of progress, as Docker prints them: `a3ed95caeb02: Downloading`. */
export interface PullProgress {
  id: string;
  status: 'Pulling fs layer' | 'Waiting' | 'Downloading' | 'Download complete' | 'Extracting' | 'Pull complete' | 'Already exists';
  current?: number;
  total?: number;
}

export interface PullOptions {
  platform?: Platform;
  onProgress?: (p: PullProgress) => void;
  /** Told once the manifest is known: `latest: Pulling from library/busybox`. */
  onStart?: (ref: Reference) => void;
  concurrency?: number;
  client?: RegistryClient;
}

export interface PullResult {
  image: Image;
  ref: Reference;
  digest: Digest;
  /** False when the image was already here under that name. */
  changed: boolean;
}

export async function pullImage(stores: ImageStores, text: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(text);
  const client = opts.client ?? new RegistryClient({ registry: ref.registry, credentials: new CredentialStore() });
  const want = opts.platform ?? hostPlatform();
  const before = tryResolve(stores.images, formatReference(ref));
  // A pull that fails part-way takes back the blobs and layers it added.
  return undoneOnFailure(stores, (added) => pullInto(stores, client, ref, want, before, added, opts));
}

async function pullInto(stores: ImageStores, client: RegistryClient, ref: Reference, want: Platform, before: Image | undefined, added: StoreAdditions, opts: PullOptions): Promise<PullResult> {
  let got = await client.getManifest(ref.repository, ref.digest ?? ref.tag!, [...MANIFEST_ACCEPT]);
  let parsed = parseManifest(got.bytes, got.mediaType);
  if (parsed.kind === 'index') {
    added.blob(got.digest);
    stores.content.put(got.bytes);
    const chosen = selectPlatform(parsed.index, want);
    got = await client.getManifest(ref.repository, chosen.digest as Digest, [...MANIFEST_ACCEPT]);
    parsed = parseManifest(got.bytes, got.mediaType);
    if (parsed.kind !== 'manifest') throw invalid('InvalidManifest', `${familiarString(ref)}: a nested image index is not supported`);
  }
  const manifestDigest = got.digest;
  const manifest: ImageManifest = parsed.manifest;
  opts.onStart?.(ref);

  const fetchBlob = async (digest: Digest, size: number, onData?: (n: number) => void) => {
    if (stores.content.has(digest)) return false;
    added.blob(digest);
    const stream = await client.blob(ref.repository, digest);
    // Count bytes as they pass, without a second reader on the stream.
    const counted = onData
      ? stream.pipe(new Transform({ transform(chunk: Buffer, _enc, cb) { onData(chunk.length); cb(null, chunk); } }))
      : stream;
    stream.on('error', (err) => counted.destroy(err));
    await stores.content.ingest(counted, { digest, size });
    return true;
  };

  // The config is small: held in memory and stored with the manifest at the
  // end, so a pull that fails leaves neither behind. Small is checked before a
  // byte of it is fetched: its descriptor's size, which the bytes must match.
  const configDigest = manifest.config.digest as Digest;
  checkSize('config', `${familiarString(ref)}: the image config ${configDigest}`, manifest.config.size);
  const configBytes = stores.content.has(configDigest) ? stores.content.read(configDigest) : await readVerified(client, ref, configDigest, manifest.config.size);
  const config = parseImageConfig(configBytes);
  const diffIds = config.rootfs.diff_ids as Digest[];
  if (diffIds.length !== manifest.layers.length) {
    throw invalid('InvalidImage', `${familiarString(ref)}: the config lists ${diffIds.length} layers, the manifest ${manifest.layers.length}`);
  }
  const platform = configPlatform(config);
  if (platform.os !== want.os || platform.architecture !== want.architecture) {
    throw invalid('PlatformMismatch', `${familiarString(ref)} is for ${formatPlatform(platform)}, not ${formatPlatform(want)} (use --platform)`);
  }

  // Which layers are already unpacked (shared with another image)?
  const chainIds = chainIdsOf(diffIds);
  let parent: ChainId | undefined;
  const layers = manifest.layers.map((l) => ({ digest: l.digest as Digest, mediaType: l.mediaType, size: l.size }));
  for (const [i, l] of layers.entries()) {
    if (isNondistributable(l.mediaType) && !stores.content.has(l.digest)) {
      throw invalid('ForeignLayer', `${familiarString(ref)}: layer ${l.digest} is non-distributable (a foreign layer) and cannot be pulled`);
    }
    opts.onProgress?.({ id: shortId(l.digest), status: stores.layers.has(chainIds[i]!) ? 'Already exists' : 'Pulling fs layer' });
  }

  // Download in parallel, at most `concurrency` at once; unpack in order.
  const limit = opts.concurrency ?? 3;
  let running = 0;
  const queue: (() => void)[] = [];
  const slot = async () => {
    if (running >= limit) await new Promise<void>((r) => queue.push(r));
    running++;
  };
  const release = () => {
    running--;
    queue.shift()?.();
  };
  const downloads = layers.map(async (l, i) => {
    if (stores.layers.has(chainIds[i]!) && stores.content.has(l.digest)) return;
    await slot();
    try {
      let current = 0;
      const fetched = await fetchBlob(l.digest, l.size, (n) => {
        current += n;
        opts.onProgress?.({ id: shortId(l.digest), status: 'Downloading', current, total: l.size });
      });
      if (fetched) opts.onProgress?.({ id: shortId(l.digest), status: 'Download complete' });
    } finally {
      release();
    }
  });
  // A failed download must not leave the others running unobserved.
  const settled = Promise.allSettled(downloads);
  try {
    parent = undefined;
    for (const [i, l] of layers.entries()) {
      await downloads[i];
      const chainId = chainIds[i]!;
      if (!stores.layers.has(chainId)) {
        opts.onProgress?.({ id: shortId(l.digest), status: 'Extracting' });
        added.layer(chainId);
        await stores.layers.apply(stores.content.path(l.digest), l.mediaType, parent, diffIds[i]!);
        opts.onProgress?.({ id: shortId(l.digest), status: 'Pull complete' });
      }
      parent = chainId;
    }
  } finally {
    await settled;
  }

  added.blob(configDigest);
  stores.content.put(configBytes);
  added.blob(manifestDigest);
  if (stores.content.put(got.bytes) !== manifestDigest) throw invalid('DigestMismatch', `${familiarString(ref)}: the manifest's bytes do not match ${manifestDigest}`);
  const imageLayers: ImageLayer[] = layers.map((l, i) => ({ ...l, diffId: diffIds[i]! }));
  stores.images.addImage({
    digest: manifestDigest,
    mediaType: parsed.mediaType,
    configDigest,
    layers: imageLayers,
    platform,
    ...(config.created ? { created: config.created } : {}),
    size: imageLayers.reduce((n, l) => n + l.size, 0) + manifest.config.size,
    repoDigests: [`${nameOf(ref)}@${manifestDigest}`],
  });
  if (ref.tag && !ref.digest) stores.images.tag(formatReference(ref), manifestDigest);
  return { image: stores.images.get(manifestDigest)!, ref, digest: manifestDigest, changed: before?.digest !== manifestDigest };
}

/** A small blob read into memory, refused unless it has the digest and size its descriptor says. */
async function readVerified(client: RegistryClient, ref: Reference, digest: Digest, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of await client.blob(ref.repository, digest)) {
    total += (chunk as Buffer).length;
    if (total > size) break;
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const actual = sha256(bytes);
  if (total !== size || actual !== digest) {
    throw invalid('DigestMismatch', `${familiarString(ref)}: blob ${digest} did not match its descriptor (got ${total} bytes, digest ${actual})`);
  }
  return bytes;
}

function tryResolve(images: ImageStore, name: string): Image | undefined {
  try {
    return images.resolve(name);
  } catch {
    return undefined;
  }
}

/** Push: every blob the registry lacks (mounted from another repository when it can), then the manifest. */
export interface PushProgress {
  id: string;
  status: 'Preparing' | 'Pushing' | 'Pushed' | 'Layer already exists' | 'Mounted';
  current?: number;
  total?: number;
}

export async function pushImage(stores: ImageStores, localName: string, target: string | undefined, opts: { onProgress?: (p: PushProgress) => void; client?: RegistryClient; chunkSize?: number } = {}): Promise<{ ref: Reference; digest: Digest; size: number }> {
  const image = stores.images.resolve(localName);
  const ref = parseReference(target ?? localName);
  if (!ref.tag && !ref.digest) throw invalid('InvalidReference', `push ${target ?? localName}: needs a tag`);
  const client = opts.client ?? new RegistryClient({ registry: ref.registry, credentials: new CredentialStore() });
  // Other repositories on the same registry that hold this image: blobs can be mounted from them.
  const siblings = image.names.concat(image.repoDigests).map((n) => parseReference(n))
    .filter((r) => r.registry === ref.registry && r.repository !== ref.repository).map((r) => r.repository);

  const blobs = [...image.layers.map((l) => ({ digest: l.digest, size: l.size })), { digest: image.configDigest, size: stores.content.size(image.configDigest) }];
  for (const b of blobs) opts.onProgress?.({ id: shortId(b.digest), status: 'Preparing' });
  for (const b of blobs) {
    const id = shortId(b.digest);
    if (!stores.content.has(b.digest)) throw invalid('MissingBlob', `push ${familiarString(ref)}: blob ${b.digest} is not in the local store`);
    if (await client.hasBlob(ref.repository, b.digest)) {
      opts.onProgress?.({ id, status: 'Layer already exists' });
      continue;
    }
    let mounted = false;
    for (const from of siblings) {
      if (await client.mountBlob(ref.repository, b.digest, from)) {
        mounted = true;
        break;
      }
    }
    if (mounted) {
      opts.onProgress?.({ id, status: 'Mounted' });
      continue;
    }
    opts.onProgress?.({ id, status: 'Pushing', current: 0, total: b.size });
    await client.uploadBlob(ref.repository, b.digest, b.size, () => createReadStream(stores.content.path(b.digest)), opts.chunkSize ? { chunkSize: opts.chunkSize } : {});
    opts.onProgress?.({ id, status: 'Pushed' });
  }
  const bytes = stores.content.read(image.digest);
  const digest = await client.putManifest(ref.repository, ref.digest ?? ref.tag!, bytes, image.mediaType);
  stores.images.addImage({ ...image, repoDigests: [...image.repoDigests, `${nameOf(ref)}@${digest}`] });
  return { ref, digest, size: bytes.length };
}
