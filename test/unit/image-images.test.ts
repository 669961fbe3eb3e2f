// The image store: records keyed by manifest digest, tags and repo digests
// pointing at them, and Docker's lookup by name, digest or image ID prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDatabase, openDatabase } from '../../src/util/db.js';
import { ContentStore } from '../../src/image/content-store.js';
import { ImageStore, type ImageRecord } from '../../src/image/images.js';
import { MediaType } from '../../src/image/manifest.js';
import { sha256, type Digest } from '../../src/image/digest.js';
import { BerthError } from '../../src/util/errors.js';

interface Ctx { root: string; content: ContentStore; images: ImageStore }

function setup(t: { after: (fn: () => void) => void }): Ctx {
  const root = mkdtempSync(join(tmpdir(), 'berth-images-'));
  t.after(() => {
    closeDatabase(root);
    rmSync(root, { recursive: true, force: true });
  });
  const content = new ContentStore(root);
  return { root, content, images: new ImageStore(openDatabase(root), content) };
}

// An image whose manifest and config are really in the content store. `seed`
// varies the config (and so the image ID); `variant` varies only the
// manifest, for two manifests of one config.
function image(ctx: Ctx, seed: string, variant = '', extra: Partial<ImageRecord> = {}): ImageRecord {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(`diff-${seed}`)] }, seed });
  const configDigest = ctx.content.put(config);
  const layers = [{ digest: sha256(`layer-${seed}`), mediaType: MediaType.ociLayerGzip, size: 123, diffId: sha256(`diff-${seed}`) }];
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest, variant,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
    layers: layers.map(({ digest, mediaType, size }) => ({ digest, mediaType, size })),
  });
  const digest = ctx.content.put(manifest);
  return { digest, mediaType: MediaType.ociManifest, configDigest, layers, platform: { os: 'linux', architecture: 'amd64' }, created: '2024-01-01T00:00:00Z', size: 456, ...extra };
}

// A config whose digest starts with `prefix`: vary a seed until it does.
function imageWithIdPrefix(ctx: Ctx, prefix: string, avoid: Set<string>): ImageRecord {
  for (let i = 0; ; i++) {
    const seed = `${prefix}-${i}`;
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(`diff-${seed}`)] }, seed });
    const id = sha256(config);
    if (id.startsWith(`sha256:${prefix}`) && !avoid.has(id)) {
      avoid.add(id);
      return image(ctx, seed);
    }
  }
}

function notFoundError(message: string | RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'notFound');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

test('add, get, tag, list: names are stored normalised', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'busybox');
  const added = ctx.images.addImage(rec);
  assert.equal(added.digest, rec.digest);
  assert.equal(added.configDigest, rec.configDigest);
  assert.deepEqual(added.layers, rec.layers);
  assert.deepEqual(added.platform, rec.platform);
  assert.equal(added.created, '2024-01-01T00:00:00Z');
  assert.deepEqual(added.names, []);
  assert.equal(ctx.images.tag('busybox', rec.digest), undefined);
  ctx.images.tag('docker.io/library/busybox:1.36', rec.digest);
  ctx.images.tag('localhost:5000/mine/bb:v1', rec.digest);
  assert.deepEqual(ctx.images.namesOf(rec.digest), [
    'docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest', 'localhost:5000/mine/bb:v1',
  ]);
  const [listed] = ctx.images.list();
  assert.equal(listed!.digest, rec.digest);
  assert.equal(listed!.names.length, 3);
  assert.deepEqual(ctx.images.config(listed!).rootfs.diff_ids, [sha256('diff-busybox')]);
});

test('resolve by name as Docker does: familiar, full, no tag means latest', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'a');
  ctx.images.addImage(rec);
  ctx.images.tag('busybox', rec.digest);
  ctx.images.tag('user/app:2', rec.digest);
  for (const text of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', 'index.docker.io/busybox', 'user/app:2', 'docker.io/user/app:2']) {
    assert.equal(ctx.images.resolve(text).digest, rec.digest, text);
  }
  assert.throws(() => ctx.images.resolve('busybox:1.36'), notFoundError('no such image: busybox:1.36'));
  assert.throws(() => ctx.images.resolve('user/app'), notFoundError('no such image: user/app'));
  assert.throws(() => ctx.images.resolve('Bad:Name'), { kind: 'invalid', code: 'InvalidReference' });
});

