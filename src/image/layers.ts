// Layers: an image's filesystem is a stack of tar archives, each one a
// changeset over the layers below it (files added or changed, and deletions
// written as `.wh.<name>` "whiteout" files, or `.wh..wh..opq` for "this
// directory hides everything below"). berth unpacks every layer once into its
// own directory, in the form overlayfs reads as a lower layer: a deleted file
// becomes a character device 0/0, an opaque directory gets the xattr
// trusted.overlay.opaque=y. A container's root is then an overlay mount of the
// stack (snapshots.ts); nothing is ever copied per container.
//
// A layer is named by its chain ID, which names the whole stack beneath it
// too (OCI image spec): ChainID(L0) = DiffID(L0), ChainID(Ln) =
// sha256(ChainID(Ln-1) + " " + DiffID(Ln)), where a DiffID is the sha256 of
// the uncompressed tar. Two images sharing a base share its chain IDs, so the
// base is unpacked and stored once:
//
//   <root>/layers/<chainID hex>/diff/        the overlay lower dir
//   <root>/layers/<chainID hex>/layer.json   { chainId, diffId, parent, size, opaque }
//   <root>/layers/l/<short>  → ../<hex>/diff a short name, so that a mount
//                                            of many layers fits in one page
//
// Unpacking is all or nothing: the tar streams (decompressed, hashed) into
// <root>/layers/.tmp-<pid>-<random>/ and is renamed into place only when it is
// complete and its hash is the expected DiffID. Two pulls applying the same
// chain race on that rename; the loser throws its copy away and uses the
// winner's.
//
// A layer comes from a registry and is hostile until proven otherwise. Refused
// (the whole layer, naming the entry): absolute paths, `..` components, any
// entry whose parent is a symlink — planted by this layer or visible from a
// lower one (overlay's own rules decide what is visible: whiteouts and opaque
// directories hide what is below) — and hard links to anything that is not an
// earlier entry of this same layer. Nothing is ever created by following a
// symlink: each parent is checked with lstat and files are opened O_NOFOLLOW.
//
// A layer keeps what it carries, or says it did not: extended attributes are
// set as Docker sets them (security.capability — a file capability, such as
// an image's `ping` has — included), a sparse file is written with its holes
// (tar-reader.ts reads GNU tar's sparse forms), and an entry of a type berth
// cannot create or an xattr the host refuses is a warning naming the entry.
import { createHash, randomBytes } from 'node:crypto';
import {
  constants as fsConstants, closeSync, createReadStream, existsSync, fchmodSync, fchownSync, ftruncateSync, futimesSync, mkdirSync, open as openCallback,
  readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, write as writeCallback, writeSync, type Stats,
} from 'node:fs';
import { chmod, lchown, lstat, lutimes, mkdir, open, rename, rm, symlink, link, unlink, utimes, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFile } from 'node:child_process';
import { detectCompression, decompressor } from './compression.js';
import { BerthError, conflict, errnoCode, invalid, notFound, systemError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { debug } from '../util/debug.js';
import { hexOf, isDigest, sha256, type Digest } from './digest.js';
import { applySpecialOps, type LinkOp, type NodeOp, type XattrOp } from './special-files.js';
import { readTar, TarFormatError, type TarEntry } from './tar-reader.js';

/** A chain ID names a layer together with every layer below it. */
export type ChainId = Digest;

/** What layer.json records about one unpacked layer. */
export interface LayerRecord {
  chainId: ChainId;
  diffId: Digest;
  parent: ChainId | null;
  /** Bytes of file content in this layer alone (hard links counted once), as `docker history` shows. */
  size: number;
  /** Directories this layer made opaque (relative paths, '' for its root): Node cannot read xattrs back. */
  opaque: string[];
}

export interface ApplyResult {
  chainId: ChainId;
  size: number;
}

export interface ApplyOptions {
  /** Told about what was skipped (device nodes in a user namespace, xattrs); default: NODE_DEBUG=berth. */
  warn?: (message: string) => void;
}


const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** Short names for overlay lower dirs: 26 hex digits, as long as Docker's l/ links. */
const SHORT_LENGTH = 26;
const TMP_PREFIX = '.tmp-';
/**
 * Read and inflate a blob in 1 MiB pieces, not Node's defaults (64 KiB reads,
 * 16 KiB of gunzip output per call): every piece is a trip through libuv's
 * thread pool and the stream machinery, and with the defaults that overhead,
 * not inflating, bounded a large layer (about 3x slower; bench/pull.ts).
 */
const STREAM_CHUNK = 1 << 20;

/** The chain ID of every layer of an image, bottom first, from its diffIDs in order. */
export function chainIdsOf(diffIds: readonly Digest[]): ChainId[] {
  const ids: ChainId[] = [];
  for (const diffId of diffIds) ids.push(chainIdOf(ids.at(-1), diffId));
  return ids;
}

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIdOf(parent: ChainId | undefined, diffId: Digest): ChainId {
  return parent === undefined ? diffId : sha256(`${parent} ${diffId}`);
}


export class LayerStore {
  /** <root>/layers */
  readonly dir: string;

  /** Where apply() reports what a layer carried that was not kept, unless its caller says otherwise. */
  private readonly warn: ((message: string) => void) | undefined;

  constructor(root: string, opts: ApplyOptions = {}) {
    this.dir = join(root, 'layers');
    this.warn = opts.warn;
    mkdirSync(join(this.dir, 'l'), { recursive: true });
  }

  chainId(parent: ChainId | undefined, diffId: Digest): ChainId {
    return chainIdOf(parent, diffId);
  }

  has(chainId: ChainId): boolean {
    return isDigest(chainId) && existsSync(join(this.dir, hexOf(chainId), 'layer.json'));
  }

  get(chainId: ChainId): LayerRecord {
    if (!isDigest(chainId)) throw invalid('InvalidDigest', `"${String(chainId)}" is not a chain ID`);
    let text: string;
    try {
      text = readFileSync(join(this.dir, hexOf(chainId), 'layer.json'), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('LayerNotFound', `layer ${chainId} is not in the store`);
      throw systemError('LayerUnreadable', `layer ${chainId}: cannot read layer.json: ${(err as Error).message}`, err);
    }
    try {
      return JSON.parse(text) as LayerRecord;
    } catch (err) {
      throw systemError('LayerUnreadable', `layer ${chainId}: layer.json is damaged: ${(err as Error).message}`, err);
    }
  }

  /** The layer and every layer below it, top first. */
  chain(chainId: ChainId): LayerRecord[] {
    const out: LayerRecord[] = [];
    for (let id: ChainId | null = chainId; id !== null;) {
      const rec = this.get(id);
      out.push(rec);
      id = rec.parent;
    }
    return out;
  }

  /** The diff dirs of the chain, top first: overlay's lowerdir order. */
  lowerDirs(chainId: ChainId): string[] {
    return this.chain(chainId).map((rec) => this.diffDir(rec.chainId));
  }

  /**
   * The same, as short paths relative to `dir` (`l/<26 hex>`), for a mount
   * made with `dir` as its working directory. The links are (re)made here if
   * missing.
   */
  shortLowerDirs(chainId: ChainId): string[] {
    return this.chain(chainId).map((rec) => this.ensureShortLink(rec.chainId));
  }

  diffDir(chainId: ChainId): string {
    return join(this.dir, hexOf(chainId), 'diff');
  }

  list(): LayerRecord[] {
    const out: LayerRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      try {
        out.push(this.get(`sha256:${name}`));
      } catch {
        /* a half-removed layer: not listed */
      }
    }
    return out;
  }

  /** Remove one layer; refused while another layer is built on it. */
  remove(chainId: ChainId): void {
    if (!this.has(chainId)) throw notFound('LayerNotFound', `layer ${chainId} is not in the store`);
    const children = this.list().filter((rec) => rec.parent === chainId);
    if (children.length > 0) throw conflict('LayerInUse', `layer ${chainId} is the parent of ${children.map((c) => c.chainId).join(', ')}`);
    const hex = hexOf(chainId);
    const short = join(this.dir, 'l', hex.slice(0, SHORT_LENGTH));
    try {
      if (readlinkSync(short) === `../${hex}/diff`) unlinkSync(short);
    } catch { /* no link */ }
    // Renamed first, so that no reader ever sees half a layer.
    const doomed = join(this.dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    renameSync(join(this.dir, hex), doomed);
    rmSync(doomed, { recursive: true, force: true });
  }

  /**
   * Unpack the layer blob at `blobPath` on top of `parent` (undefined for a
   * base layer). Its uncompressed bytes must hash to `diffId`. A chain already
   * in the store is reused without reading the blob.
   */
  async apply(blobPath: string, mediaType: string, parent: ChainId | undefined, diffId: Digest, opts: ApplyOptions = {}): Promise<ApplyResult> {
    if (!isDigest(diffId)) throw invalid('InvalidDigest', `layer diffID "${String(diffId)}" is not a sha256 digest`);
    if (/encrypted/.test(mediaType)) throw invalid('UnsupportedLayer', `layer ${diffId}: encrypted layers (${mediaType}) are not supported`);
    if (!/tar|layer|rootfs/.test(mediaType)) throw invalid('UnsupportedLayer', `layer ${diffId}: media type "${mediaType}" is not a layer`);
    const lowers = parent === undefined ? [] : this.chain(parent);
    const chainId = chainIdOf(parent, diffId);
    if (this.has(chainId)) {
      this.ensureShortLink(chainId);
      return { chainId, size: this.get(chainId).size };
    }
    this.sweepStale();
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    const diff = join(tmp, 'diff');
    await mkdir(diff, { recursive: true, mode: 0o755 });
    await chmod(diff, 0o755);
    try {
      const unpacker = new Unpacker(diff, diffId, lowers.map((rec) => ({
        name: rec.chainId === rec.diffId ? rec.diffId : `${rec.diffId} (chain ${rec.chainId})`,
        diff: this.diffDir(rec.chainId),
        opaque: new Set(rec.opaque),
      })), warnAbout(diffId, opts.warn ?? this.warn));
      const { size, opaque } = await unpacker.run(blobPath, mediaType);
      const record: LayerRecord = { chainId, diffId, parent: parent ?? null, size, opaque };
      writeFileAtomic(join(tmp, 'layer.json'), `${JSON.stringify(record, null, 2)}\n`);
      await syncFilesystem(tmp);
      try {
        await rename(tmp, join(this.dir, hexOf(chainId)));
      } catch (err) {
        const code = errnoCode(err);
        // Another pull finished the same chain first: theirs is as good as ours.
        if ((code === 'EEXIST' || code === 'ENOTEMPTY') && this.has(chainId)) {
          await rm(tmp, { recursive: true, force: true });
        } else {
          throw systemError('LayerStoreFailed', `layer ${diffId}: cannot move it into place: ${(err as Error).message}`, err);
        }
      }
      this.ensureShortLink(chainId);
      return { chainId, size: this.get(chainId).size };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  private ensureShortLink(chainId: ChainId): string {
    const hex = hexOf(chainId);
    const rel = join('l', hex.slice(0, SHORT_LENGTH));
    const target = `../${hex}/diff`;
    const path = join(this.dir, rel);
    try {
      symlinkSync(target, path);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw systemError('LayerStoreFailed', `layer ${chainId}: cannot make ${path}: ${(err as Error).message}`, err);
      const existing = readlinkSync(path);
      if (existing !== target) {
        // Two chain IDs agreeing on 104 bits: never by chance. Refuse rather than mount the wrong layer.
        throw systemError('LayerStoreFailed', `layer ${chainId}: short name ${rel} is taken by ${existing}`);
      }
    }
    return rel;
  }

  /** Remove temp dirs left by processes that died mid-apply. */
  private sweepStale(): void {
    for (const name of readdirSync(this.dir)) {
      const m = /^\.tmp-(\d+)-/.exec(name);
      if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
      rmSync(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/** Warnings name the layer; without a listener they go to NODE_DEBUG=berth. */
function warnAbout(diffId: Digest, warn: ((message: string) => void) | undefined): (message: string) => void {
  return warn ? (m) => warn(`layer ${diffId}: ${m}`) : (m) => debug('layer %s: %s', diffId, m);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** One `sync -f` (syncfs) for the whole unpacked tree, instead of an fsync per file. */
function syncFilesystem(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', path], (err) => (err ? reject(systemError('SyncFailed', `sync -f ${path}: ${err.message}`, err)) : resolve()));
  });
}


interface Lower {
  /** For messages: the layer's diffID (and chain ID). */
  name: string;
  diff: string;
  opaque: Set<string>;
}

/** What the lower layers show at a path, by overlay's rules. */
interface LowerView {
  type: 'dir' | 'symlink' | 'other' | 'none';
  /** For a dir: the indexes of the lower layers whose dirs merge here, top first. */
  merged: number[];
  /** For a symlink or other: the layer it comes from. */
  from?: number;
}

const NOTHING: LowerView = { type: 'none', merged: [] };


interface DirMeta {
  mode: number;
  mtime: Date;
}

function isUnder(path: string, top: string): boolean {
  return top === '' || path === top || path.startsWith(`${top}/`);
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function isWhiteoutNode(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

const openFd = promisify(openCallback);
const writeFd = promisify(writeCallback);
/** Chunks up to this size are written synchronously (a copy into the page cache); larger ones in the thread pool. */
const SYNC_WRITE_MAX = 64 * 1024;

/** `chunk` at `position` of the file (pwrite): a sparse file's pieces leave holes between them. */
async function writeAt(fd: number, chunk: Buffer, position: number): Promise<void> {
  for (let off = 0; off < chunk.length;) {
    const length = chunk.length - off;
    off += length <= SYNC_WRITE_MAX
      ? writeSync(fd, chunk, off, length, position + off)
      : (await writeFd(fd, chunk, off, length, position + off)).bytesWritten;
  }
}

/** The unpacking of one layer into its temp diff dir: all the per-entry state. */
class Unpacker {
  private size = 0;
  /** Non-directory entries of this layer, present now (hard-link targets). */
  private readonly written = new Set<string>();
  /** Placeholders (empty files) to become whiteouts, device nodes, FIFOs or hard links to those. */
  private readonly whiteouts = new Set<string>();
  private readonly nodes = new Map<string, NodeOp>();
  private links: LinkOp[] = [];
  private xattrs: XattrOp[] = [];
  private readonly opaque = new Set<string>();
  /** Directory modes and times, applied last so that a read-only directory still gets its files. */
  private readonly dirs = new Map<string, DirMeta>();
  /** This layer's directories already walked through: whether lower layers still show beneath them. */
  private readonly walked = new Map<string, boolean>();
  private readonly lowerViews = new Map<string, LowerView>();

  constructor(
    private readonly diff: string,
    private readonly diffId: Digest,
    private readonly lowers: Lower[],
    private readonly warn: (message: string) => void,
  ) {}

  async run(blobPath: string, mediaType: string): Promise<{ size: number; opaque: string[] }> {
    const head = Buffer.alloc(4);
    const fh = await open(blobPath, 'r').catch((err: unknown) => {
      throw systemError('LayerBlobMissing', `layer ${this.diffId}: cannot open ${blobPath}: ${(err as Error).message}`, err);
    });
    let headLength: number;
    try {
      headLength = (await fh.read(head, 0, 4, 0)).bytesRead;
    } finally {
      await fh.close();
    }
    const compression = detectCompression(head.subarray(0, headLength));
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    // The consumer of the entries, so that a failure elsewhere in the
    // pipeline waits for the entry being written before the temp dir is removed.
    let consuming: Promise<void> = Promise.resolve();
    const consume = (source: AsyncIterable<Buffer>): Promise<void> => {
      consuming = (async () => {
        for await (const entry of readTar(source)) {
          try {
            await this.entry(entry);
          } catch (err) {
            // The host refused (no space, an owner it cannot map): say which entry, not "bad tar".
            if (err instanceof BerthError || err instanceof TarFormatError) throw err;
            throw systemError('LayerUnpackFailed', `layer ${this.diffId}: entry "${entry.name}": ${(err as Error).message}`, err);
          }
        }
      })();
      return consuming;
    };
    const decompress = decompressor(compression, { chunkSize: STREAM_CHUNK });
    try {
      await pipeline(createReadStream(blobPath, { highWaterMark: STREAM_CHUNK }), decompress, tap, consume);
    } catch (err) {
      await consuming.catch(() => {});
      if (err instanceof BerthError) throw err;
      const what = compression === 'none' ? 'tar' : `${compression}-compressed tar`;
      throw invalid('InvalidLayer', `layer ${this.diffId} (${mediaType}): not a valid ${what}: ${(err as Error).message}`);
    }
    const actual: Digest = `sha256:${hash.digest('hex')}`;
    if (actual !== this.diffId) {
      throw invalid('DigestMismatch', `layer ${this.diffId}: the uncompressed content has digest ${actual}; the image config says ${this.diffId}`);
    }
    await this.finish();
    return { size: this.size, opaque: [...this.opaque].sort() };
  }

  private refuse(entry: string, why: string): BerthError {
    return invalid('HostileLayer', `layer ${this.diffId}: entry "${entry}" refused: ${why}`);
  }

  private malformed(entry: string, why: string): BerthError {
    return invalid('InvalidLayer', `layer ${this.diffId}: entry "${entry}": ${why}`);
  }

  /** An entry name as path components; absolute paths and `..` are refused. */
  private components(name: string, entry: string, what = 'its path'): string[] {
    if (name.startsWith('/')) throw this.refuse(entry, `${what} "${name}" is absolute`);
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw this.refuse(entry, `${what} "${name}" contains a ".." component`);
    return parts;
  }

  private async entry(header: TarEntry): Promise<void> {
    const entry = header.name;
    const parts = this.components(entry, entry);
    const base = parts.at(-1);
    if (base === undefined) {
      // The layer's root ("./"): its attributes come from the container's upper dir, not from here.
      return;
    }
    if (base === OPAQUE_MARKER) {
      await this.prepareParents(parts, entry);
      this.markOpaque(parts.slice(0, -1).join('/'));
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless here, as Docker skips it.
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const name = base.slice(WHITEOUT_PREFIX.length);
      if (name === '' || name === '.' || name === '..') throw this.refuse(entry, `"${base}" is not a valid whiteout`);
      await this.whiteout([...parts.slice(0, -1), name], entry);
      return;
    }
    const rel = parts.join('/');
    const abs = join(this.diff, rel);
    const mode = header.mode & 0o7777;
    const { uid, gid, mtime, type } = header;
    switch (type) {
      case 'file':
      case 'contiguous-file': {
        await this.prepareParents(parts, entry);
        const fd = await this.createFile(rel);
        try {
          for await (const { offset, data } of header.body) await writeAt(fd, data, offset);
          // A sparse file ends in a hole as often as not: its size is set, not written.
          if (header.sparse) ftruncateSync(fd, header.size);
          // Synchronous on purpose: on an open descriptor these only change the
          // in-memory inode (microseconds), where each trip through libuv's
          // thread pool costs tens of microseconds; for a layer of many small
          // files those trips were most of the time (bench/pull.ts).
          fchownSync(fd, uid, gid);
          fchmodSync(fd, mode); // after chown, which clears set-user-ID bits
          futimesSync(fd, mtime, mtime);
        } finally {
          closeSync(fd);
        }
        this.size += header.size;
        this.written.add(rel);
        break;
      }
      case 'directory': {
          await this.prepareParents(parts, entry);
        const st = await lstatOrNull(abs);
        if (!st?.isDirectory()) {
          const { wasWhiteout } = await this.removeExisting(rel);
          await mkdir(abs, 0o700);
          // A directory where this layer deleted one: it shows only its own entries.
          if (wasWhiteout) this.markOpaque(rel);
        }
        await lchown(abs, uid, gid);
        this.dirs.set(rel, { mode, mtime });
        break;
      }
      case 'symlink': {
          await this.prepareParents(parts, entry);
        await this.removeExisting(rel);
        await symlink(header.linkname, abs);
        await lchown(abs, uid, gid);
        await lutimes(abs, mtime, mtime);
        this.written.add(rel);
        break;
      }
      case 'link': {
          const targetParts = this.components(header.linkname, entry, 'hard link target');
        const target = targetParts.join('/');
        if (!this.written.has(target)) {
          throw this.refuse(entry, `hard link to "${header.linkname}" points outside the layer (not an earlier file of this layer)`);
        }
        if (target === rel) break;
        await this.prepareParents(parts, entry);
        await this.removeExisting(rel);
        if (!this.written.has(target)) throw this.refuse(entry, `hard link to "${header.linkname}" points at an entry this one replaced`);
        if (this.nodes.has(target) || this.links.some((l) => l.path === target)) {
          // The target is made later (by the special-files batch): so is the link.
          await writeFile(abs, '', { flag: 'wx', mode: 0o600 });
          this.links.push({ path: rel, target });
        } else {
          await link(join(this.diff, target), abs);
        }
        this.written.add(rel);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
          await this.prepareParents(parts, entry);
        await this.removeExisting(rel);
        await writeFile(abs, '', { flag: 'wx', mode: 0o600 });
        const kind = type === 'fifo' ? 'fifo' : type === 'character-device' ? 'char' : 'block';
        this.nodes.set(rel, { path: rel, kind, major: header.devmajor, minor: header.devminor, mode, uid, gid, mtime: Math.floor(mtime.getTime() / 1000) });
        this.written.add(rel);
        break;
      }
      default:
        // Docker refuses the whole layer here; berth keeps the rest and says what it left out.
        this.warn(`entry "${entry}" skipped: tar entry type ${JSON.stringify(header.typeflag)} is not one berth can create`);
        return;
    }
    this.collectXattrs(rel, entry, header.xattrs);
  }

  /**
   * SCHILY.xattr.* records, applied as Docker applies them (security.capability
   * included: file capabilities) after the entry's owner is set, which would
   * clear a capability; what the host refuses is a warning. trusted.* is
   * overlay's own namespace and never taken from a layer.
   */
  private collectXattrs(rel: string, entry: string, xattrs: Map<string, Buffer>): void {
    for (const [name, value] of xattrs) {
      if (name.startsWith('trusted.')) {
        this.warn(`entry "${entry}": xattr ${name} ignored (the trusted namespace belongs to overlayfs)`);
        continue;
      }
      this.xattrs.push({ path: rel, name, value });
    }
  }

  /**
   * Make every parent of `parts` a directory of this layer, creating missing
   * ones (root-owned, 0755, as Docker does). Refuses a parent that is a
   * symlink in this layer, or one that this layer does not have and the
   * lower layers show as a symlink.
   */
  private async prepareParents(parts: string[], entry: string): Promise<void> {
    let lowerVisible = this.lowers.length > 0 && !this.opaque.has('');
    for (let k = 1; k < parts.length; k++) {
      const rel = parts.slice(0, k).join('/');
      const known = this.walked.get(rel);
      if (known !== undefined) {
        lowerVisible = known;
        continue;
      }
      const abs = join(this.diff, rel);
      const st = await lstatOrNull(abs);
      const lower = lowerVisible ? await this.lowerView(rel) : NOTHING;
      if (st?.isSymbolicLink()) throw this.refuse(entry, `its parent "${rel}" is a symbolic link planted by this layer`);
      if (st && this.whiteouts.has(rel)) {
        // This layer deleted it and now puts something beneath: a new, opaque directory.
        await unlink(abs);
        this.whiteouts.delete(rel);
        await mkdir(abs, 0o755);
        await chmod(abs, 0o755);
        this.opaque.add(rel);
        lowerVisible = false;
      } else if (st) {
        if (!st.isDirectory()) throw this.malformed(entry, `its parent "${rel}" is not a directory`);
        lowerVisible = lower.type === 'dir' && !this.opaque.has(rel);
      } else {
        if (lower.type === 'symlink') {
          throw this.refuse(entry, `its parent "${rel}" is a symbolic link in lower layer ${this.lowers[lower.from!]!.name}`);
        }
        await mkdir(abs, 0o755);
        await chmod(abs, 0o755);
        lowerVisible = lower.type === 'dir';
      }
      this.walked.set(rel, lowerVisible);
    }
  }

  /** What the lower layers show at `rel`, whose parent they show as a directory. */
  private async lowerView(rel: string): Promise<LowerView> {
    const cached = this.lowerViews.get(rel);
    if (cached) return cached;
    const slash = rel.lastIndexOf('/');
    let candidates: number[];
    if (slash < 0) {
      candidates = [];
      for (let i = 0; i < this.lowers.length; i++) {
        candidates.push(i);
        if (this.lowers[i]!.opaque.has('')) break;
      }
    } else {
      const parent = await this.lowerView(rel.slice(0, slash));
      candidates = parent.type === 'dir' ? parent.merged : [];
    }
    let view: LowerView = NOTHING;
    const merged: number[] = [];
    for (const i of candidates) {
      const lower = this.lowers[i]!;
      const st = await lstatOrNull(join(lower.diff, rel));
      if (!st) continue;
      // The topmost non-directory decides; below a directory it only ends the merge.
      if (isWhiteoutNode(st)) break;
      if (st.isDirectory()) {
        merged.push(i);
        if (lower.opaque.has(rel)) break;
        continue;
      }
      if (merged.length === 0) view = { type: st.isSymbolicLink() ? 'symlink' : 'other', merged: [], from: i };
      break;
    }
    if (merged.length > 0) view = { type: 'dir', merged };
    this.lowerViews.set(rel, view);
    return view;
  }

  /** `.wh.<name>`: hide <name> of the lower layers. This layer's own <name>, if any, stays (OCI image spec). */
  private async whiteout(parts: string[], entry: string): Promise<void> {
    await this.prepareParents(parts, entry);
    const rel = parts.join('/');
    const abs = join(this.diff, rel);
    const st = await lstatOrNull(abs);
    if (!st) {
      await writeFile(abs, '', { flag: 'wx', mode: 0o600 });
      this.whiteouts.add(rel);
    } else if (st.isDirectory()) {
      this.markOpaque(rel);
    }
  }

  private markOpaque(rel: string): void {
    this.opaque.add(rel);
    for (const key of [...this.walked.keys()]) if (isUnder(key, rel)) this.walked.delete(key);
  }

  /**
   * Create `rel` as a new, empty regular file (never through a symlink) and
   * return its descriptor. Whatever this layer already has there is removed
   * first, as removeExisting does: tried only when the exclusive create finds
   * something, so that the usual case costs one call.
   */
  private async createFile(rel: string): Promise<number> {
    const abs = join(this.diff, rel);
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
    try {
      return await openFd(abs, flags, 0o600);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    await this.removeExisting(rel);
    return await openFd(abs, flags, 0o600);
  }

  /** Remove what this layer has at `rel` so an entry can take its place, and forget everything recorded beneath it. */
  private async removeExisting(rel: string): Promise<{ wasWhiteout: boolean }> {
    const abs = join(this.diff, rel);
    const st = await lstatOrNull(abs);
    if (!st) return { wasWhiteout: false };
    const wasWhiteout = this.whiteouts.has(rel);
    if (st.isDirectory()) await rm(abs, { recursive: true, force: true });
    else await unlink(abs);
    this.forget(rel);
    return { wasWhiteout };
  }

  private forget(top: string): void {
    const under = (p: string): boolean => isUnder(p, top);
    for (const p of [...this.written]) if (under(p)) this.written.delete(p);
    for (const p of [...this.whiteouts]) if (under(p)) this.whiteouts.delete(p);
    for (const p of [...this.opaque]) if (under(p)) this.opaque.delete(p);
    for (const p of [...this.dirs.keys()]) if (under(p)) this.dirs.delete(p);
    for (const p of [...this.walked.keys()]) if (under(p)) this.walked.delete(p);
    this.xattrs = this.xattrs.filter((x) => !under(x.path));
    this.links = this.links.filter((l) => !under(l.path));
    for (const [p, node] of [...this.nodes]) {
      if (!under(p)) continue;
      this.nodes.delete(p);
      // Hard links to a node being replaced keep the node: the first link becomes it.
      const heirs = this.links.filter((l) => l.target === p);
      const heir = heirs[0];
      if (heir) {
        this.links = this.links.filter((l) => l !== heir);
        this.nodes.set(heir.path, { ...node, path: heir.path });
        for (const l of heirs.slice(1)) l.target = heir.path;
      }
    }
  }

  private async finish(): Promise<void> {
    const warnings = await applySpecialOps({
      root: this.diff,
      nodes: [...this.nodes.values()],
      whiteouts: [...this.whiteouts],
      links: this.links,
      xattrs: this.xattrs,
      opaque: [...this.opaque],
    }).catch((err: unknown) => {
      throw err instanceof BerthError ? new BerthError(err.kind, err.code, `layer ${this.diffId}: ${err.message}`) : err;
    });
    for (const w of warnings) this.warn(w);
    // Deepest first, so that a read-only directory is closed only after everything beneath it.
    const dirs = [...this.dirs].sort(([a], [b]) => b.split('/').length - a.split('/').length);
    for (const [rel, meta] of dirs) {
      const abs = join(this.diff, rel);
      await chmod(abs, meta.mode);
      await utimes(abs, meta.mtime, meta.mtime);
    }
  }
}
