// `import`: a root filesystem tarball becomes a one-layer image, as `docker
// import` makes it: the tar (decompressed if it came gzipped) is the layer's
// content, stored gzip-compressed; the config carries the --change edits.
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { invalid } from '../util/errors.js';
import { Hasher } from './digest.js';
import { detectCompression, decompressor } from './compression.js';
import { MediaType, hostPlatform } from './manifest.js';
import { applyChanges, type ConfigChanges } from './changes.js';
import { parseReference, formatReference } from './reference.js';
import type { ImageStores } from './pull.js';
import type { Image } from './images.js';

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
  const tmp = mkdtempSync(join(stores.content.root, 'ingest', 'import-'));
  try {
    const blobPath = join(tmp, 'layer.tar.gz');
    const tarStream = await decompressed(input);
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
    const blobDigest = compressed.digest();
    const blobSize = compressed.size;
    if (!stores.content.has(blobDigest)) await stores.content.ingest(createReadStream(blobPath), { digest: blobDigest, size: blobSize });
    const layerMediaType = MediaType.ociLayerGzip;
    if (!stores.layers.has(stores.layers.chainId(undefined, diffId))) {
      await stores.layers.apply(stores.content.path(blobDigest), layerMediaType, undefined, diffId);
    }

    const created = opts.created ?? new Date().toISOString();
    const platform = hostPlatform();
    const runConfig = applyChanges<ConfigChanges>({}, opts.changes ?? []);
    const config = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      config: runConfig,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, created_by: 'berth import', ...(opts.message ? { comment: opts.message } : {}) }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = stores.content.put(configBytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
      layers: [{ mediaType: layerMediaType, digest: blobDigest, size: blobSize }],
    };
    const manifestDigest = stores.content.put(Buffer.from(JSON.stringify(manifest)));
    stores.images.addImage({
      digest: manifestDigest,
      mediaType: MediaType.ociManifest,
      configDigest,
      layers: [{ digest: blobDigest, mediaType: layerMediaType, size: blobSize, diffId: diffId }],
      platform,
      created,
      size: blobSize + configBytes.length,
    });
    if (opts.reference) stores.images.tag(formatReference(parseReference(opts.reference)), manifestDigest);
    return stores.images.get(manifestDigest)!;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

