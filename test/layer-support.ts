// Shared by the layer tests: layer tars built entry by entry (plain, gzip or
// zstd), what a directory tree looks like (to compare views), xattrs read back
// through python3 (Node has no getxattr), and overlay mounts cleaned up.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { sha256, type Digest } from '../src/image/digest.js';

export interface TarEntry {
  name: string;
  type?: tar.Header['type'];
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

const EPOCH = new Date('2020-01-02T03:04:05Z');

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? EPOCH,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, e.body ?? '', done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export type Compression = 'none' | 'gzip' | 'zstd';

export const MEDIA_TYPES: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

export function hasZstd(): boolean {
  return spawnSync('zstd', ['--version']).status === 0;
}

let blobs = 0;

/** A layer blob on disk, and the diffID of its uncompressed tar. */
export async function layerBlob(dir: string, entries: TarEntry[] | Buffer, compression: Compression = 'none'): Promise<{ path: string; diffId: Digest; mediaType: string }> {
  const tarBytes = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  const blob = compression === 'gzip' ? gzipSync(tarBytes)
    : compression === 'zstd' ? execFileSync('zstd', ['-q', '-c'], { input: tarBytes, maxBuffer: 1 << 30 })
      : tarBytes;
  const path = join(dir, `blob-${process.pid}-${++blobs}`);
  writeFileSync(path, blob);
  return { path, diffId: sha256(tarBytes), mediaType: MEDIA_TYPES[compression] };
}

/**
 * A tree as lines: "path type detail", sorted. Regular files show their
 * content, symlinks their target, devices major,minor; `meta` adds mode and
 * owner.
 */
export function listTree(root: string, opts: { meta?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = join(root, path);
      const st = lstatSync(abs);
      const meta = opts.meta ? ` ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}` : '';
      if (st.isDirectory()) {
        out.push(`${path} dir${meta}`);
        walk(path);
      } else if (st.isFile()) out.push(`${path} file${meta} ${readFileSync(abs, 'utf8')}`);
      else if (st.isSymbolicLink()) out.push(`${path} symlink${meta} -> ${readlinkSync(abs)}`);
      else if (st.isCharacterDevice()) out.push(`${path} char${meta} ${Math.floor(st.rdev / 256)},${st.rdev % 256}`);
      else if (st.isBlockDevice()) out.push(`${path} block${meta} ${Math.floor(st.rdev / 256)},${st.rdev % 256}`);
      else if (st.isFIFO()) out.push(`${path} fifo${meta}`);
      else out.push(`${path} other${meta}`);
    }
  };
  walk('');
  return out;
}

/** An xattr's value, read without following symlinks; undefined if it is not set. */
export function getXattr(path: string, name: string): string | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', [
    'import os, sys',
    'try:',
    '    sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())',
    'except OSError:',
    '    sys.exit(3)',
  ].join('\n'), path, name], { encoding: 'utf8' });
  if (r.status === 3) return undefined;
  if (r.status !== 0) throw new Error(`getxattr ${path} ${name}: ${r.stderr}`);
  return r.stdout;
}

/** Every mount point under `root`, deepest first, unmounted (cleanup after a failed test). */
export function unmountAllUnder(root: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.startsWith(root))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p]);
}

/** The layer store's whole tree, to check that a refused layer changed nothing. */
export function storeSnapshot(layersDir: string): string[] {
  return listTree(layersDir, { meta: true });
}
