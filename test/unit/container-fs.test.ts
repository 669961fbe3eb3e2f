// A container's paths and archives without a container: resolution inside a
// root against hostile symlinks, extraction that cannot be steered out of
// its root, and the config a commit starts from.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { resolveInRoot } from '../../src/engine/container-root.js';
import { extractArchive, packTree } from '../../src/engine/container-archive.js';
import { containerConfig } from '../../src/engine/commit.js';

const scratch = mkdtempSync(join(tmpdir(), 'berth-unit-container-fs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A root with the links a hostile image plants, and a file outside it that must stay out of reach. */
function hostileRoot(name: string): { root: string; outside: string } {
  const base = join(scratch, name);
  const root = join(base, 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'data', 'deep'), { recursive: true });
  writeFileSync(join(root, 'etc', 'passwd'), 'inside\n');
  writeFileSync(join(base, 'outside'), 'host file\n');
  symlinkSync('/', join(root, 'to-root'));
  symlinkSync('../../../../..', join(root, 'data', 'deep', 'climb'));
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync('../outside', join(root, 'sibling'));
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
  symlinkSync('passwd', join(root, 'etc', 'pw-link'));
  return { root, outside: join(base, 'outside') };
}

test('resolveInRoot: absolute and climbing links, and .., stop at the root', () => {
  const { root } = hostileRoot('resolve');
  const inside = (p: string, followLast = true) => resolveInRoot(root, p, { followLast }).inside;
  assert.equal(inside('/to-root/etc/passwd'), '/etc/passwd');
  assert.equal(inside('/data/deep/climb/etc/passwd'), '/etc/passwd');
  assert.equal(inside('../../../etc/passwd'), '/etc/passwd');
  assert.equal(inside('/etc-link/pw-link'), '/etc/passwd');
  // '../outside' from the root is the root's own /outside (missing), never the host's file beside it.
  const sibling = resolveInRoot(root, '/sibling', { followLast: true });
  assert.equal(sibling.inside, '/outside');
  assert.equal(sibling.stat, undefined);
  assert.equal(sibling.host, join(root, 'outside'));
  // The last component is kept as a link unless followed.
  assert.equal(inside('/etc/pw-link', false), '/etc/pw-link');
  assert.ok(resolveInRoot(root, '/etc/pw-link', { followLast: false }).stat!.isSymbolicLink());
  // A missing component ends the walk; the rest is lexical, clamped at the root.
  assert.equal(inside('/nope/a/../../../../b'), '/b');
  // A file in the middle of a path is "nothing there".
  assert.equal(resolveInRoot(root, '/etc/passwd/x', { followLast: true }).stat, undefined);
  assert.throws(() => resolveInRoot(root, '/loop-a', { followLast: true }), /too many levels of symbolic links/);
  assert.equal(resolveInRoot(root, '/', { followLast: true }).host, `${root}/`);
});

function tarOf(entries: (Partial<tar.Header> & { name: string; body?: string })[]): Readable {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry(h, body ?? '');
  pack.finalize();
  return Readable.from(pack);
}

test('extractArchive: links planted by the archive or found in the root lead back inside it', async () => {
  const { root, outside } = hostileRoot('extract');
  await extractArchive(tarOf([
    { name: 'hop', type: 'symlink', linkname: '/' },
    { name: 'hop/sibling', body: 'replaced the link\n' },
    { name: 'to-root/etc/new', body: 'through an absolute link\n' },
    { name: 'data/deep/climb/made/file', body: 'missing parents made inside\n' },
    { name: 'etc/pw-link', body: 'the link itself is replaced, not followed\n' },
  ]), { root, into: '/', owner: () => undefined, where: 'the test root' });
  assert.equal(readFileSync(outside, 'utf8'), 'host file\n');
  assert.equal(readFileSync(join(root, 'sibling'), 'utf8'), 'replaced the link\n');
  assert.equal(readFileSync(join(root, 'etc', 'new'), 'utf8'), 'through an absolute link\n');
  assert.equal(readFileSync(join(root, 'made', 'file'), 'utf8'), 'missing parents made inside\n');
  assert.equal(readFileSync(join(root, 'etc', 'pw-link'), 'utf8'), 'the link itself is replaced, not followed\n');
  assert.equal(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), 'inside\n');
  await assert.rejects(extractArchive(tarOf([{ name: 'a/../../x', body: 'x' }]), { root, into: '/', owner: () => undefined, where: 'r' }), /climbs out of the destination/);
  await assert.rejects(extractArchive(tarOf([{ name: 'h', type: 'link', linkname: '../outside' }]), { root, into: '/', owner: () => undefined, where: 'r' }), /outside the archive/);
  await assert.rejects(extractArchive(tarOf([{ name: 'etc', body: 'x' }]), { root, into: '/', owner: () => undefined, where: 'r' }), /cannot overwrite directory "\/etc" with non-directory/);
  assert.ok(!existsSync(join(root, '..', 'x')));
});

test('packTree then extractArchive: a tree goes across whole, links as links', async () => {
  const { root } = hostileRoot('roundtrip');
  const dest = join(scratch, 'roundtrip-dest');
  mkdirSync(dest);
  await extractArchive(packTree(join(root, 'etc'), 'copy', (o) => o), { root: dest, into: '/', owner: () => undefined, where: 'dest' });
  assert.equal(readFileSync(join(dest, 'copy', 'passwd'), 'utf8'), 'inside\n');
  assert.equal(readlinkSync(join(dest, 'copy', 'pw-link')), 'passwd');
});

test('containerConfig: the image\'s config with the create body over it, as Docker merges them', () => {
  const image = { Env: ['PATH=/bin', 'A=image'], Cmd: ['sh'], Entrypoint: ['/entry'], Labels: { a: '1' }, WorkingDir: '/w' };
  assert.deepEqual(containerConfig(image, { Image: 'x' }), image);
  const merged = containerConfig(image, { Image: 'x', Env: ['A=run', 'B=2'], Labels: { b: '2' }, Cmd: ['echo', 'hi'], User: 'nobody' });
  assert.deepEqual(merged.Env, ['PATH=/bin', 'A=run', 'B=2']);
  assert.deepEqual(merged.Labels, { a: '1', b: '2' });
  assert.deepEqual([merged.Entrypoint, merged.Cmd, merged.User, merged.WorkingDir], [['/entry'], ['echo', 'hi'], 'nobody', '/w']);
  // --entrypoint without a command drops the image's command; --entrypoint "" drops the entrypoint.
  assert.deepEqual(containerConfig(image, { Image: 'x', Entrypoint: ['/other'] }).Cmd, undefined);
  const none = containerConfig(image, { Image: 'x', Entrypoint: [''], Cmd: ['true'] });
  assert.deepEqual([none.Entrypoint, none.Cmd], [undefined, ['true']]);
});
