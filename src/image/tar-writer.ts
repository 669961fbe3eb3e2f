// Tar entries as bytes, for the tars berth writes from a filesystem (a
// container's changes for `commit`, its whole tree for `export`, `cp`). Pax
// records are written as bytes, so an extended attribute travels whole:
// `security.capability` is binary, and a writer that builds records as text
// cannot carry it. Names, link targets and numbers that ustar cannot hold go
// into the same pax header (one per entry: Go's reader keeps only the last).
import { closeSync, constants as fsConstants, openSync, read as readCallback, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TarEntryType } from './tar-reader.js';

export interface TarWriteEntry {
  name: string;
  type: Exclude<TarEntryType, 'contiguous-file'>;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** Bytes of content that follow (files only). */
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
}

const BLOCK = 512;
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
const TYPEFLAGS: Record<TarWriteEntry['type'], string> = {
  file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6',
};
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const CAPABILITY_XATTR = 'security.capability';
/** struct vfs_ns_cap_data (revision 3) is revision 2's 20 bytes plus the root uid of its user namespace. */
const VFS_CAP_V2_SIZE = 20;

const readFd = promisify(readCallback);

function ascii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(value.toString(8).padStart(length - 1, '0'), offset, length - 1, 'latin1');
}

/** GNU's base-256 for numbers octal cannot hold (readers accept it in any format). */
function base256(block: Buffer, offset: number, length: number, value: number): void {
  let v = BigInt(value);
  for (let i = length - 1; i > 0; i--) {
    block[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[offset] = 0x80;
}

/** `<length> <key>=<value>\n`, where the length counts itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let length = body.length + String(body.length).length;
  if (String(length).length > String(body.length).length) length++;
  return Buffer.concat([Buffer.from(String(length), 'latin1'), body]);
}

/** ustar's split of a long name into prefix (155) and name (100) at a slash; null if none fits. */
function splitName(name: string): { prefix: string; name: string } | null {
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return null;
}

/**
 * A file capability as Docker writes it into an archive: revision 3 (bound
 * to the root of a user namespace) becomes revision 2, since that root means
 * nothing where the archive is unpacked.
 */
function portableXattr(name: string, value: Buffer): Buffer {
  if (name !== CAPABILITY_XATTR || value.length <= VFS_CAP_V2_SIZE || value[3] !== 3) return value;
  const v2 = Buffer.from(value.subarray(0, VFS_CAP_V2_SIZE));
  v2[3] = 2;
  return v2;
}

function block(fields: { name: string; prefix: string; typeflag: string; mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(fields.name, 0, 100, 'utf8');
  octal(b, 100, 8, fields.mode);
  octal(b, 108, 8, Math.min(fields.uid, MAX_OCTAL_7));
  octal(b, 116, 8, Math.min(fields.gid, MAX_OCTAL_7));
  octal(b, 124, 12, Math.min(fields.size, MAX_OCTAL_11));
  octal(b, 136, 12, Math.max(0, Math.min(fields.mtime, MAX_OCTAL_11)));
  b.write(fields.typeflag, 156, 1, 'latin1');
  b.write(fields.linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  for (const [offset, value] of [[329, fields.devmajor], [337, fields.devminor]] as const) {
    if (value > MAX_OCTAL_7) base256(b, offset, 8, value);
    else octal(b, offset, 8, value);
  }
  b.write(fields.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function padding(n: number): Buffer {
  return Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
}

/** The header of one entry: a pax header first if ustar cannot say everything, then the ustar block. */
export function tarHeader(entry: TarWriteEntry): Buffer {
  const { name } = entry;
  const linkname = entry.linkname ?? '';
  const size = entry.type === 'file' ? entry.size ?? 0 : 0;
  const mtime = Math.floor(entry.mtime.getTime() / 1000);
  const pax: [string, Buffer][] = [];
  const split = ascii(name) ? splitName(name) : null;
  if (split === null) pax.push(['path', Buffer.from(name, 'utf8')]);
  if (!ascii(linkname) || linkname.length > 100) pax.push(['linkpath', Buffer.from(linkname, 'utf8')]);
  if (entry.uid > MAX_OCTAL_7) pax.push(['uid', Buffer.from(String(entry.uid))]);
  if (entry.gid > MAX_OCTAL_7) pax.push(['gid', Buffer.from(String(entry.gid))]);
  if (size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(size))]);
  if (mtime < 0 || mtime > MAX_OCTAL_11) pax.push(['mtime', Buffer.from(String(mtime))]);
  for (const [xattr, value] of [...(entry.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    pax.push([`SCHILY.xattr.${xattr}`, portableXattr(xattr, value)]);
  }
  const fields = {
    name: split?.name ?? name.slice(-100).replace(/[^\x01-\x7f]/g, '_'),
    prefix: split?.prefix ?? '',
    typeflag: TYPEFLAGS[entry.type],
    mode: entry.mode & 0o7777,
    uid: entry.uid,
    gid: entry.gid,
    size,
    mtime,
    linkname: ascii(linkname) ? linkname.slice(0, 100) : '',
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
  };
  const main = block(fields);
  if (pax.length === 0) return main;
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const base = fields.name.slice(fields.name.lastIndexOf('/', fields.name.length - 2) + 1);
  const paxBlock = block({ ...fields, name: `PaxHeaders/${base}`.slice(0, 100), prefix: '', typeflag: 'x', size: records.length, linkname: '' });
  return Buffer.concat([paxBlock, records, padding(records.length), main]);
}

/**
 * A file's content from `fd` (which this closes), exactly `size` bytes and
 * the padding after them. A file that shrank while it was read fails the
 * archive rather than leave a tar whose entries are misaligned; what grew is
 * cut at the size the header says.
 */
export async function* tarFileContent(fd: number, size: number, name: string): AsyncGenerator<Buffer> {
  try {
    for (let done = 0; done < size;) {
      const chunk = Buffer.allocUnsafe(Math.min(size - done, 1 << 18));
      const { bytesRead } = await readFd(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) throw new Error(`${name}: the file shrank to ${done} bytes while it was read (the header says ${size})`);
      done += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
  }
  yield padding(size);
}

/**
 * What lstat found at `abs`, other than a directory, as tar bytes: a file
 * with its content, a symlink, a device node or a FIFO. A socket belongs to a
 * running process and is left out, as Docker does.
 */
export async function* tarTreeEntry(abs: string, st: Stats, base: Omit<TarWriteEntry, 'type'>): AsyncGenerator<Buffer> {
  if (st.isFile()) {
    // Opened before the entry starts: a file that cannot be read fails the archive, not half an entry.
    const fd = openSync(abs, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    yield tarHeader({ ...base, type: 'file', size: st.size });
    yield* tarFileContent(fd, st.size, base.name);
  } else if (st.isSymbolicLink()) {
    yield tarHeader({ ...base, type: 'symlink', linkname: await readlink(abs) });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    const { major, minor } = splitDev(st.rdev);
    yield tarHeader({ ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
  } else if (st.isFIFO()) {
    yield tarHeader({ ...base, type: 'fifo' });
  }
}

/** Linux's dev_t encoding (glibc gnu_dev_major/minor), on a JavaScript number. */
export function splitDev(rdev: number): { major: number; minor: number } {
  const lo = rdev % 2 ** 32;
  const hi = Math.floor(rdev / 2 ** 32);
  const major = (((lo >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0;
  const minor = ((lo & 0xff) | (((lo >>> 12) | (hi << 20)) & 0xffffff00)) >>> 0;
  return { major, minor };
}
