// Tar in and out of a root filesystem: what `cp` and `export` move. Packing
// walks a tree with lstat (a symlink travels as a symlink) and opens files
// with O_NOFOLLOW. Extracting never follows anything the archive or the tree
// could have planted: each entry's directory is resolved inside the root
// (container-root.ts), its last component is replaced rather than followed,
// and `..` in a name refuses the archive.
import { constants as fsConstants, lstatSync, statfsSync, type Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, symlink, unlink, utimes } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BerthError, conflict, errnoCode, invalid, systemError } from '../util/errors.js';
import { applySpecialOps, scanXattrs, type NodeOp } from '../image/special-files.js';
import { END_OF_ARCHIVE, tarHeader, tarTreeEntry } from '../image/tar-writer.js';
import { lstatIfAny, resolveInRoot } from './container-root.js';

export interface Owner { uid: number; gid: number }

/** Kernel filesystems a walk does not enter: their files are the kernel's, not the container's. */
const PSEUDO_FILESYSTEMS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x64626720, // debugfs
  0x73636673, // securityfs
  0x1cd1, // devpts
  0x19800202, // mqueue
]);

/**
 * A tar of `hostPath` whose top entry is named `name` (with '' the top entry is
 * left out and its contents are at the archive's top level, as `export`
 * writes them). `owner` turns the ids on disk into those the headers show.
 */
export function packTree(hostPath: string, name: string, owner: (ids: Owner) => Owner, leaveOut: (name: string) => boolean = () => false): Readable {
  // /proc and /sys files say they are empty and then are not: a tar cannot hold them (nor can Docker's).
  // (statfs follows links: a link is checked by where it is, its directory.)
  const where = lstatSync(hostPath).isSymbolicLink() ? dirname(hostPath) : hostPath;
  if (PSEUDO_FILESYSTEMS.has(statfsSync(where).type)) throw invalid('KernelFilesystem', 'cannot copy from a kernel filesystem (/proc, /sys, …): its files are the kernel\'s, not the container\'s');
  return Readable.from((async function* () {
    // File capabilities travel with the files, as in Docker's archives (only they: other xattrs stay behind).
    const { xattrs } = await scanXattrs(hostPath, ['security.capability']);
    const walker = new PackWalker(owner, xattrs, leaveOut);
    const st = await lstat(hostPath);
    if (name === '') yield* walker.children(hostPath, '', '', st.dev);
    else yield* walker.entry(hostPath, name, '', st);
    yield END_OF_ARCHIVE;
  })(), { objectMode: false });
}

class PackWalker {
  /** dev:ino → the first name, for hard links. */
  private readonly seen = new Map<string, string>();

  constructor(private readonly owner: (ids: Owner) => Owner, private readonly xattrs: Map<string, Map<string, Buffer>>, private readonly leaveOut: (name: string) => boolean) {}

  /** `rel` is the path below the packed root, as the xattr scan names it. */
  async *entry(abs: string, name: string, rel: string, st: Stats): AsyncGenerator<Buffer> {
    const ids = this.owner({ uid: st.uid, gid: st.gid });
    const xattrs = this.xattrs.get(rel);
    const base = { name, mode: st.mode & 0o7777, uid: ids.uid, gid: ids.gid, mtime: st.mtime, ...(xattrs ? { xattrs } : {}) };
    if (st.isDirectory()) {
      yield tarHeader({ ...base, type: 'directory' });
      yield* this.children(abs, name, rel, st.dev);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && this.seen.has(key)) {
      yield tarHeader({ ...base, type: 'link', linkname: this.seen.get(key)! });
      return;
    }
    if (st.nlink > 1) this.seen.set(key, name);
    yield* tarTreeEntry(abs, st, base);
  }

  async *children(abs: string, name: string, rel: string, dev: number): AsyncGenerator<Buffer> {
    for (const child of (await readdir(abs)).sort()) {
      const childAbs = join(abs, child);
      const st = await lstat(childAbs);
      if (st.isDirectory() && st.dev !== dev && PSEUDO_FILESYSTEMS.has(statfsSync(childAbs).type)) continue;
      const childName = name === '' ? child : `${name}/${child}`;
      if (this.leaveOut(childName)) continue;
      yield* this.entry(childAbs, childName, rel === '' ? child : `${rel}/${child}`, st);
    }
  }
}

export interface ExtractOptions {
  /** The host path of the root every entry stays inside ('/' for the host). */
  root: string;
  /** The directory to extract into, as seen inside the root; it exists. */
  into: string;
  /** The owner to give an entry from its header's ids; undefined: leave it to whoever extracts (no chown). */
  owner: (ids: Owner) => Owner | undefined;
  /** How the archive's owner of the paths is named in errors ("container c", "the host"). */
  where: string;
}