test('resolve by image ID: full, sha256:, any unambiguous prefix', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'x');
  ctx.images.addImage(rec);
  const hex = rec.configDigest.slice(7);
  for (const text of [rec.configDigest, hex, hex.slice(0, 12), hex.slice(0, 1), `sha256:${hex.slice(0, 5)}`]) {
    assert.equal(ctx.images.resolve(text).digest, rec.digest, text);
  }
  // The manifest digest is not an image ID.
  assert.throws(() => ctx.images.resolve(rec.digest), notFoundError(`no such image: ${rec.digest}`));
  const other = hex[0] === 'f' ? '0' : 'f';
  assert.throws(() => ctx.images.resolve(other.repeat(64)), { code: 'ImageNotFound' });
});

test('a name wins over an ID prefix that is spelled the same', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'p');
  const named = image(ctx, 'q');
  ctx.images.addImage(rec);
  ctx.images.addImage(named);
  const prefix = rec.configDigest.slice(7, 10);
  ctx.images.tag(prefix, named.digest);
  assert.equal(ctx.images.resolve(prefix).digest, named.digest);
  assert.equal(ctx.images.resolve(`sha256:${prefix}`).digest, rec.digest);
});

test('an ambiguous ID prefix is a clear error; a longer one resolves', (t) => {
  const ctx = setup(t);
  const seen = new Set<string>();
  const a = imageWithIdPrefix(ctx, 'ab', seen);
  const b = imageWithIdPrefix(ctx, 'ab', seen);
  ctx.images.addImage(a);
  ctx.images.addImage(b);
  assert.throws(() => ctx.images.resolve('ab'), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'invalid');
    assert.equal(err.code, 'AmbiguousImageId');
    assert.match(err.message, /^image ID prefix "ab" is ambiguous: it matches 2 images \(ab[0-9a-f]{10}, ab[0-9a-f]{10}\); give more digits$/);
    return true;
  });
  let n = 3;
  while (a.configDigest.slice(7, 7 + n) === b.configDigest.slice(7, 7 + n)) n++;
  assert.equal(ctx.images.resolve(a.configDigest.slice(7, 7 + n)).digest, a.digest);
});

test('two manifests of one config are one image ID, not an ambiguity', (t) => {
  const ctx = setup(t);
  const docker = image(ctx, 'same', 'docker');
  const oci = image(ctx, 'same', 'oci');
  assert.equal(docker.configDigest, oci.configDigest);
  assert.notEqual(docker.digest, oci.digest);
  ctx.images.addImage(docker);
  ctx.images.addImage(oci);
  ctx.images.tag('tagged', docker.digest);
  assert.equal(ctx.images.resolve(docker.configDigest.slice(7, 12)).digest, docker.digest);
});

test('repo digests: recorded, resolved, merged on re-pull; a tag beside a digest is ignored', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'r');
  const indexDigest = sha256('the index');
  ctx.images.addImage({ ...rec, repoDigests: [`busybox@${indexDigest}`] });
  ctx.images.tag('busybox', rec.digest);
  const again = ctx.images.addImage({ ...rec, repoDigests: [`ghcr.io/o/bb@${indexDigest}`] });
  assert.deepEqual(again.repoDigests, [`docker.io/library/busybox@${indexDigest}`, `ghcr.io/o/bb@${indexDigest}`]);
  assert.deepEqual(again.names, ['docker.io/library/busybox:latest']);
  assert.equal(ctx.images.resolve(`busybox@${indexDigest}`).digest, rec.digest);
  assert.equal(ctx.images.resolve(`busybox:whatever@${indexDigest}`).digest, rec.digest);
  assert.equal(ctx.images.resolve(`ghcr.io/o/bb@${indexDigest}`).digest, rec.digest);
  // The platform manifest's own digest, in a repository the image is tagged in.
  assert.equal(ctx.images.resolve(`busybox@${rec.digest}`).digest, rec.digest);
  assert.throws(() => ctx.images.resolve(`other@${rec.digest}`), { code: 'ImageNotFound' });
  assert.throws(() => ctx.images.resolve(`busybox@${sha256('nothing')}`), { code: 'ImageNotFound' });
  assert.throws(() => ctx.images.addImage({ ...rec, repoDigests: ['busybox:latest'] }), { code: 'InvalidImageRecord' });
  // Untagging a repo digest leaves the image and its tags.
  assert.equal(ctx.images.untag(`busybox@${indexDigest}`), rec.digest);
  assert.deepEqual(ctx.images.get(rec.digest)!.repoDigests, [`ghcr.io/o/bb@${indexDigest}`]);
  assert.deepEqual(ctx.images.get(rec.digest)!.names, ['docker.io/library/busybox:latest']);
});

