// `save` and `load`: images to and from one tar file, as `docker save` and
// `docker load` do, in either of the two formats the tools share:
//
// docker-archive (what `docker save` writes; Docker 25+ layout):
//   blobs/sha256/<config hex>     the config, byte for byte
//   blobs/sha256/<diffID hex>     each layer as an UNCOMPRESSED tar (so its digest is its diffID)
//   blobs/sha256/<manifest hex>   an OCI manifest of those (layers application/vnd.oci.image.layer.v1.tar)
//   index.json, oci-layout        so that the archive is an OCI image layout too
//   manifest.json                 [{ Config, RepoTags, Layers }] with paths into blobs/
//   repositories                  { "busybox": { "latest": "<top layer hex>" } } (legacy readers)
// berth's content store holds layers compressed as pulled: they are
// decompressed (gzip, zstd) into a temp file under <root>/ingest/ one at a
// time, hashed on the way (the result must be the diffID, or the save fails),
// and streamed into the archive, whose tar headers need each size first.
//
// oci-archive: a tar of an OCI image layout (oci-layout, index.json,
// blobs/sha256/*), blobs exactly as stored (compressed layers, the stored
// manifest). index.json has one descriptor per tag, annotated as Docker and
// containerd do: io.containerd.image.name = the full reference,
// org.opencontainers.image.ref.name = the tag; an untagged image has none.
//
// load reads either, plain or gzip/zstd-compressed. A tar is read in entry
// order and manifest.json usually comes last, so every regular file is first
// spooled to a temp dir under <root>/ingest/ (each under a number, never
// under its archive name), hashed as it is written; symlinks and hard links
// become aliases resolved inside the archive's own namespace. Entry names
// that are absolute or contain ".." are refused. Then, before anything is
// stored, everything is checked: manifest.json / index.json and oci-layout
// parse, every referenced entry is there, every blob hashes to the digest
// that names it (an OCI descriptor's digest and size; a docker-archive
// layer's diffID from the config; a config named <hex>.json or
// blobs/sha256/<hex> its hex), each config's diff_ids match its layers. Only
// then are the blobs ingested into the content store (which verifies them
// again), layers applied (LayerStore.apply checks the diffID of a compressed
// layer; one whose chain is already unpacked is hashed here instead), and
// finally the images recorded and tagged. A failure at any step leaves the
// stores as they were: the blobs and layers this load added go again
// (rollback.ts), and the spool dir is removed.
//
// How a docker-archive is stored: its layers are uncompressed tars and stay
// so — the blob is the tar (digest = diffID, media type
// application/vnd.oci.image.layer.v1.tar), no recompression on load. The
// manifest is the archive's own OCI manifest when index.json has one that
// matches (Docker 25+, and berth's own saves), so the image keeps the manifest
// digest Docker gave it; otherwise an OCI manifest is made, as Docker 25
// writes it. A compressed layer file (some tools write them) is kept as it is,
// with the gzip or zstd layer media type.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { z } from 'zod';
import { BerthError, errnoCode, invalid, notFound, systemError } from '../util/errors.js';
import { debug } from '../util/debug.js';
import { escapeControls } from '../util/terminal-text.js';
import { Hasher, hexOf, sha256, type Digest } from './digest.js';
import {
  MediaType, CONFIG_MEDIA_TYPES, configPlatform, hostPlatform, isLayerMediaType, layerCompression,
  parseImageConfig, parseManifest, selectPlatform, type Descriptor, type ImageConfig, type ImageManifest,
} from './manifest.js';
import type { ChainId } from './layers.js';
import { detectCompression, decompressor, type Compression } from './compression.js';
import { familiarString, formatReference, nameOf, parseReference, type Reference } from './reference.js';
import { checkSize, type MetadataKind } from './limits.js';
import { undoneOnFailure, type StoreAdditions } from './rollback.js';
import type { Image, ImageLayer, ImageStore } from './images.js';
import type { ImageStores } from './pull.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface SaveOptions {
  /** Default docker-archive, as `docker save`. */
  format?: ArchiveFormat;
}

export interface SaveResult {
  /** What was written: one entry per image, with the tags it carries in the archive. */
  images: { digest: Digest; configDigest: Digest; tags: string[] }[];
}

export interface LoadResult {
  /** One line per tag (`Loaded image: busybox:latest`), or per untagged image (`Loaded image ID: sha256:…`), as `docker load` prints. */
  loaded: string[];
}

/** Annotations of an OCI layout's index.json (image-spec and containerd). */
const REF_NAME = 'org.opencontainers.image.ref.name';
const IMAGE_NAME = 'io.containerd.image.name';
const BLOBS = 'blobs/sha256';
const EPOCH = new Date(0);
/** Symlinks followed inside an archive before giving up (a loop). */
const MAX_LINKS = 40;

