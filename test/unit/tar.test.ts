// The tar reader and writer without root: what one writes the other reads
// back byte for byte (binary xattrs, long and non-ASCII names, large ids),
// GNU tar's own output is read as GNU tar meant it, and malformed input is a
// TarFormatError, never a hang or a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, TarFormatError, type TarEntry } from '../../src/image/tar-reader.js';
import { END_OF_ARCHIVE, tarHeader, type TarWriteEntry } from '../../src/image/tar-writer.js';

interface Read { entry: TarEntry; content: Buffer }

async function readAll(bytes: Buffer, pieceSize = 7): Promise<Read[]> {
  // Fed in small pieces, so that headers and records straddle them.
  async function* pieces(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i += pieceSize) yield bytes.subarray(i, i + pieceSize);
  }
  const out: Read[] = [];
  for await (const entry of readTar(pieces())) {
    const parts: Buffer[] = [];
    for await (const { data } of entry.body) parts.push(Buffer.from(data));
    out.push({ entry, content: Buffer.concat(parts) });
  }
  return out;
}

function withBody(entry: TarWriteEntry, body = Buffer.alloc(0)): Buffer {
  return Buffer.concat([tarHeader({ ...entry, size: body.length }), body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** One pax record, its length counting itself. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + String(body.length).length;
  if (String(length).length > String(body.length).length) length++;
  return `${length}${body}`;
}

const base = { mode: 0o644, uid: 0, gid: 0, mtime: new Date(1_700_000_000_000) };

test('binary xattrs, long and non-ASCII names, large ids and long link targets come back as written', async () => {
  const capability = Buffer.from('0100000280200000000000000000000000000000', 'hex');
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
  const tar = Buffer.concat([
    withBody({ ...base, name: 'bin/ping', type: 'file', xattrs: new Map([['security.capability', capability], ['user.note', Buffer.from([0xff, 0])]]) }, Buffer.from('ELF')),
    withBody({ ...base, name: long, type: 'file', uid: 3_000_000, gid: 4_000_000 }),
    withBody({ ...base, name: 'häfen/ß', type: 'file' }),
    withBody({ ...base, name: 'link', type: 'symlink', linkname: `/${'t'.repeat(150)}` }),
    END_OF_ARCHIVE,
  ]);
  const [ping, longFile, nonAscii, link] = await readAll(tar);
  assert.equal(ping!.entry.name, 'bin/ping');
  assert.deepEqual(ping!.entry.xattrs.get('security.capability'), capability);
  assert.deepEqual(ping!.entry.xattrs.get('user.note'), Buffer.from([0xff, 0]));
  assert.equal(ping!.content.toString(), 'ELF');
  assert.equal(longFile!.entry.name, long);
  assert.equal(longFile!.entry.uid, 3_000_000);
  assert.equal(longFile!.entry.gid, 4_000_000);
  assert.equal(nonAscii!.entry.name, 'häfen/ß');
  assert.equal(link!.entry.linkname, `/${'t'.repeat(150)}`);
});

test('a revision 3 file capability is written as revision 2, as Docker writes it', async () => {
  const v3 = Buffer.from('01000003802000000000000000000000000000000a000000', 'hex');
  const [entry] = await readAll(Buffer.concat([withBody({ ...base, name: 'x', type: 'file', xattrs: new Map([['security.capability', v3]]) }), END_OF_ARCHIVE]));
  assert.deepEqual(entry!.entry.xattrs.get('security.capability'), Buffer.from('0100000280200000000000000000000000000000', 'hex'));
});

test('GNU tar\'s sparse files, in all four of its forms, are read as it wrote them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-unit-'));
  try {
    // 1 MiB with data at 0 and at 512 KiB.
    execFileSync('sh', ['-c', 'printf A > f && dd if=/dev/zero of=f bs=1 count=0 seek=524288 2>/dev/null && printf B >> f && truncate -s 1M f', 'sh'], { cwd: dir });
    for (const flags of [['--format=gnu'], ['--format=posix'], ['--format=posix', '--sparse-version=0.1'], ['--format=posix', '--sparse-version=0.0']]) {
      const tar = execFileSync('tar', ['--sparse', ...flags, '-cf', '-', 'f'], { cwd: dir });
      const [f] = await readAll(tar, 4096);
      assert.equal(f!.entry.name, 'f', flags.join(' '));
      assert.equal(f!.entry.size, 1 << 20);
      assert.ok(f!.entry.sparse !== null, `${flags.join(' ')}: read as sparse`);
      const file = Buffer.alloc(1 << 20);
      const regions = f!.entry.sparse!;
      let at = 0;
      for (const r of regions) {
        f!.content.copy(file, r.offset, at, at + r.length);
        at += r.length;
      }
      assert.equal(file[0], 0x41);
      assert.equal(file[524288], 0x42);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed and truncated streams are TarFormatErrors', async () => {
  const good = withBody({ ...base, name: 'a', type: 'file' }, Buffer.alloc(1000, 1));
  // Ends inside the content the header promised.
  await assert.rejects(readAll(good.subarray(0, 900)), (err) => err instanceof TarFormatError && /unexpected end of data in the content of "a"/.test(err.message));
  // A damaged header.
  const damaged = Buffer.from(good);
  damaged[10] = 0x41;
  await assert.rejects(readAll(damaged), (err) => err instanceof TarFormatError && /bad checksum/.test(err.message));
  // A pax record whose length lies.
  const pax = tarHeader({ ...base, name: 'p', type: 'file', xattrs: new Map([['user.a', Buffer.from('b')]]) });
  const lying = Buffer.from(pax);
  lying.write('99', 512, 2, 'latin1');
  await assert.rejects(readAll(Buffer.concat([lying, END_OF_ARCHIVE])), (err) => err instanceof TarFormatError && /malformed pax record/.test(err.message));
  // A sparse map that runs past the file's size.
  const sparse = Buffer.concat([
    withBody({ ...base, name: 'PaxHeaders/s', type: 'file' }, Buffer.from(record('GNU.sparse.size', '10') + record('GNU.sparse.map', '8,4'))),
    withBody({ ...base, name: 's', type: 'file' }, Buffer.from('data')),
    END_OF_ARCHIVE,
  ]);
  sparse.write('x', 156, 1, 'latin1');
  sparse.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of sparse.subarray(0, 512)) sum += byte;
  sparse.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  await assert.rejects(readAll(sparse), (err) => err instanceof TarFormatError && /sparse map is invalid/.test(err.message));
});
