// `import`: a root filesystem tarball becomes a one-layer image, as `docker
// import` makes it: the tar (decompressed if it came gzipped) is the layer's
// content, stored gzip-compressed; the config carries the --change edits.
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { invalid } from '../util/errors.js';
import { Hasher, sha256 } from './digest.js';
import { undoneOnFailure, type StoreAdditions } from './rollback.js';
import { detectCompression, decompressor } from './compression.js';
import { MediaType, hostPlatform, type ImageConfig, type RunConfig } from './manifest.js';
import { applyChanges } from './changes.js';
import { parseReference, formatReference } from './reference.js';
import type { ImageStores } from './pull.js';
import type { Image, ImageLayer } from './images.js';
import type { ChainId } from './layers.js';

export interface ImportOptions {
  /** Name to tag the image with (`busybox:latest`). */
  reference?: string;
  changes?: readonly string[];
  message?: string;
  /** Fixed creation time (the built-in image uses the epoch, so its digest never changes). */
  created?: string;
}


/** Peek at the first bytes: gzip or zstd input is decompressed, a plain tar passes through. */
async function decompressed(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Buffer);
  const rest = Readable.from((async function* () {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  })());
  if (head.length > 0 && head.length < 512 && first.done) throw invalid('InvalidTar', 'import: the input is not a tar archive');
  return rest.pipe(decompressor(detectCompression(head)));
}

export async function importRootfs(stores: ImageStores, source: Readable | string, opts: ImportOptions = {}): Promise<Image> {
  const input = typeof source === 'string' ? createReadStream(source) : source;
  // An import refused part-way (a tar that is not one) takes back its blob and layer.
  return undoneOnFailure(stores, async (added) => importInto(stores, input, opts, added));
}

async function importInto(stores: ImageStores, input: Readable, opts: ImportOptions, added: StoreAdditions): Promise<Image> {
  const layer = await storeLayer(stores, await decompressed(input), undefined, added);
  const created = opts.created ?? new Date().toISOString();
  const platform = hostPlatform();
  return storeImage(stores, {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    config: applyChanges<RunConfig>({}, opts.changes ?? []),
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, created_by: 'berth import', ...(opts.message ? { comment: opts.message } : {}) }],
  }, [layer], opts.reference, added);
}

/**
 * A plain layer tar into the stores: its blob (gzip-compressed) in the
 * content store and its unpacked form on top of `parent` in the layer store,
 * each reused if already there.
 */
export async function storeLayer(stores: ImageStores, tarStream: Readable, parent: ChainId | undefined, added?: StoreAdditions): Promise<ImageLayer> {
  const tmp = mkdtempSync(join(stores.content.root, 'ingest', 'layer-'));
  try {
    const blobPath = join(tmp, 'layer.tar.gz');
    const plain = new Hasher();
    const compressed = new Hasher();
    await pipeline(
      tarStream,
      plain,
      // A fixed gzip header (no name, no time) keeps the blob reproducible.
      createGzip({ level: 6 }),
      compressed,
      createWriteStream(blobPath),
    );
    const diffId = plain.digest();
    const digest = compressed.digest();
    const size = compressed.size;
    added?.blob(digest);
    if (!stores.content.has(digest)) await stores.content.ingest(createReadStream(blobPath), { digest, size });
    const mediaType = MediaType.ociLayerGzip;
    added?.layer(stores.layers.chainId(parent, diffId));
    if (!stores.layers.has(stores.layers.chainId(parent, diffId))) {
      await stores.layers.apply(stores.content.path(digest), mediaType, parent, diffId);
    }
    return { digest, mediaType, size, diffId };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** An image config and its layers (already stored) become an OCI manifest and an image record, tagged `reference` if given. */
export function storeImage(stores: ImageStores, config: ImageConfig & { created: string }, layers: ImageLayer[], reference?: string, added?: StoreAdditions): Image {
  const configBytes = Buffer.from(JSON.stringify(config));
  added?.blob(sha256(configBytes));
  const configDigest = stores.content.put(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  added?.blob(sha256(manifestBytes));
  const manifestDigest = stores.content.put(manifestBytes);
  stores.images.addImage({
    digest: manifestDigest,
    mediaType: MediaType.ociManifest,
    configDigest,
    layers,
    platform: { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) },
    created: config.created,
    size: layers.reduce((n, l) => n + l.size, 0) + configBytes.length,
  });
  if (reference) stores.images.tag(formatReference(parseReference(reference)), manifestDigest);
  return stores.images.get(manifestDigest)!;
}