test('tag moves a name; untag removes one; tags cannot hold digests', (t) => {
  const ctx = setup(t);
  const one = image(ctx, '1');
  const two = image(ctx, '2');
  ctx.images.addImage(one);
  ctx.images.addImage(two);
  ctx.images.tag('app', one.digest);
  assert.equal(ctx.images.tag('app:latest', two.digest), one.digest);
  assert.equal(ctx.images.tag('app', two.digest), undefined);
  assert.equal(ctx.images.resolve('app').digest, two.digest);
  assert.deepEqual(ctx.images.namesOf(one.digest), []);
  assert.throws(() => ctx.images.tag(`app@${one.digest}`, one.digest), { kind: 'invalid', code: 'InvalidTag' });
  assert.throws(() => ctx.images.tag('app', sha256('no such manifest')), { kind: 'notFound', code: 'ImageNotFound' });
  assert.equal(ctx.images.untag('app'), two.digest);
  assert.throws(() => ctx.images.untag('app'), notFoundError('no such image: app'));
  assert.ok(ctx.images.get(two.digest), 'the image stays when its last tag goes');
});

test('remove deletes the record and its references, not the blobs', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'gone');
  ctx.images.addImage({ ...rec, repoDigests: [`x@${rec.digest}`] });
  ctx.images.tag('x:1', rec.digest);
  ctx.images.tag('x:2', rec.digest);
  assert.deepEqual(ctx.images.remove(rec.digest), ['docker.io/library/x:1', 'docker.io/library/x:2']);
  assert.equal(ctx.images.get(rec.digest), undefined);
  assert.throws(() => ctx.images.resolve('x:1'), { code: 'ImageNotFound' });
  assert.throws(() => ctx.images.resolve(`x@${rec.digest}`), { code: 'ImageNotFound' });
  assert.throws(() => ctx.images.remove(rec.digest), { code: 'ImageNotFound' });
  assert.ok(ctx.content.has(rec.digest) && ctx.content.has(rec.configDigest));
  assert.deepEqual(ctx.images.list(), []);
});

test('a record must be well-formed and its manifest and config present', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'v');
  assert.throws(() => ctx.images.addImage({ ...rec, digest: sha256('absent') }), notFoundError(/its manifest blob sha256:[0-9a-f]{64} is not in the content store/));
  assert.throws(() => ctx.images.addImage({ ...rec, configDigest: sha256('absent') }), notFoundError(/its config blob/));
  assert.throws(() => ctx.images.addImage({ ...rec, layers: [{ ...rec.layers[0]!, diffId: 'sha256:x' as Digest }] }),
    { code: 'InvalidImageRecord', message: 'image record layers[0].diffId: "sha256:x" is not a sha256 digest' });
  assert.throws(() => ctx.images.addImage({ ...rec, size: -1 }), { code: 'InvalidImageRecord', message: /^image record size:/ });
  assert.deepEqual(ctx.images.list(), []);
});

test('records survive reopening the store (a second process sees them)', (t) => {
  const ctx = setup(t);
  const rec = image(ctx, 'persist');
  ctx.images.addImage(rec);
  ctx.images.tag('keep', rec.digest);
  closeDatabase(ctx.root);
  const reopened = new ImageStore(openDatabase(ctx.root), new ContentStore(ctx.root));
  const found = reopened.resolve('keep');
  assert.equal(found.digest, rec.digest);
  assert.deepEqual(found.layers, rec.layers);
  // Re-adding keeps the first `added` time and the names.
  const before = found.added;
  assert.equal(reopened.addImage(rec).added, before);
  assert.deepEqual(reopened.get(rec.digest)!.names, ['docker.io/library/keep:latest']);
});
