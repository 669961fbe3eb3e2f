// Layers keep what they carry, or say they did not, through the real CLI:
// a file capability (security.capability, binary) set on a binary in an
// image takes effect in its containers as under Docker, and survives
// `commit`, `save` and `export`; GNU tar's sparse files stay sparse in every
// format GNU tar writes; an entry of a type berth cannot create and an xattr
// the host refuses are each a warning naming the entry, and the image loads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, writeFileSync, writeSync, ftruncateSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { busyboxRootfs, cleanup, imageRoot } from '../support.js';
import { END_OF_ARCHIVE, tarHeader } from '../../src/image/tar-writer.js';

const cli = imageRoot('layer-fidelity');
const { b, root } = cli;
after(() => {
  cli.removeAll();
  cleanup(root);
});

/**
 * What the test binaries get: CAP_NET_RAW (what `ping` has) and CAP_SETUID,
 * whose bit makes the stored value invalid UTF-8 (0x80), as most real
 * capability sets are: a reader that decodes pax records as text loses it.
 */
const FILE_CAPS = 'cap_net_raw,cap_setuid+ep';
/** Their bits in /proc/PID/status masks. */
const GRANTED = (1n << 13n) | (1n << 7n);

function ok(r: ReturnType<typeof b>, what: string): string {
  assert.equal(r.status, 0, `${what}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The busybox root filesystem copied to `dir` (so an image made of it can run commands), plus whatever `extra` adds. */
function rootfsWith(name: string, extra: (dir: string) => void): string {
  const dir = join(root, name);
  execFileSync('cp', ['-a', `${busyboxRootfs()}/.`, dir]);
  extra(dir);
  return dir;
}

/**
 * The capability masks of `grep` (a busybox, which picks its applet by its
 * name) reading its own status in a container: CapPrm and CapEff as numbers.
 */
function caps(image: string, grep: string, user = '1000'): { prm: bigint; eff: bigint } {
  const out = ok(b('run', '--rm', '-u', user, image, grep, '^Cap', '/proc/self/status'), `run ${grep}`);
  const field = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm').exec(out)![1]}`);
  return { prm: field('CapPrm'), eff: field('CapEff') };
}

test('a binary with a file capability in an image runs with it for a non-root user, as under Docker; without it there is none', () => {
  const dir = rootfsWith('caps', (d) => {
    mkdirSync(join(d, 'capbin'));
    copyFileSync(join(d, 'bin', 'busybox'), join(d, 'capbin', 'grep'));
    execFileSync('setcap', [FILE_CAPS, join(d, 'capbin', 'grep')]);
  });
  const tarball = join(root, 'caps.tar');
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', dir, '-cf', tarball, '.']);
  ok(b('import', tarball, 'caps:latest'), 'import');

  const withCap = caps('caps:latest', '/capbin/grep');
  // What the file grants, no more: the rest of Docker's default set stays out of reach of uid 1000.
  assert.equal(withCap.prm, GRANTED, 'CapPrm of the file-capability binary');
  assert.equal(withCap.eff, GRANTED, 'CapEff of the file-capability binary');
  const without = caps('caps:latest', '/bin/grep');
  assert.equal(without.eff, 0n, 'the same program without the file capability has none');
  // The bounding set still decides, as under Docker: without NET_RAW in it, the kernel refuses to
  // execute a binary whose effective file capability it cannot grant in full (EPERM: 126).
  assert.equal(b('run', '--rm', '-u', '1000', '--cap-drop', 'NET_RAW', 'caps:latest', '/capbin/grep', '^CapEff', '/proc/self/status').status, 126);
});