/** Unpack a tar into `into`: what `cp` does at its destination. */
export async function extractArchive(source: Readable, opts: ExtractOptions): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(source, extract);
  feeding.catch(() => {});
  const dirTimes: { host: string; mtime: Date }[] = [];
  const nodes: NodeOp[] = [];
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const parts = header.name.split('/').filter((p) => p !== '' && p !== '.');
      if (parts.includes('..')) throw invalid('InvalidArchive', `refusing archive entry "${header.name}": its path climbs out of the destination`);
      if (parts.length === 0) {
        // The archive's own top directory ('./'): the destination is already there.
        entry.resume();
        continue;
      }
      const inside = posix.join(opts.into, ...parts);
      const parent = await ensureDirectory(opts.root, posix.dirname(inside), opts.where);
      const host = join(parent.host, parts.at(-1)!);
      const existing = await lstatIfAny(host);
      const wantDir = header.type === 'directory';
      if (existing?.isDirectory() && !wantDir) throw conflict('CannotOverwrite', `cannot overwrite directory "${inside}" with non-directory in ${opts.where}`);
      if (existing && !existing.isDirectory() && wantDir) throw conflict('CannotOverwrite', `cannot overwrite non-directory "${inside}" with directory in ${opts.where}`);
      if (existing && !wantDir) await unlink(host);
      const mode = (header.mode ?? 0o644) & 0o7777;
      const mtime = header.mtime ?? new Date();
      switch (header.type) {
        case 'directory':
          entry.resume();
          if (!existing) await mkdir(host, { mode: 0o700 });
          dirTimes.push({ host, mtime });
          break;
        case 'file':
        case 'contiguous-file': {
          const fh = await open(host, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
            }
          } finally {
            await fh.close();
          }
          break;
        }
        case 'symlink':
          entry.resume();
          await symlink(header.linkname ?? '', host);
          break;
        case 'link': {
          entry.resume();
          const targetParts = (header.linkname ?? '').split('/').filter((p) => p !== '' && p !== '.');
          if (targetParts.includes('..') || targetParts.length === 0) throw invalid('InvalidArchive', `refusing archive entry "${header.name}": its hard link target "${header.linkname}" is outside the archive`);
          const target = resolveInRoot(opts.root, posix.join(opts.into, ...targetParts), { followLast: false });
          if (!target.stat || target.stat.isDirectory()) throw invalid('InvalidArchive', `archive entry "${header.name}": hard link target "${header.linkname}" is not an earlier entry`);
          await link(target.host, host);
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          entry.resume();
          // Node cannot mknod: a placeholder now, the node in one batch at the end.
          await (await open(host, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600)).close();
          const ids = opts.owner({ uid: header.uid ?? 0, gid: header.gid ?? 0 }) ?? { uid: process.getuid!(), gid: process.getgid!() };
          nodes.push({
            path: posix.relative('/', posix.join(parent.inside, parts.at(-1)!)),
            kind: header.type === 'fifo' ? 'fifo' : header.type === 'block-device' ? 'block' : 'char',
            major: header.devmajor ?? 0, minor: header.devminor ?? 0, mode, ...ids, mtime: Math.floor(mtime.getTime() / 1000),
          });
          continue;
        }
        default:
          // pax and GNU extension headers are read by tar-stream; anything else has no place in a filesystem.
          entry.resume();
          continue;
      }
      const ids = opts.owner({ uid: header.uid ?? 0, gid: header.gid ?? 0 });
      if (ids) await lchown(host, ids.uid, ids.gid);
      if (header.type === 'symlink') {
        await lutimes(host, mtime, mtime);
      } else {
        // After chown, which clears set-id bits.
        await chmod(host, mode);
        if (header.type !== 'directory') await utimes(host, mtime, mtime);
      }
    }
    await feeding;
    if (nodes.length > 0) await applySpecialOps({ root: opts.root, nodes, whiteouts: [], links: [], xattrs: [], opaque: [] });
    // Last, deepest first: creating entries inside a directory moves its mtime.
    for (const d of dirTimes.reverse()) await utimes(d.host, d.mtime, d.mtime);
  } catch (err) {
    source.destroy();
    extract.destroy();
    if (err instanceof BerthError) throw err;
    throw systemError('ExtractFailed', `copying into ${opts.where} failed: ${(err as Error).message}`, err);
  }
}

/**
 * The directory `inside` (resolved in `root`), made with its missing parents
 * (mode 0755, as tar makes them) if absent.
 */
async function ensureDirectory(root: string, inside: string, where: string): Promise<{ host: string; inside: string }> {
  const resolved = resolveInRoot(root, inside, { followLast: true });
  if (resolved.stat?.isDirectory()) return resolved;
  if (resolved.stat) throw conflict('NotADirectory', `cannot copy into "${resolved.inside}" in ${where}: it is not a directory`);
  const parent = await ensureDirectory(root, posix.dirname(resolved.inside), where);
  const host = join(parent.host, posix.basename(resolved.inside));
  try {
    await mkdir(host, { mode: 0o755 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    // Made meanwhile (a symlink, perhaps): resolve again.
    return ensureDirectory(root, inside, where);
  }
  return { host, inside: posix.join(parent.inside, posix.basename(resolved.inside)) };
}
