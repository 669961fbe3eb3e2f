// A tar reader for layers: every format a layer arrives in (ustar, pax, GNU,
// V7), with what a general-purpose reader loses kept intact:
//
// - pax records as bytes: `SCHILY.xattr.security.capability` (a file
//   capability, what makes an image's `ping` work) is binary, and a reader
//   that decodes records as UTF-8 destroys it;
// - sparse files, as GNU tar writes them: the old GNU 'S' entry (its map in
//   the header and in extension blocks after it) and the pax forms 0.0
//   (repeated GNU.sparse.offset/numbytes), 0.1 (GNU.sparse.map) and 1.0 (the
//   map at the start of the data). The content comes as pieces at their
//   offsets, so that a writer can leave the holes as holes;
// - entries of a type it does not know, handed over with their type flag
//   (and their content skipped) so the caller can say what it skipped.
//
// Global pax headers ('g') are read past and not applied, as Go's reader
// (and so Docker) does. Everything after the end-of-archive marker is read
// too (the layer's digest covers it) but not interpreted.

/** A tar stream that is not one: malformed, truncated, or a source that failed. */
export class TarFormatError extends Error {}

export type TarEntryType = 'file' | 'contiguous-file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

/** A run of data in a sparse file; the bytes between runs are holes. */
export interface SparseRegion {
  offset: number;
  length: number;
}

export interface TarEntry {
  name: string;
  /** null: a type this reader does not know; `typeflag` says which. */
  type: TarEntryType | null;
  /** The header's type flag as a character ('0', 'S', …; '\0' for old regular files). */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** The file's size; for a sparse file, with its holes. */
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes (`SCHILY.xattr.<name>` records), values as the bytes they are. */
  xattrs: Map<string, Buffer>;
  /** For a sparse file, where its data is (ascending); null for any other entry. */
  sparse: SparseRegion[] | null;
  /** The content as pieces at their offsets in the file. What is not read is skipped. */
  body: AsyncIterable<{ offset: number; data: Buffer }>;
}

const BLOCK = 512;
/** Pax headers, GNU long names and sparse maps larger than this are refused (Go's reader: the same 1 MiB). */
const MAX_METADATA = 1 << 20;
const EMPTY = Buffer.alloc(0);

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'contiguous-file', '1': 'link', '2': 'symlink',
  '3': 'character-device', '4': 'block-device', '5': 'directory', '6': 'fifo',
};

/** The bytes of a stream, taken in exact amounts or streamed through in the pieces they came in. */
class ByteSource {
  private head: Buffer = EMPTY;
  private ended = false;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    let r: IteratorResult<Buffer>;
    try {
      r = await this.chunks.next();
    } catch (err) {
      throw new TarFormatError((err as Error).message, { cause: err });
    }
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.head = this.head.length === 0 ? r.value : Buffer.concat([this.head, r.value]);
    return true;
  }

  /** Whether the stream ended exactly here. */
  async atEnd(): Promise<boolean> {
    return this.head.length === 0 && !(await this.more());
  }

  /** Exactly `n` bytes; `what` names them if the stream ends first. */
  async read(n: number, what: string): Promise<Buffer> {
    while (this.head.length < n) {
      if (!(await this.more())) throw new TarFormatError(`unexpected end of data in ${what}`);
    }
    const out = this.head.subarray(0, n);
    this.head = this.head.subarray(n);
    return out;
  }

  /** `n` bytes in pieces, without copying. */
  async *stream(n: number, what: string): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (this.head.length === 0 && !(await this.more())) throw new TarFormatError(`unexpected end of data in ${what}`);
      const piece = this.head.subarray(0, Math.min(n, this.head.length));
      this.head = this.head.subarray(piece.length);
      n -= piece.length;
      yield piece;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _piece of this.stream(n, what)) { /* skipped */ }
  }

  /** Read to the end, for the digest; nothing in it is looked at. */
  async drain(): Promise<void> {
    this.head = EMPTY;
    while (await this.more()) this.head = EMPTY;
  }
}

function padding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

/** A NUL-terminated string field. */
function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** An octal field, or GNU's base-256 (first byte's high bit set) for values octal cannot hold. */
function numeric(block: Buffer, offset: number, length: number, what: string): number {
  const field = block.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    // Two's complement, big-endian, in the bytes after the marker bit.
    const negative = (field[0]! & 0x40) !== 0;
    let value = 0n;
    for (const [i, byte] of field.entries()) value = (value << 8n) | BigInt(i === 0 ? byte & 0x7f : byte);
    if (negative) value -= 1n << BigInt(field.length * 8 - 1);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`${what} is out of range`);
    return Number(value);
  }
  const digits = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarFormatError(`${what} "${digits}" is not an octal number`);
  return parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8, 'header checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some old tars summed signed chars: accepted as Go and GNU tar accept them.
  return stored === unsigned || stored === signed;
}

