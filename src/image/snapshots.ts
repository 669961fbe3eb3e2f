// Snapshots: a container's root filesystem is an overlay mount. The image's
// unpacked layers (layers.ts) are the read-only lower dirs, stacked top first;
// the container's own writes go to an upper dir, and overlayfs needs an empty
// work dir on the same filesystem as the upper:
//
//   <dir>/upper/    what the container changed (whiteouts for what it deleted)
//   <dir>/work/     overlayfs's scratch space
//   <dir>/rootfs/   the merged view, the mount point
//
// The kernel takes a mount's options in one page (4096 bytes). Full layer
// paths would fit a few dozen layers, so the lower dirs are named by their
// short links (`l/<26 hex>`) relative to the layer store, and mount(8) runs
// with the store as its working directory — Docker's overlay2 does the same.
//
// diffTar turns an upper dir back into a layer tar, overlay's whiteouts into
// the `.wh.` files of the image format: the changeset `commit` and `export`
// need.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { systemError } from '../util/errors.js';
import type { ChainId, LayerStore } from './layers.js';
import { scanXattrs } from './special-files.js';
import { END_OF_ARCHIVE, tarHeader, tarTreeEntry } from './tar-writer.js';

const PAGE = 4096;
/** Overlay features that would put in the upper dir what a layer tar cannot say (redirects, metadata-only copies, index origins). */
const OFF_FEATURES = ['index', 'redirect_dir', 'metacopy'] as const;