test('commit keeps a capability set in the container; save and export carry it as Docker writes it', () => {
  const name = 'setcap-commit';
  ok(b('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'mkdir /capbin && cp /bin/busybox /capbin/grep && touch /tmp/ready && sleep 600'), 'run -d');
  try {
    const id = ok(b('inspect', '-f', '{{.Id}}', name), 'inspect').trim();
    const rootfs = join(cli.dataRoot, 'containers', id, 'rootfs');
    for (let i = 0; i < 200 && !existsIn(rootfs, 'tmp/ready'); i++) execFileSync('sleep', ['0.05']);
    // What `setcap` inside the container would do: the xattr set on the file as the container sees it.
    execFileSync('setcap', [FILE_CAPS, join(rootfs, 'capbin', 'grep')]);
    ok(b('commit', name, 'committed:cap'), 'commit');

    assert.equal(caps('committed:cap', '/capbin/grep').eff, GRANTED, 'the committed image grants the capabilities');
    assert.equal(caps('committed:cap', '/bin/grep').eff, 0n);

    const exported = join(root, 'export');
    mkdirSync(exported);
    ok(b('export', '-o', join(root, 'export.tar'), name), 'export');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xf', join(root, 'export.tar'), '-C', exported, 'capbin/grep']);
    assert.match(execFileSync('getcap', [join(exported, 'capbin', 'grep')]).toString(), /cap_setuid,cap_net_raw[=+]ep/);
  } finally {
    b('rm', '-f', name);
  }

  // save → load into a fresh store: the layer carries the capability.
  const saved = join(root, 'saved.tar');
  ok(b('save', '-o', saved, 'committed:cap'), 'save');
  ok(b('rmi', 'committed:cap'), 'rmi');
  ok(b('load', '-i', saved), 'load');
  assert.equal(caps('committed:cap', '/capbin/grep').eff, GRANTED, 'the image saved and loaded again grants the capabilities');
});

function existsIn(dir: string, rel: string): boolean {
  try {
    readFileSync(join(dir, rel));
    return true;
  } catch {
    return false;
  }
}

const MiB = 1024 * 1024;

/** A 64 MiB file with four 4 KiB pieces of data and holes between them: 16 KiB on disk. */
function writeSparse(path: string): string {
  const fd = openSync(path, 'w');
  try {
    for (const [i, at] of [0, 5 * MiB, 20 * MiB, 64 * MiB - 4096].entries()) writeSync(fd, Buffer.alloc(4096, `piece ${i} `), 0, 4096, at);
    ftruncateSync(fd, 64 * MiB);
  } finally {
    closeSync(fd);
  }
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

for (const [format, flags] of [
  ['old GNU (type S)', ['--format=gnu']],
  ['pax 1.0 (GNU tar --format=posix)', ['--format=posix']],
  ['pax 0.1', ['--format=posix', '--sparse-version=0.1']],
  ['pax 0.0', ['--format=posix', '--sparse-version=0.0']],
] as const) {
  test(`a sparse file in a layer (${format}) keeps its content and stays sparse`, () => {
    const slug = flags.join('').replace(/[^a-z0-9]/g, '');
    let md5 = '';
    const dir = rootfsWith(`sparse-${slug}`, (d) => { md5 = writeSparse(join(d, 'sparse')); });
    const tarball = join(root, `sparse-${slug}.tar`);
    execFileSync('tar', ['--sparse', ...flags, '--numeric-owner', '-C', dir, '-cf', tarball, '.']);
    const image = `sparse:${slug}`;
    ok(b('import', tarball, image), 'import');
    const out = ok(b('run', '--rm', image, 'sh', '-c', 'stat -c "%s %b %B" /sparse; md5sum /sparse'), 'run').split('\n');
    const [size, blocks, blockSize] = out[0]!.split(' ').map(Number);
    assert.equal(size, 64 * MiB);
    assert.equal(out[1]!.split(' ')[0], md5, 'the same content');
    assert.ok(blocks! * blockSize! <= 1 * MiB, `${blocks} blocks of ${blockSize} bytes allocated for 16 KiB of data in 64 MiB`);
  });
}

/** A tar entry whose type flag is `flag`, with a correct checksum. */
function entryOfType(name: string, flag: string): Buffer {
  const header = tarHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 0 });
  header.write(flag, 156, 1, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return header;
}

test('an entry of an unknown type and an xattr the host refuses are warnings naming the entry, and the image still loads', () => {
  const body = Buffer.from('kept\n');
  const tarball = join(root, 'odd.tar');
  writeFileSync(tarball, Buffer.concat([
    tarHeader({ name: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) }),
    entryOfType('etc/volume-label', 'V'),
    tarHeader({ name: 'etc/odd-xattr', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: body.length, xattrs: new Map([['bogus.attr', Buffer.from([0xff, 0x00, 0x01])]]) }),
    body, Buffer.alloc(512 - body.length),
    END_OF_ARCHIVE,
  ]));
  const r = b('import', tarball, 'odd:latest');
  ok(r, 'import');
  assert.match(r.stderr, /WARNING: layer sha256:[0-9a-f]{64}: entry "etc\/volume-label" skipped: tar entry type "V"/);
  assert.match(r.stderr, /WARNING: layer sha256:[0-9a-f]{64}: extended attribute bogus\.attr on "etc\/odd-xattr" skipped/);
  assert.match(ok(b('images', '--format', '{{.Repository}}:{{.Tag}}'), 'images'), /^odd:latest$/m);
});