/** Records of a pax header: `<length> <key>=<value>\n`, values kept as bytes. */
function paxRecords(data: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, at);
    const lengthText = space < 0 ? '' : data.subarray(at, space).toString('latin1');
    const length = /^[0-9]{1,9}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!(length > space - at + 1) || at + length > data.length || data[at + length - 1] !== 0x0a) {
      throw new TarFormatError(`malformed pax record at byte ${at} of its header`);
    }
    const record = data.subarray(space + 1, at + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError(`malformed pax record at byte ${at} of its header (no key)`);
    out.push([record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1))]);
    at += length;
  }
  return out;
}

function decimal(value: string, what: string): number {
  if (!/^[0-9]+$/.test(value)) throw new TarFormatError(`${what} "${value}" is not a number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`${what} ${value} is out of range`);
  return n;
}

/** Regions must ascend without overlapping and lie inside the file. */
function checkSparse(regions: SparseRegion[], size: number, name: string): void {
  let end = 0;
  for (const r of regions) {
    if (r.offset < end || r.offset + r.length > size) throw new TarFormatError(`entry "${name}": its sparse map is invalid (regions overlap, descend or pass its size ${size})`);
    end = r.offset + r.length;
  }
}

function pairs(numbers: number[], name: string): SparseRegion[] {
  if (numbers.length % 2 !== 0) throw new TarFormatError(`entry "${name}": its sparse map has an odd number of values`);
  const out: SparseRegion[] = [];
  for (let i = 0; i < numbers.length; i += 2) out.push({ offset: numbers[i]!, length: numbers[i + 1]! });
  return out;
}

/** The old GNU format's sparse entries: `count` pairs of 12-byte octal fields from `offset`; an empty one ends the list. */
function oldGnuRegions(block: Buffer, offset: number, count: number, into: SparseRegion[]): void {
  for (let i = 0; i < count; i++) {
    const at = offset + i * 24;
    if (block[at] === 0) return;
    into.push({ offset: numeric(block, at, 12, 'sparse offset'), length: numeric(block, at + 12, 12, 'sparse length') });
  }
}

interface PendingMeta {
  pax: [string, Buffer][] | null;
  longName: string | null;
  longLink: string | null;
}

/**
 * The entries of a tar stream, in order. Each entry's body must be read (or
 * left) before asking for the next; what is left is skipped. Throws
 * TarFormatError for anything that is not a tar, or ends too early.
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const src = new ByteSource(source[Symbol.asyncIterator]());
  let meta: PendingMeta = { pax: null, longName: null, longLink: null };
  for (;;) {
    if (await src.atEnd()) return; // no end-of-archive marker: accepted, as Go's reader does
    const block = await src.read(BLOCK, 'a header');
    if (block.every((b) => b === 0)) {
      await src.drain();
      return;
    }
    if (!checksumOk(block)) throw new TarFormatError('invalid tar header (bad checksum)');
    const magic = block.subarray(257, 263).toString('latin1');
    const gnu = magic === 'ustar ' && block[263] === 0x20 && block[264] === 0;
    const ustar = magic === 'ustar\0';
    const typeflag = String.fromCharCode(block[156]!);
    let name = text(block, 0, 100);
    if (ustar && block[345] !== 0) name = `${text(block, 345, 155)}/${name}`;
    const stored = numeric(block, 124, 12, 'size');

    if (typeflag === 'x' || typeflag === 'X' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (stored > MAX_METADATA) throw new TarFormatError(`a ${typeflag === 'L' || typeflag === 'K' ? 'long name' : 'pax header'} of ${stored} bytes (more than ${MAX_METADATA})`);
      const data = await src.read(stored + padding(stored), 'an extended header');
      const body = data.subarray(0, stored);
      if (typeflag === 'L') meta.longName = text(body, 0, body.length);
      else if (typeflag === 'K') meta.longLink = text(body, 0, body.length);
      else if (typeflag !== 'g') meta.pax = paxRecords(body); // a second one replaces the first, as Go reads it
      continue;
    }

    const entry: TarEntry = {
      name,
      type: TYPES[typeflag] ?? null,
      typeflag,
      mode: numeric(block, 100, 8, 'mode'),
      uid: numeric(block, 108, 8, 'uid'),
      gid: numeric(block, 116, 8, 'gid'),
      mtime: new Date(numeric(block, 136, 12, 'mtime') * 1000),
      size: stored,
      linkname: text(block, 157, 100),
      devmajor: ustar || gnu ? numeric(block, 329, 8, 'device major') : 0,
      devminor: ustar || gnu ? numeric(block, 337, 8, 'device minor') : 0,
      xattrs: new Map(),
      sparse: null,
      body: (async function* () { /* set below */ })(),
    };
    if (meta.longName !== null) entry.name = meta.longName;
    if (meta.longLink !== null) entry.linkname = meta.longLink;
    // Old tars mark a directory by a trailing slash on a regular file.
    if (typeflag === '0' || typeflag === '\0') {
      if (entry.name.endsWith('/')) entry.type = 'directory';
    }
    let dataSize = stored;
    let regions: SparseRegion[] | null = null;
    if (typeflag === 'S' && gnu) {
      regions = [];
      oldGnuRegions(block, 386, 4, regions);
      for (let extended = block[482] !== 0; extended;) {
        if (regions.length * 24 > MAX_METADATA) throw new TarFormatError(`entry "${entry.name}": its sparse map is larger than ${MAX_METADATA} bytes`);
        const ext = await src.read(BLOCK, `the sparse map of "${entry.name}"`);
        oldGnuRegions(ext, 0, 21, regions);
        extended = ext[504] !== 0;
      }
      entry.type = 'file';
      entry.size = numeric(block, 483, 12, 'sparse file size');
    }
    const sparsePax = new Map<string, string>();
    const sparse00: number[] = [];
    for (const [key, value] of meta.pax ?? []) {
      if (key.startsWith('SCHILY.xattr.')) {
        entry.xattrs.set(key.slice('SCHILY.xattr.'.length), value);
        continue;
      }
      const v = value.toString('utf8');
      switch (key) {
        case 'path': entry.name = v; break;
        case 'linkpath': entry.linkname = v; break;
        case 'size': dataSize = decimal(v, 'pax size'); entry.size = dataSize; break;
        case 'uid': entry.uid = decimal(v, 'pax uid'); break;
        case 'gid': entry.gid = decimal(v, 'pax gid'); break;
        case 'mtime': {
          const seconds = Number(v);
          if (!Number.isFinite(seconds)) throw new TarFormatError(`pax mtime "${v}" is not a number`);
          entry.mtime = new Date(seconds * 1000);
          break;
        }
        case 'GNU.sparse.offset':
        case 'GNU.sparse.numbytes':
          sparse00.push(decimal(v, key));
          break;
        default:
          if (key.startsWith('GNU.sparse.')) sparsePax.set(key, v);
      }
    }
    meta = { pax: null, longName: null, longLink: null };
    const major = sparsePax.get('GNU.sparse.major');
    const minor = sparsePax.get('GNU.sparse.minor');
    if (major !== undefined || sparsePax.has('GNU.sparse.map') || sparse00.length > 0 || sparsePax.has('GNU.sparse.size')) {
      const name = sparsePax.get('GNU.sparse.name');
      if (name !== undefined) entry.name = name;
      if (major === '1' && minor === '0') {
        entry.size = decimal(sparsePax.get('GNU.sparse.realsize') ?? '', 'GNU.sparse.realsize');
        const map = await readSparseMap1(src, dataSize, entry.name);
        regions = map.regions;
        dataSize -= map.bytes;
      } else if (major === undefined || (major === '0' && (minor === '0' || minor === '1'))) {
        entry.size = decimal(sparsePax.get('GNU.sparse.size') ?? '', 'GNU.sparse.size');
        const map = sparsePax.get('GNU.sparse.map');
        regions = map !== undefined
          ? pairs(map === '' ? [] : map.split(',').map((n) => decimal(n, 'GNU.sparse.map value')), entry.name)
          : pairs(sparse00, entry.name);
      } else {
        throw new TarFormatError(`entry "${entry.name}": sparse format ${major}.${minor ?? '?'} is not one this reader knows`);
      }
      entry.type = 'file';
    }
    if (regions !== null) {
      checkSparse(regions, entry.size, entry.name);
      const sum = regions.reduce((n, r) => n + r.length, 0);
      if (sum !== dataSize) throw new TarFormatError(`entry "${entry.name}": its sparse map holds ${sum} bytes, the entry ${dataSize}`);
      entry.sparse = regions;
    }
    // Directories, links and devices carry no data whatever their size field says (Go's reader agrees).
    if (entry.type !== null && entry.type !== 'file' && entry.type !== 'contiguous-file') dataSize = 0;

    let unread = dataSize;
    const what = `the content of "${entry.name}"`;
    const layout = regions ?? [{ offset: 0, length: dataSize }];
    entry.body = (async function* () {
      for (const region of layout) {
        let offset = region.offset;
        for await (const data of src.stream(region.length, what)) {
          unread -= data.length;
          yield { offset, data };
          offset += data.length;
        }
      }
    })();
    yield entry;
    await src.skip(unread + padding(dataSize), what);
  }
}

/** GNU sparse 1.0: the map leads the data, as decimal lines (count, then offset and length pairs), padded to a block. */
async function readSparseMap1(src: ByteSource, dataSize: number, name: string): Promise<{ regions: SparseRegion[]; bytes: number }> {
  let bytes = 0;
  let textSoFar = '';
  const numbers: number[] = [];
  let wanted = -1;
  while (wanted < 0 || numbers.length < wanted) {
    if (bytes + BLOCK > Math.min(dataSize, MAX_METADATA)) throw new TarFormatError(`entry "${name}": its sparse map is truncated or larger than ${MAX_METADATA} bytes`);
    textSoFar += (await src.read(BLOCK, `the sparse map of "${name}"`)).toString('latin1');
    bytes += BLOCK;
    const lines = textSoFar.split('\n');
    textSoFar = lines.pop()!;
    for (const line of lines) {
      if (wanted >= 0 && numbers.length >= wanted) break;
      const n = decimal(line, 'sparse map value');
      if (wanted < 0) wanted = n * 2;
      else numbers.push(n);
    }
  }
  return { regions: pairs(numbers, name), bytes };
}