/** Mount the overlay of `chainId` (undefined: no layers), with Docker's init layer for a container, and `dir`/upper on `dir`/rootfs; returns the rootfs path. Idempotent. */
export function mountRootfs(layers: LayerStore, chainId: ChainId | undefined, dir: string, opts: { initLayer?: boolean } = {}): string {
  const rootfs = join(dir, 'rootfs');
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  for (const d of [rootfs, upper, work]) mkdirSync(d, { recursive: true, mode: 0o755 });
  if (isMountPoint(rootfs)) return rootfs;
  const lowers = chainId === undefined ? [] : layers.shortLowerDirs(chainId);
  if (opts.initLayer) lowers.unshift(initLayer(dir));
  if (lowers.length === 0) {
    // Overlay needs a lower dir: an image without layers has an empty one.
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true, mode: 0o755 });
    lowers.push(empty);
  }
  for (const p of [upper, work, ...lowers]) {
    // Overlay's option syntax reserves these; berth's own paths never need them.
    if (/[,:\\]/.test(p)) throw systemError('MountFailed', `cannot mount an overlay on ${rootfs}: path "${p}" contains ",", ":" or "\\"`);
  }
  const options = [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`, ...offOptions()].join(',');
  if (Buffer.byteLength(options) >= PAGE) {
    throw systemError('MountFailed', `cannot mount an overlay of ${lowers.length} layers on ${rootfs}: its options take ${Buffer.byteLength(options)} bytes, the kernel takes at most ${PAGE - 1}`);
  }
  try {
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', options, rootfs], { cwd: layers.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw systemError('MountFailed', `cannot mount an overlay on ${rootfs}: ${stderrOf(err)}`, err);
  }
  return rootfs;
}

/**
 * What Docker's init layer gives every container, between the image and the
 * container's own changes: `/.dockerenv` (programs test for it) and
 * `/etc/mtab` as a link to the kernel's mount table. Being a layer of its own,
 * none of it is a change of the container's: not in `diff` or `commit`.
 */
export const INIT_LAYER_ENTRIES = ['.dockerenv', 'etc/mtab'] as const;

function initLayer(dir: string): string {
  const init = join(dir, 'init');
  if (!existsSync(join(init, 'etc', 'mtab'))) {
    mkdirSync(join(init, 'etc'), { recursive: true, mode: 0o755 });
    writeFileSync(join(init, '.dockerenv'), '', { mode: 0o755 });
    symlinkSync('/proc/mounts', join(init, 'etc', 'mtab'));
  }
  return init;
}

/** Whether `rel` (a path inside the root, no leading '/') shows the init layer's entry rather than one the container made. */
export function isInitLayerEntry(dir: string, rel: string): boolean {
  if (!(INIT_LAYER_ENTRIES as readonly string[]).includes(rel)) return false;
  try {
    lstatSync(join(dir, 'upper', rel));
    return false;
  } catch {
    return true;
  }
}

/** Unmount `dir`/rootfs; nothing to do if it is not mounted. */
export function unmountRootfs(dir: string): void {
  const rootfs = join(dir, 'rootfs');
  if (!isMountPoint(rootfs)) return;
  try {
    execFileSync('umount', [rootfs], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (!isMountPoint(rootfs)) return;
    // Still busy (a process has a file open there): detach now, the kernel finishes when it is let go.
    try {
      execFileSync('umount', ['-l', rootfs], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      throw systemError('UnmountFailed', `cannot unmount ${rootfs}: ${stderrOf(err)}`, err);
    }
  }
}

/** Whether `path` is a mount point in this mount namespace. */
export function isMountPoint(path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined && unescapeMountinfo(field) === real) return true;
  }
  return false;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function offOptions(): string[] {
  const params = '/sys/module/overlay/parameters';
  // Without the module loaded there is nothing to ask: every kernel berth supports knows all three.
  if (!existsSync(params)) return OFF_FEATURES.map((f) => `${f}=off`);
  return OFF_FEATURES.filter((f) => existsSync(join(params, f))).map((f) => `${f}=off`);
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: Buffer | string }).stderr;
  const text = stderr === undefined ? '' : String(stderr).trim();
  return text || (err as Error).message;
}

/**
 * The container's changes as a layer tar: `dir`/upper with overlay whiteouts
 * (character devices 0/0) turned into `.wh.<name>` files and opaque
 * directories into `<dir>/.wh..wh..opq`, entries in lexical order. The upper
 * dir must not change while the stream is read (the container is stopped or
 * paused).
 */
export function diffTar(dir: string): Readable {
  const upper = join(dir, 'upper');
  return Readable.from((async function* () {
    const { opaque, xattrs } = await scanXattrs(upper);
    const walker = new DiffWalker(upper, new Set(opaque), xattrs);
    if (walker.opaque.has('')) yield walker.marker('', await lstat(upper));
    yield* walker.walk('');
    yield END_OF_ARCHIVE;
  })(), { objectMode: false });
}

class DiffWalker {
  /** dev:ino → the first path, for hard links. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly upper: string,
    readonly opaque: Set<string>,
    private readonly xattrs: Map<string, Map<string, Buffer>>,
  ) {}

  async *walk(rel: string): AsyncGenerator<Buffer> {
    const names = (await readdir(join(this.upper, rel))).sort();
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = join(this.upper, path);
      const st = await lstat(abs);
      const xattrs = this.xattrs.get(path);
      const base = { name: path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, ...(xattrs ? { xattrs } : {}) };
      if (st.isDirectory()) {
        yield tarHeader({ ...base, type: 'directory' });
        if (this.opaque.has(path)) yield this.marker(path, st);
        yield* this.walk(path);
      } else if (st.isCharacterDevice() && st.rdev === 0) {
        // Docker's form of a whiteout: an empty regular file, mode 0600.
        yield tarHeader({ name: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`, type: 'file', size: 0, mode: 0o600, uid: st.uid, gid: st.gid, mtime: st.mtime });
      } else if (st.nlink > 1 && this.seen.has(`${st.dev}:${st.ino}`)) {
        yield tarHeader({ ...base, type: 'link', linkname: this.seen.get(`${st.dev}:${st.ino}`)! });
      } else {
        if (st.nlink > 1) this.seen.set(`${st.dev}:${st.ino}`, path);
        yield* tarTreeEntry(abs, st, base);
      }
    }
  }

  /** `<rel>/.wh..wh..opq` for an opaque directory, with the directory's owner and mode as Docker writes it. */
  marker(rel: string, st: { mode: number; uid: number; gid: number; mtime: Date }): Buffer {
    return tarHeader({ name: rel === '' ? '.wh..wh..opq' : `${rel}/.wh..wh..opq`, type: 'file', size: 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime });
  }
}