const blobPath = (d: Digest): string => `${BLOBS}/${hexOf(d)}`;

// ---------------------------------------------------------------- save

interface SaveItem {
  image: Image;
  /** Full references (`docker.io/library/busybox:latest`) to write, in the order asked. */
  tags: Reference[];
}

/**
 * Write `names` (tags, repository names — every tag of it, as Docker —, IDs or
 * ID prefixes, `name@digest`) as one archive to `out`, which is ended when the
 * archive is complete. Unknown names fail before anything is written.
 */
export async function saveImages(stores: ImageStores, names: readonly string[], out: Writable, opts: SaveOptions = {}): Promise<SaveResult> {
  const format = opts.format ?? 'docker-archive';
  if (names.length === 0) throw invalid('InvalidArgument', 'save: no image named');
  const items = selectImages(stores.images, names);
  for (const { image } of items) {
    for (const d of [image.digest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
      if (!stores.content.has(d)) throw notFound('BlobNotFound', `save ${describe(image)}: blob ${d} is not in the content store`);
    }
  }
  const writer = new TarWriter(out);
  const tmp = mkdtempSync(join(stores.content.root, 'ingest', 'save-'));
  try {
    if (format === 'docker-archive') await writeDockerArchive(stores, items, writer, tmp);
    else await writeOciArchive(stores, items, writer);
    await writer.finish();
  } catch (err) {
    writer.abort(err);
    throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { images: items.map(({ image, tags }) => ({ digest: image.digest, configDigest: image.configDigest, tags: tags.map(formatReference) })) };
}

/** Docker's parseNames: a name without tag or digest means all its tags; an ID saves the image without tags. */
function selectImages(images: ImageStore, names: readonly string[]): SaveItem[] {
  const byDigest = new Map<Digest, SaveItem>();
  const add = (image: Image, tag: Reference | undefined): void => {
    let item = byDigest.get(image.digest);
    if (!item) byDigest.set(image.digest, item = { image, tags: [] });
    if (tag && !item.tags.some((t) => formatReference(t) === formatReference(tag))) item.tags.push(tag);
  };
  for (const text of names) {
    const ref = tryParseReference(text);
    if (ref && isNameOnly(text)) {
      const repo = nameOf(ref);
      let found = false;
      for (const image of images.list()) {
        for (const n of image.names) {
          const r = parseReference(n);
          if (nameOf(r) !== repo) continue;
          add(image, r);
          found = true;
        }
      }
      if (found) continue;
    }
    const image = images.resolve(text);
    // Found by its tag (not by an ID prefix that happens to look like a name): the tag goes along.
    const tagged = ref?.tag !== undefined && ref.digest === undefined && image.names.includes(formatReference(ref));
    add(image, tagged ? ref : undefined);
  }
  return [...byDigest.values()];
}

function isNameOnly(text: string): boolean {
  return !text.includes('@') && !text.slice(text.lastIndexOf('/') + 1).includes(':');
}

function tryParseReference(text: string): Reference | undefined {
  try {
    return parseReference(text);
  } catch {
    return undefined;
  }
}

function describe(image: Image): string {
  const name = image.names[0];
  return name !== undefined ? familiarString(parseReference(name)) : image.configDigest;
}

async function writeDockerArchive(stores: ImageStores, items: SaveItem[], writer: TarWriter, tmp: string): Promise<void> {
  const written = new Set<Digest>();
  const entries: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const index: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  await writer.directory('blobs/');
  await writer.directory(`${BLOBS}/`);
  for (const { image, tags } of items) {
    const configBytes = stores.content.read(image.configDigest);
    if (!written.has(image.configDigest)) {
      await writer.bytes(blobPath(image.configDigest), configBytes);
      written.add(image.configDigest);
    }
    const layers: Descriptor[] = [];
    for (const [i, layer] of image.layers.entries()) {
      const size = await writeUncompressedLayer(stores, image, i, layer, writer, tmp, written);
      layers.push({ mediaType: MediaType.ociLayer, digest: layer.diffId, size });
    }
    // As Docker 25 writes it (field order of Go's ocispec.Manifest).
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: image.configDigest, size: configBytes.length },
      layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(manifestBytes);
    if (!written.has(manifestDigest)) {
      await writer.bytes(blobPath(manifestDigest), manifestBytes);
      written.add(manifestDigest);
    }
    const descriptor = { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.length };
    index.push(...indexDescriptors(descriptor, tags));
    const top = image.layers.at(-1);
    for (const t of tags) {
      if (top === undefined) continue;
      const repo = familiarString({ registry: t.registry, repository: t.repository });
      (repositories[repo] ??= {})[t.tag!] = hexOf(top.diffId);
    }
    entries.push({
      Config: blobPath(image.configDigest),
      RepoTags: tags.length > 0 ? tags.map(familiarString) : null,
      Layers: image.layers.map((l) => blobPath(l.diffId)),
    });
  }
  await writer.bytes('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: index }));
  await writer.bytes('manifest.json', JSON.stringify(entries));
  await writer.bytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  if (Object.keys(repositories).length > 0) await writer.bytes('repositories', JSON.stringify(repositories));
}

/** One descriptor per tag (annotated as Docker does), or one bare descriptor for an untagged image. */
function indexDescriptors(descriptor: { mediaType: string; digest: Digest; size: number }, tags: Reference[]): Descriptor[] {
  if (tags.length === 0) return [descriptor];
  return tags.map((t) => ({ ...descriptor, annotations: { [IMAGE_NAME]: formatReference(t), [REF_NAME]: t.tag! } }));
}

/** The layer as an uncompressed tar at blobs/sha256/<diffID>; returns its size. */
async function writeUncompressedLayer(stores: ImageStores, image: Image, i: number, layer: ImageLayer, writer: TarWriter, tmp: string, written: Set<Digest>): Promise<number> {
  const source = stores.content.path(layer.digest);
  const compression = await compressionOf(source);
  if (compression === 'none' && layer.digest === layer.diffId) {
    const size = statSync(source).size;
    if (!written.has(layer.diffId)) await writer.file(blobPath(layer.diffId), source, size);
    written.add(layer.diffId);
    return size;
  }
  const plain = join(tmp, `layer-${hexOf(layer.diffId)}`);
  const tap = new Hasher();
  try {
    await pipeline(createReadStream(source), decompressor(compression), tap, createWriteStream(plain));
  } catch (err) {
    throw invalid('InvalidLayer', `save ${describe(image)}: layer ${i} (${layer.digest}) cannot be decompressed: ${(err as Error).message}`);
  }
  try {
    if (tap.digest() !== layer.diffId) {
      throw invalid('DigestMismatch', `save ${describe(image)}: layer ${i} (${layer.digest}) decompresses to ${tap.digest()}, not its diffID ${layer.diffId}`);
    }
    if (!written.has(layer.diffId)) await writer.file(blobPath(layer.diffId), plain, tap.size);
    written.add(layer.diffId);
    return tap.size;
  } finally {
    rmSync(plain, { force: true });
  }
}

async function writeOciArchive(stores: ImageStores, items: SaveItem[], writer: TarWriter): Promise<void> {
  const written = new Set<Digest>();
  const index: Descriptor[] = [];
  await writer.bytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writer.directory('blobs/');
  await writer.directory(`${BLOBS}/`);
  for (const { image, tags } of items) {
    for (const d of [image.configDigest, ...image.layers.map((l) => l.digest), image.digest]) {
      if (written.has(d)) continue;
      await writer.file(blobPath(d), stores.content.path(d), stores.content.size(d));
      written.add(d);
    }
    index.push(...indexDescriptors({ mediaType: image.mediaType, digest: image.digest, size: stores.content.size(image.digest) }, tags));
  }
  await writer.bytes('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: index }));
}

/** tar-stream's pack, fed one entry at a time with backpressure, piped to `out`; a failure of `out` ends the wait. */
class TarWriter {
  private readonly pack = tar.pack();
  private readonly done: Promise<void>;
  private readonly failed: Promise<never>;

  constructor(out: Writable) {
    this.done = pipeline(Readable.from(this.pack), out);
    this.failed = this.done.then(() => new Promise<never>(() => {}), (err: unknown) => {
      throw systemError('SaveFailed', `save: writing the archive failed: ${(err as Error).message}`, err);
    });
    this.failed.catch(() => {});
  }

  directory(name: string): Promise<void> {
    return this.race(new Promise((resolve, reject) => {
      this.pack.entry({ name, type: 'directory', mode: 0o755, mtime: EPOCH, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
    }));
  }

  bytes(name: string, data: Buffer | string): Promise<void> {
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
    return this.race(new Promise((resolve, reject) => {
      this.pack.entry({ name, type: 'file', size: body.length, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0 }, body, (err) => (err ? reject(err) : resolve()));
    }));
  }

  file(name: string, path: string, size: number): Promise<void> {
    return this.race(new Promise((resolve, reject) => {
      const sink = this.pack.entry({ name, type: 'file', size, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
      const source = createReadStream(path);
      source.on('error', (err) => {
        sink.destroy(err);
        reject(err);
      });
      source.pipe(sink);
    }));
  }

  async finish(): Promise<void> {
    this.pack.finalize();
    await Promise.race([this.done, this.failed]);
  }

  abort(err: unknown): void {
    this.pack.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  private race(p: Promise<void>): Promise<void> {
    return Promise.race([p, this.failed]);
  }
}

// ---------------------------------------------------------------- load

/** A regular file of the archive, spooled to disk. */
interface Spooled {
  /** The entry's name in the archive, controls escaped (for messages only). */
  name: string;
  file: string;
  size: number;
  digest: Digest;
}

/** Everything the archive holds, by normalised name. */
class ArchiveContents {
  readonly files = new Map<string, Spooled>();
  /** Symlinks and hard links: name → target name (normalised, inside the archive). */
  readonly links = new Map<string, string>();

  /** The file `name` designates, following links inside the archive; undefined if there is none. */
  get(name: string): Spooled | undefined {
    let current = name;
    for (let hops = 0; hops <= MAX_LINKS; hops++) {
      const file = this.files.get(current);
      if (file) return file;
      const target = this.resolveParents(current);
      if (target !== current) {
        current = target;
        continue;
      }
      const next = this.links.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    throw invalid('InvalidArchive', `archive entry "${name}": too many levels of symbolic links`);
  }

  has(name: string): boolean {
    return this.files.has(name) || this.links.has(name);
  }

  /** A path one of whose parent directories is a symlink, with that parent replaced by its target. */
  private resolveParents(name: string): string {
    const parts = name.split('/');
    for (let k = 1; k < parts.length; k++) {
      const prefix = parts.slice(0, k).join('/');
      const target = this.links.get(prefix);
      if (target !== undefined) return joinInside(target, parts.slice(k).join('/'), name);
    }
    return name;
  }
}

/** An archive entry's name as a relative path inside the archive, or refused. */
function entryPath(name: string): string {
  if (name.startsWith('/')) throw invalid('InvalidArchive', `archive entry "${escapeControls(name)}" refused: its path is absolute`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw invalid('InvalidArchive', `archive entry "${escapeControls(name)}" refused: its path contains ".." (path traversal)`);
  return parts.join('/');
}

/** A path named inside the archive (a link target, a manifest.json path), relative to `base`; refused if it leaves the archive. */
function joinInside(base: string, rel: string, what: string): string {
  if (rel.startsWith('/')) throw invalid('InvalidArchive', `${what}: "${escapeControls(rel)}" is an absolute path`);
  const joined = posix.normalize(posix.join(base === '' ? '.' : base, rel));
  if (joined === '..' || joined.startsWith('../')) throw invalid('InvalidArchive', `${what}: "${escapeControls(rel)}" points outside the archive (path traversal)`);
  return joined === '.' ? '' : joined.replace(/\/$/, '');
}

interface PlannedLayer {
  digest: Digest;
  mediaType: string;
  size: number;
  diffId: Digest;
  /** The spooled entry holding the blob. */
  source: Spooled;
}

interface PlannedImage {
  /** For messages: the first tag, or the config digest. */
  label: string;
  manifestBytes: Buffer;
  manifestDigest: Digest;
  manifestMediaType: string;
  config: ImageConfig;
  configDigest: Digest;
  configSource: Spooled;
  layers: PlannedLayer[];
  /** Full references to tag, in order. */
  tags: Reference[];
}

/**
 * Load every image of a docker-archive or OCI-layout archive (`input`: a
 * stream or a file path; plain, gzip or zstd). All or nothing for the image
 * store: nothing is recorded unless every image verified and unpacked.
 */
export async function loadImages(stores: ImageStores, input: Readable | string): Promise<LoadResult> {
  const tmp = mkdtempSync(join(stores.content.root, 'ingest', 'load-'));
  try {
    const contents = await spool(typeof input === 'string' ? openInput(input) : input, tmp);
    let plan: PlannedImage[];
    if (contents.has('manifest.json')) {
      plan = await planDockerArchive(contents);
    } else if (contents.has('index.json') && contents.has('oci-layout')) {
      plan = await planOciLayout(contents);
    } else if (contents.has('index.json')) {
      throw invalid('InvalidArchive', 'archive entry "oci-layout" is missing: index.json alone does not make an OCI image layout');
    } else if (contents.has('repositories')) {
      throw invalid('InvalidArchive', 'archive entry "manifest.json" is missing: this looks like a legacy (Docker before 1.10) archive, which is not supported');
    } else {
      throw invalid('InvalidArchive', 'not an image archive: archive entry "manifest.json" (docker-archive) is missing, and so are "index.json" and "oci-layout" (OCI layout)');
    }
    // A load refused part-way takes back the blobs and layers it added.
    return await undoneOnFailure(stores, async (added) => {
      await ingestBlobs(stores, plan, added);
      await applyLayers(stores, plan, added);
      return { loaded: record(stores, plan, added) };
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function openInput(path: string): Readable {
  try {
    if (!statSync(path).isFile()) throw invalid('InvalidArchive', `load: ${path} is not a file`);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    if (errnoCode(err) === 'ENOENT') throw notFound('ArchiveNotFound', `load: ${path}: no such file`);
    throw systemError('ArchiveUnreadable', `load: ${path}: ${(err as Error).message}`, err);
  }
  return createReadStream(path);
}

/** The input with gzip or zstd compression removed (by magic bytes, as Docker decides). */
async function decompressedInput(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < 6) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.from(next.value);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  const rest = Readable.from((async function* () {
    yield head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  })());
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw invalid('UnsupportedCompression', 'load: xz-compressed archives are not supported; decompress it first (or use gzip or zstd)');
  }
  if (head.subarray(0, 3).toString('latin1') === 'BZh') {
    throw invalid('UnsupportedCompression', 'load: bzip2-compressed archives are not supported; decompress it first (or use gzip or zstd)');
  }
  const compression = detectCompression(head);
  return compression === 'none' ? rest : rest.pipe(decompressor(compression));
}

/** Read the whole archive into `dir`, one numbered file per regular entry, hashing each. */
async function spool(source: Readable, dir: string): Promise<ArchiveContents> {
  const contents = new ArchiveContents();
  let input: Readable;
  try {
    input = await decompressedInput(source);
  } catch (err) {
    source.destroy();
    if (err instanceof BerthError) throw err;
    throw systemError('ArchiveUnreadable', `load: cannot read the archive: ${(err as Error).message}`, err);
  }
  const extract = tar.extract();
  const feeding = pipeline(input, extract);
  feeding.catch(() => {});
  let count = 0;
  let current = '';
  try {
    for await (const entry of extract) {
      const header = entry.header;
      current = header.name;
      const name = entryPath(header.name);
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          const file = join(dir, String(++count));
          const hash = createHash('sha256');
          let size = 0;
          const fh = await open(file, 'wx', 0o600);
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              hash.update(chunk);
              size += chunk.length;
              for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
            }
          } finally {
            await fh.close();
          }
          contents.files.set(name, { name: escapeControls(name), file, size, digest: `sha256:${hash.digest('hex')}` });
          contents.links.delete(name);
          break;
        }
        case 'symlink': {
          entry.resume();
          const target = joinInside(posix.dirname(name), header.linkname ?? '', `archive entry "${escapeControls(header.name)}" (symbolic link)`);
          contents.links.set(name, target);
          contents.files.delete(name);
          break;
        }
        case 'link': {
          entry.resume();
          contents.links.set(name, joinInside('', header.linkname ?? '', `archive entry "${escapeControls(header.name)}" (hard link)`));
          contents.files.delete(name);
          break;
        }
        default:
          // Directories and anything else: nothing an image is read from.
          entry.resume();
      }
    }
    await feeding;
  } catch (err) {
    input.destroy();
    source.destroy();
    if (err instanceof BerthError) throw err;
    const where = current === '' ? '' : ` (at entry "${escapeControls(current)}")`;
    throw invalid('InvalidArchive', `load: not a valid tar archive${where}: ${(err as Error).message}`);
  }
  debug('load: %d files spooled', contents.files.size);
  return contents;
}

/** The entry at `path` (named by `field`), which must be there. */
function requireEntry(contents: ArchiveContents, path: string, field: string): Spooled {
  const found = contents.get(path);
  if (!found) throw invalid('InvalidArchive', `${escapeControls(field)}: archive entry "${escapeControls(path)}" is missing`);
  return found;
}

/** A JSON document of the archive (manifest.json, a manifest, a config), read whole: refused by its size (limits.ts) before it is read. */
function readMetadata(entry: Spooled, kind: MetadataKind): Buffer {
  checkSize(kind, `archive entry "${entry.name}"`, entry.size);
  return readFileSync(entry.file);
}

async function readJsonEntry(entry: Spooled): Promise<unknown> {
  const bytes = readMetadata(entry, 'archiveJson');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid('InvalidArchive', `archive entry "${entry.name}": not valid JSON: ${(err as Error).message}`);
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw invalid('InvalidArchive', `archive entry "${what}"${field ? ` ${field}` : ''}: ${issue.message}`);
}

/** Re-throw an error about a document with the archive entry it came from. */
function naming<T>(entry: Spooled, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof BerthError) throw new BerthError(err.kind, err.code, `archive entry "${entry.name}": ${err.message}`);
    throw err;
  }
}

const dockerManifestSchema = z.array(z.object({
  Config: z.string().min(1),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string().min(1)),
}).passthrough()).min(1, 'lists no image');

const ociLayoutSchema = z.object({ imageLayoutVersion: z.string().min(1) }).passthrough();

/** `blobs/sha256/<hex>` or `<hex>.json` → the digest the name claims; undefined for other names. */
function claimedDigest(path: string): Digest | undefined {
  const m = /(?:^|\/)(?:sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(path);
  return m ? `sha256:${m[1]!}` : undefined;
}

async function planDockerArchive(contents: ArchiveContents): Promise<PlannedImage[]> {
  const manifestEntry = contents.get('manifest.json')!;
  const items = validate(dockerManifestSchema, await readJsonEntry(manifestEntry), 'manifest.json');
  const ociManifests = await ociManifestsOf(contents);
  const plan: PlannedImage[] = [];
  for (const [i, item] of items.entries()) {
    const field = `manifest.json [${i}]`;
    const configPath = joinInside('', item.Config, `${field}.Config`);
    const configSource = requireEntry(contents, configPath, `${field}.Config`);
    const claimed = claimedDigest(configPath);
    if (claimed !== undefined && claimed !== configSource.digest) {
      throw invalid('DigestMismatch', `archive entry "${configSource.name}" (${field}.Config): content has digest ${configSource.digest}, its name says ${claimed}`);
    }
    const configBytes = readMetadata(configSource, 'config');
    const config = naming(configSource, () => parseImageConfig(configBytes));
    const diffIds = config.rootfs.diff_ids as Digest[];
    if (diffIds.length !== item.Layers.length) {
      throw invalid('InvalidArchive', `${field}: Layers lists ${item.Layers.length} layers, the config ${configSource.name} has ${diffIds.length} diff_ids`);
    }
    const tags = (item.RepoTags ?? []).map((t, j) => {
      const ref = refOf(t, `${field}.RepoTags[${j}]`);
      if (ref.digest !== undefined) throw invalid('InvalidArchive', `${field}.RepoTags[${j}]: "${t}" is a digest reference, not a tag`);
      return ref;
    });
    const label = tags[0] ? familiarString(tags[0]) : configSource.digest;
    const layers: PlannedLayer[] = [];
    for (const [j, layerPath] of item.Layers.entries()) {
      const what = `${field}.Layers[${j}]`;
      const source = requireEntry(contents, joinInside('', layerPath, what), what);
      const compression = await compressionOf(source.file);
      if (compression === 'none') {
        if (source.digest !== diffIds[j]) {
          throw invalid('DigestMismatch', `archive entry "${source.name}" (${what}, layer ${j} of ${label}): content has digest ${source.digest}, the image config says diffID ${diffIds[j]!}`);
        }
        layers.push({ digest: source.digest, mediaType: MediaType.ociLayer, size: source.size, diffId: diffIds[j]!, source });
      } else {
        const diffId = await uncompressedDigest(source.file, compression, `archive entry "${source.name}" (${what})`);
        if (diffId !== diffIds[j]) {
          throw invalid('DigestMismatch', `archive entry "${source.name}" (${what}, layer ${j} of ${label}): its uncompressed content has digest ${diffId}, the image config says diffID ${diffIds[j]!}`);
        }
        const mediaType = compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd;
        layers.push({ digest: source.digest, mediaType, size: source.size, diffId, source });
      }
    }
    // The archive's own OCI manifest of exactly these blobs (Docker 25+), or one made as Docker makes it.
    const own = ociManifests.find((m) => m.manifest.config.digest === configSource.digest
      && m.manifest.layers.length === layers.length
      && m.manifest.layers.every((l, j) => l.digest === layers[j]!.digest && l.mediaType === layers[j]!.mediaType && l.size === layers[j]!.size));
    let manifestBytes: Buffer;
    let manifestMediaType: string;
    if (own) {
      manifestBytes = own.bytes;
      manifestMediaType = own.mediaType;
    } else {
      manifestBytes = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: configSource.digest, size: configSource.size },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }));
      manifestMediaType = MediaType.ociManifest;
    }
    plan.push({
      label, manifestBytes, manifestDigest: sha256(manifestBytes), manifestMediaType,
      config, configDigest: configSource.digest, configSource, layers, tags,
    });
  }
  return plan;
}

/** The manifests a docker-archive's index.json lists (Docker 25+ writes them), for reuse; none if it has none or they do not verify. */
async function ociManifestsOf(contents: ArchiveContents): Promise<{ bytes: Buffer; mediaType: string; manifest: ImageManifest }[]> {
  const indexEntry = contents.get('index.json');
  if (!indexEntry) return [];
  const out: { bytes: Buffer; mediaType: string; manifest: ImageManifest }[] = [];
  try {
    const parsed = parseManifest(readMetadata(indexEntry, 'manifest'));
    if (parsed.kind !== 'index') return [];
    for (const d of parsed.index.manifests) {
      const blob = contents.get(blobPath(d.digest as Digest));
      if (!blob || blob.digest !== d.digest || blob.size !== d.size) continue;
      const bytes = readMetadata(blob, 'manifest');
      const m = parseManifest(bytes, d.mediaType);
      if (m.kind === 'manifest') out.push({ bytes, mediaType: m.mediaType, manifest: m.manifest });
    }
  } catch {
    // Only an optional extra here: manifest.json is what a docker-archive is read by.
    return out;
  }
  return out;
}

/** A blob of an OCI layout, checked against its descriptor. */
function blobOf(contents: ArchiveContents, d: Descriptor, field: string): Spooled {
  const digest = d.digest as Digest;
  const source = requireEntry(contents, blobPath(digest), `${field} (${digest})`);
  if (source.digest !== digest) {
    throw invalid('DigestMismatch', `archive entry "${source.name}" (${field}): content has digest ${source.digest}, expected ${digest}`);
  }
  if (source.size !== d.size) {
    throw invalid('SizeMismatch', `archive entry "${source.name}" (${field}): ${source.size} bytes, its descriptor says ${d.size}`);
  }
  return source;
}

async function planOciLayout(contents: ArchiveContents): Promise<PlannedImage[]> {
  const layoutEntry = contents.get('oci-layout')!;
  const layout = validate(ociLayoutSchema, await readJsonEntry(layoutEntry), 'oci-layout');
  if (!layout.imageLayoutVersion.startsWith('1.')) {
    throw invalid('InvalidArchive', `archive entry "oci-layout": imageLayoutVersion "${layout.imageLayoutVersion}" is not supported (berth reads 1.x)`);
  }
  const indexEntry = contents.get('index.json')!;
  const indexBytes = readMetadata(indexEntry, 'manifest');
  const parsedIndex = naming(indexEntry, () => parseManifest(indexBytes));
  if (parsedIndex.kind !== 'index') throw invalid('InvalidArchive', 'archive entry "index.json": is a manifest, not an image index');
  const byDigest = new Map<Digest, PlannedImage>();
  const plan: PlannedImage[] = [];
  for (const [i, top] of parsedIndex.index.manifests.entries()) {
    const field = `index.json manifests[${i}]`;
    let descriptor = top;
    let source = blobOf(contents, descriptor, field);
    let manifestBytes = readMetadata(source, 'manifest');
    let parsed = naming(source, () => parseManifest(manifestBytes, descriptor.mediaType));
    if (parsed.kind === 'index') {
      // A multi-platform image: the manifest for this host, as pull chooses it.
      const nested = parsed.index;
      descriptor = naming(source, () => selectPlatform(nested, hostPlatform()));
      source = blobOf(contents, descriptor, `${field} → ${descriptor.digest}`);
      manifestBytes = readMetadata(source, 'manifest');
      parsed = naming(source, () => parseManifest(manifestBytes, descriptor.mediaType));
      if (parsed.kind !== 'manifest') throw invalid('InvalidArchive', `archive entry "${source.name}": a nested image index is not supported`);
    }
    const tags = namesOf(top, field);
    const manifestDigest = source.digest;
    const existing = byDigest.get(manifestDigest);
    if (existing) {
      for (const t of tags) if (!existing.tags.some((e) => formatReference(e) === formatReference(t))) existing.tags.push(t);
      continue;
    }
    const manifest = parsed.manifest;
    if (!(CONFIG_MEDIA_TYPES as readonly string[]).includes(manifest.config.mediaType)) {
      throw invalid('UnsupportedManifest', `archive entry "${source.name}" (${field}): not an image (config media type "${manifest.config.mediaType}")`);
    }
    const configSource = blobOf(contents, manifest.config, `${source.name} config`);
    const configBytes = readMetadata(configSource, 'config');
    const config = naming(configSource, () => parseImageConfig(configBytes));
    const diffIds = config.rootfs.diff_ids as Digest[];
    if (diffIds.length !== manifest.layers.length) {
      throw invalid('InvalidArchive', `archive entry "${source.name}": the manifest lists ${manifest.layers.length} layers, its config ${configSource.name} has ${diffIds.length} diff_ids`);
    }
    const label = tags[0] ? familiarString(tags[0]) : configSource.digest;
    const layers = manifest.layers.map((l, j): PlannedLayer => {
      if (!isLayerMediaType(l.mediaType)) throw invalid('UnsupportedManifest', `archive entry "${source.name}" layers[${j}]: unsupported media type "${l.mediaType}"`);
      const blob = blobOf(contents, l, `${source.name} layers[${j}] of ${label}`);
      if (layerCompression(l.mediaType) === 'none' && blob.digest !== diffIds[j]) {
        throw invalid('DigestMismatch', `archive entry "${blob.name}" (layer ${j} of ${label}): an uncompressed layer whose digest is not its diffID ${diffIds[j]!}`);
      }
      return { digest: blob.digest, mediaType: l.mediaType, size: blob.size, diffId: diffIds[j]!, source: blob };
    });
    const image: PlannedImage = {
      label, manifestBytes, manifestDigest, manifestMediaType: parsed.mediaType,
      config, configDigest: configSource.digest, configSource, layers, tags,
    };
    byDigest.set(manifestDigest, image);
    plan.push(image);
  }
  if (plan.length === 0) throw invalid('InvalidArchive', 'archive entry "index.json": lists no image');
  return plan;
}

/** The names an index.json descriptor gives its image: containerd's full name, else a ref.name that is a whole reference. A bare tag names no repository: the image loads untagged. */
function namesOf(d: Descriptor, field: string): Reference[] {
  const full = d.annotations?.[IMAGE_NAME];
  if (full !== undefined) return [tagRef(full, `${field} annotation ${IMAGE_NAME}`)];
  const refName = d.annotations?.[REF_NAME];
  if (refName !== undefined && /[:/]/.test(refName)) return [tagRef(refName, `${field} annotation ${REF_NAME}`)];
  return [];
}

function tagRef(text: string, field: string): Reference {
  const ref = refOf(text, field);
  if (ref.digest !== undefined) throw invalid('InvalidArchive', `${field}: "${text}" is a digest reference, not a tag`);
  return ref;
}

function refOf(text: string, field: string): Reference {
  try {
    return parseReference(text);
  } catch (err) {
    throw invalid('InvalidArchive', `${field}: ${(err as Error).message}`);
  }
}

/** Every blob the plan needs into the content store (verified again by the store). */
async function ingestBlobs(stores: ImageStores, plan: PlannedImage[], added: StoreAdditions): Promise<void> {
  const done = new Set<Digest>();
  for (const image of plan) {
    for (const source of [image.configSource, ...image.layers.map((l) => l.source)]) {
      if (done.has(source.digest)) continue;
      done.add(source.digest);
      if (stores.content.has(source.digest)) continue;
      added.blob(source.digest);
      try {
        await stores.content.ingest(createReadStream(source.file), { digest: source.digest, size: source.size });
      } catch (err) {
        if (err instanceof BerthError) throw new BerthError(err.kind, err.code, `archive entry "${source.name}": ${err.message}`, { cause: err });
        throw err;
      }
    }
  }
}

/** Unpack each image's layers in order; a chain already unpacked is not read again, but its blob is checked against the diffID. */
async function applyLayers(stores: ImageStores, plan: PlannedImage[], added: StoreAdditions): Promise<void> {
  const checked = new Set<Digest>();
  for (const image of plan) {
    let parent: ChainId | undefined;
    for (const [j, l] of image.layers.entries()) {
      const chainId = stores.layers.chainId(parent, l.diffId);
      const path = stores.content.path(l.digest);
      try {
        if (!stores.layers.has(chainId)) {
          added.layer(chainId);
          await stores.layers.apply(path, l.mediaType, parent, l.diffId);
        } else if (l.digest !== l.diffId && !checked.has(l.digest)) {
          const actual = await uncompressedDigest(path, await compressionOf(path), `layer ${l.digest}`);
          if (actual !== l.diffId) throw invalid('DigestMismatch', `its uncompressed content has digest ${actual}, the image config says diffID ${l.diffId}`);
        }
      } catch (err) {
        if (err instanceof BerthError) throw new BerthError(err.kind, err.code, `archive entry "${l.source.name}" (layer ${j} of ${image.label}): ${err.message}`, { cause: err });
        throw err;
      }
      checked.add(l.digest);
      parent = chainId;
    }
  }
}

/** Record every image and its tags; returns docker load's lines. */
function record(stores: ImageStores, plan: PlannedImage[], added: StoreAdditions): string[] {
  const loaded: string[] = [];
  for (const image of plan) {
    added.blob(image.manifestDigest);
    stores.content.put(image.manifestBytes);
    stores.images.addImage({
      digest: image.manifestDigest,
      mediaType: image.manifestMediaType,
      configDigest: image.configDigest,
      layers: image.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: l.diffId })),
      platform: configPlatform(image.config),
      ...(image.config.created ? { created: image.config.created } : {}),
      size: image.layers.reduce((n, l) => n + l.size, 0) + image.configSource.size,
    });
    for (const t of image.tags) {
      stores.images.tag(formatReference(t), image.manifestDigest);
      loaded.push(`Loaded image: ${familiarString(t)}`);
    }
    if (image.tags.length === 0) loaded.push(`Loaded image ID: ${image.configDigest}`);
  }
  return loaded;
}

// ---------------------------------------------------------------- streams




async function compressionOf(path: string): Promise<Compression> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return detectCompression(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The digest of a blob's uncompressed content (its diffID). */
async function uncompressedDigest(path: string, compression: Compression, what: string): Promise<Digest> {
  const tap = new Hasher();
  try {
    await pipeline(createReadStream(path), decompressor(compression), tap, new Writable({ write(_c, _e, cb) { cb(); } }));
  } catch (err) {
    throw invalid('InvalidLayer', `${what}: not valid ${compression}-compressed data: ${(err as Error).message}`);
  }
  return tap.digest();
}
