// The registry client against a real registry (Debian's docker-registry, the
// CNCF distribution server) on 127.0.0.1 without authentication: push a small
// image and pull it back, monolithic and chunked uploads, cross-repository
// mounts, manifests by tag and digest, redirects, resume, and the errors.
// A recording proxy in front shows which requests went out; a corrupting one
// proves that a manifest whose bytes do not match its digest is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { RegistryClient, RegistryError } from '../../src/image/registry/client.js';
import { BerthError } from '../../src/util/errors.js';
import { tempRoot, cleanup } from '../support.js';
import {
  ensureRegistryTools, startRegistry, startProxy, makeImage, readAll, readTar, sha256, freePort,
  OCI_MANIFEST, type RunningRegistry, type Proxy, type TestImage,
} from '../registry-support.js';

const root = tempRoot('registry');
let registry: RunningRegistry | undefined;
let recorder: Proxy | undefined;
let corrupter: Proxy | undefined;
let redirector: Proxy | undefined;
let rangeless: Proxy | undefined;
let image: TestImage;

before(async () => {
  ensureRegistryTools();
  registry = await startRegistry(`${root}/plain`);
  recorder = await startProxy(registry.url);
  corrupter = await startProxy(registry.url, { corruptManifests: true });
  redirector = await startProxy(registry.url, { redirectBlobs: true });
  rangeless = await startProxy(registry.url, { dropRange: true });
  image = await makeImage({ 'hello.txt': 'hello from berth\n', 'etc/motd': 'welcome\n' });
});

after(async () => {
  await Promise.allSettled([registry?.stop(), recorder?.close(), corrupter?.close(), redirector?.close(), rangeless?.close()]);
  cleanup(root);
});

const ACCEPT = [OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.index.v1+json'];

function client(host = registry!.host): RegistryClient {
  return new RegistryClient({ registry: host });
}

async function push(c: RegistryClient, repo: string, img: TestImage, tag: string, chunkSize?: number): Promise<string> {
  for (const b of [img.config, img.layer]) {
    await c.uploadBlob(repo, b.digest, b.bytes.length, () => Readable.from([b.bytes]), { chunkSize });
  }
  return c.putManifest(repo, tag, img.manifest.bytes, img.manifest.mediaType);
}

async function expectError(p: Promise<unknown>, check: (e: BerthError) => void): Promise<BerthError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
    check(err);
    return err;
  }
  assert.fail('expected an error');
}

test('ping speaks registry/2.0 over plain HTTP on loopback', async () => {
  const c = client();
  assert.equal(c.baseUrl.protocol, 'http:');
  assert.equal((await c.ping()).apiVersion, 'registry/2.0');
});

test('an image pushed with monolithic uploads pulls back by tag and by digest', async () => {
  const c = client();
  const digest = await push(c, 'berth/hello', image, 'v1');
  assert.equal(digest, image.manifest.digest);

  const byTag = await c.getManifest('berth/hello', 'v1', ACCEPT);
  assert.equal(byTag.digest, image.manifest.digest);
  assert.equal(byTag.mediaType, OCI_MANIFEST);
  assert.deepEqual(byTag.bytes, image.manifest.bytes);

  const byDigest = await c.getManifest('berth/hello', image.manifest.digest, ACCEPT);
  assert.equal(byDigest.digest, image.manifest.digest);

  const head = await c.headManifest('berth/hello', 'v1', ACCEPT);
  assert.deepEqual(head, { digest: image.manifest.digest, mediaType: OCI_MANIFEST, size: image.manifest.bytes.length });
  assert.equal(await c.headManifest('berth/hello', 'nope', ACCEPT), undefined);

  // Pull as a client would: the manifest names the blobs; fetch and check them.
  const m = JSON.parse(byTag.bytes.toString('utf8')) as { config: { digest: `sha256:${string}` }; layers: { digest: `sha256:${string}` }[] };
  const config = await readAll(await c.blob('berth/hello', m.config.digest));
  assert.equal(sha256(config), m.config.digest);
  const layer = await readAll(await c.blob('berth/hello', m.layers[0]!.digest));
  assert.equal(sha256(layer), m.layers[0]!.digest);
  assert.deepEqual(await readTar(gunzipSync(layer)), image.files);
});

test('a chunked upload sends PATCHes with Content-Range, then one PUT', async () => {
  const c = client(recorder!.host);
  const bytes = Buffer.alloc(2500);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 251;
  const digest = sha256(bytes);
  recorder!.requests.length = 0;
  // Odd pieces from the source, re-cut into 1000-byte chunks.
  const pieces = [bytes.subarray(0, 300), bytes.subarray(300, 1700), bytes.subarray(1700)];
  await c.uploadBlob('berth/chunked', digest, bytes.length, () => Readable.from(pieces), { chunkSize: 1000 });
  const methods = recorder!.requests.map((r) => r.split(' ')[0]);
  assert.deepEqual(methods, ['POST', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
  assert.match(recorder!.requests.at(-1)!, new RegExp(`digest=${digest.replace(':', '%3A')}`));
  assert.deepEqual(await readAll(await c.blob('berth/chunked', digest)), bytes);
  assert.equal(await c.hasBlob('berth/chunked', digest), true);
});

test('an empty blob uploads both ways', async () => {
  const c = client();
  const empty = Buffer.alloc(0);
  await c.uploadBlob('berth/empty', sha256(empty), 0, () => Readable.from([]));
  await c.uploadBlob('berth/empty2', sha256(empty), 0, () => Readable.from([]), { chunkSize: 10 });
  assert.equal(await c.hasBlob('berth/empty2', sha256(empty)), true);
});

test('hasBlob tells present from absent', async () => {
  const c = client();
  await push(c, 'berth/has', image, 'v1');
  assert.equal(await c.hasBlob('berth/has', image.layer.digest), true);
  assert.equal(await c.hasBlob('berth/has', sha256(Buffer.from('never pushed'))), false);
});

test('a blob mounts across repositories; an unknown one is not mounted and its session cancelled', async () => {
  const c = client(recorder!.host);
  await push(c, 'berth/mount-src', image, 'v1');
  assert.equal(await c.hasBlob('berth/mount-dst', image.layer.digest), false);
  assert.equal(await c.mountBlob('berth/mount-dst', image.layer.digest, 'berth/mount-src'), true);
  assert.equal(await c.hasBlob('berth/mount-dst', image.layer.digest), true);

  recorder!.requests.length = 0;
  const unknown = sha256(Buffer.from('nobody has this'));
  assert.equal(await c.mountBlob('berth/mount-dst', unknown, 'berth/mount-src'), false);
  assert.deepEqual(recorder!.requests.map((r) => r.split(' ')[0]), ['POST', 'DELETE']);
  assert.match(recorder!.requests[0]!, /mount=sha256%3A[0-9a-f]{64}&from=berth%2Fmount-src/);
});

test('blob downloads resume at an offset and follow redirects to another origin', async () => {
  const c = client();
  await push(c, 'berth/resume', image, 'v1');
  const tail = await readAll(await c.blob('berth/resume', image.layer.digest, { offset: 10 }));
  assert.deepEqual(tail, image.layer.bytes.subarray(10));

  const r = client(redirector!.host);
  redirector!.requests.length = 0;
  assert.deepEqual(await readAll(await r.blob('berth/resume', image.layer.digest)), image.layer.bytes);
  assert.deepEqual(await readAll(await r.blob('berth/resume', image.layer.digest, { offset: 5 })), image.layer.bytes.subarray(5));
  assert.ok(redirector!.requests.some((q) => q.startsWith('GET /v2/berth/resume/blobs/')), 'the blob was asked of the redirecting proxy');

  // A server that ignores Range answers 200 with the whole blob: the stream still starts at the offset.
  const whole = client(rangeless!.host);
  assert.deepEqual(await readAll(await whole.blob('berth/resume', image.layer.digest, { offset: 7 })), image.layer.bytes.subarray(7));
});

test('a manifest whose bytes do not match the digest asked for is refused', async () => {
  const c = client();
  await push(c, 'berth/corrupt', image, 'v1');
  const bad = client(corrupter!.host);
  const err = await expectError(bad.getManifest('berth/corrupt', image.manifest.digest, ACCEPT), (e) => {
    assert.equal(e.code, 'DigestMismatch');
    assert.equal(e.kind, 'invalid');
  });
  assert.match(err.message, new RegExp(`${corrupter!.host}/berth/corrupt@${image.manifest.digest}`));
  assert.match(err.message, /refusing/);
  // By tag there is nothing to check against: the digest is the one of the bytes
  // received, not the registry's Docker-Content-Digest header.
  const byTag = await bad.getManifest('berth/corrupt', 'v1', ACCEPT);
  assert.equal(byTag.digest, sha256(byTag.bytes));
  assert.notEqual(byTag.digest, image.manifest.digest);
});

test('registry errors are clear: unknown manifest, unknown blob, bad digest on upload', async () => {
  const c = client();
  await push(c, 'berth/errors', image, 'v1');
  const m = await expectError(c.getManifest('berth/errors', 'missing', ACCEPT), (e) => {
    assert.equal(e.kind, 'notFound');
    assert.equal(e.code, 'ManifestUnknown');
    assert.ok(e instanceof RegistryError && e.has('MANIFEST_UNKNOWN') && e.status === 404);
  });
  assert.match(m.message, new RegExp(`manifest ${registry!.host}/berth/errors:missing not found \\(registry ${registry!.host} answered MANIFEST_UNKNOWN`));

  const missing = sha256(Buffer.from('missing blob'));
  const b = await expectError(c.blob('berth/errors', missing), (e) => {
    assert.equal(e.kind, 'notFound');
    assert.equal(e.code, 'BlobUnknown');
  });
  assert.match(b.message, new RegExp(`blob ${missing} in ${registry!.host}/berth/errors not found`));

  // Bytes that do not hash to the digest announced: the registry refuses, and we say so.
  const u = await expectError(c.uploadBlob('berth/errors', missing, 5, () => Readable.from([Buffer.from('other')])), (e) => {
    assert.equal(e.code, 'DigestInvalid');
  });
  assert.match(u.message, /upload of blob sha256:[0-9a-f]{64} to .*berth\/errors failed \(registry .* answered DIGEST_INVALID/);

  // A manifest naming blobs the repository lacks.
  const other = await makeImage({ 'x': 'y' });
  const p = await expectError(c.putManifest('berth/errors', 'broken', other.manifest.bytes, other.manifest.mediaType), (e) => {
    assert.equal(e.code, 'ManifestBlobUnknown');
  });
  assert.match(p.message, /push of manifest .*berth\/errors:broken failed/);
});

test('a source that yields the wrong number of bytes fails instead of hanging', async () => {
  const c = client();
  const bytes = Buffer.from('twelve bytes');
  await expectError(c.uploadBlob('berth/size', sha256(bytes), 20, () => Readable.from([bytes])), (e) => assert.equal(e.code, 'SizeMismatch'));
  await expectError(c.uploadBlob('berth/size', sha256(bytes), 5, () => Readable.from([bytes])), (e) => assert.equal(e.code, 'SizeMismatch'));
  await expectError(c.uploadBlob('berth/size', sha256(bytes), 20, () => Readable.from([bytes]), { chunkSize: 4 }), (e) => assert.equal(e.code, 'SizeMismatch'));
  assert.equal(await c.hasBlob('berth/size', sha256(bytes)), false);
});

test('bad names are refused before any request; an unreachable registry is named', async () => {
  const c = client();
  await expectError(c.getManifest('Upper/Case', 'v1', ACCEPT), (e) => assert.equal(e.code, 'InvalidRepository'));
  await expectError(c.getManifest('ok', '../../etc', ACCEPT), (e) => assert.equal(e.code, 'InvalidReference'));
  await expectError(c.blob('ok', 'sha256:abc' as `sha256:${string}`), (e) => assert.equal(e.code, 'InvalidDigest'));
  const port = await freePort();
  const gone = new RegistryClient({ registry: `127.0.0.1:${port}` });
  const e = await expectError(gone.ping(), (err) => {
    assert.equal(err.code, 'RegistryUnreachable');
    assert.equal(err.kind, 'system');
  });
  assert.match(e.message, new RegExp(`registry 127.0.0.1:${port} is unreachable at http://127.0.0.1:${port}: .*ECONNREFUSED`));
});

test('registries that are not loopback get HTTPS unless marked insecure', () => {
  assert.equal(new RegistryClient({ registry: 'registry.invalid:5000' }).baseUrl.href, 'https://registry.invalid:5000/');
  assert.equal(new RegistryClient({ registry: 'registry.invalid:5000', insecure: true }).baseUrl.href, 'http://registry.invalid:5000/');
  assert.equal(new RegistryClient({ registry: 'docker.io' }).baseUrl.href, 'https://registry-1.docker.io/');
});
