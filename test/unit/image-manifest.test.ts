// Manifests, indexes and configs are validated with messages naming the
// field; platforms are chosen as containerd's matcher chooses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MediaType, configPlatform, formatPlatform, hostPlatform, layerCompression, isNondistributable, normalizePlatform,
  parseImageConfig, parseManifest, parsePlatform, selectPlatform, type ImageIndex, type Platform,
} from '../../src/image/manifest.js';
import { sha256 } from '../../src/image/digest.js';
import { BerthError } from '../../src/util/errors.js';

const d = (s: string) => sha256(s);

function manifestDoc(patch: Record<string, unknown> = {}) {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: d('config'), size: 100 },
    layers: [
      { mediaType: MediaType.ociLayerGzip, digest: d('l0'), size: 10 },
      { mediaType: MediaType.ociLayerZstd, digest: d('l1'), size: 20 },
      { mediaType: MediaType.ociLayer, digest: d('l2'), size: 30 },
    ],
    ...patch,
  };
}

const entry = (platform: Record<string, string> | undefined, tag: string, mediaType: string = MediaType.ociManifest) => ({
  mediaType, digest: d(tag), size: 500, ...(platform ? { platform } : {}),
});

function index(...manifests: ReturnType<typeof entry>[]): ImageIndex {
  const parsed = parseManifest(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  assert.equal(parsed.kind, 'index');
  return parsed.index;
}

function invalidWith(code: string, message: RegExp | string) {
  return (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'invalid');
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

test('an OCI manifest parses; its kind and media type are known', () => {
  const parsed = parseManifest(Buffer.from(JSON.stringify(manifestDoc())));
  assert.equal(parsed.kind, 'manifest');
  assert.equal(parsed.mediaType, MediaType.ociManifest);
  if (parsed.kind !== 'manifest') return;
  assert.equal(parsed.manifest.layers.length, 3);
  assert.equal(parsed.manifest.config.digest, d('config'));
});

test('Docker schema 2: a manifest list is an index, a v2 manifest a manifest', () => {
  const list = parseManifest(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.dockerManifestList,
    manifests: [entry({ os: 'linux', architecture: 'amd64' }, 'a', MediaType.dockerManifest)],
  }));
  assert.equal(list.kind, 'index');
  assert.equal(list.mediaType, MediaType.dockerManifestList);
  const m = parseManifest(JSON.stringify(manifestDoc({
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: d('c'), size: 1 },
    layers: [
      { mediaType: MediaType.dockerLayerGzip, digest: d('x'), size: 1 },
      { mediaType: MediaType.dockerLayerForeignGzip, digest: d('y'), size: 1, urls: ['https://example.com/y'] },
    ],
  })), 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8');
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MediaType.dockerManifest);
});

test('without a mediaType field the served type, then the shape, decides', () => {
  const { mediaType: _omit, ...bare } = manifestDoc();
  assert.equal(parseManifest(JSON.stringify(bare)).kind, 'manifest');
  assert.equal(parseManifest(JSON.stringify(bare), MediaType.dockerManifest).mediaType, MediaType.dockerManifest);
  assert.equal(parseManifest(JSON.stringify({ schemaVersion: 2, manifests: [] })).kind, 'index');
  // A Content-Type that is no manifest type says nothing.
  assert.equal(parseManifest(JSON.stringify(manifestDoc()), 'application/octet-stream').mediaType, MediaType.ociManifest);
});

test('errors name the field', () => {
  const bad = manifestDoc();
  (bad.layers as { digest: string }[])[2]!.digest = 'sha256:1234';
  assert.throws(() => parseManifest(JSON.stringify(bad)),
    invalidWith('InvalidManifest', 'manifest.layers[2].digest: "sha256:1234" is not a valid sha256 digest (expected 64 lowercase hex digits, got 4)'));
  assert.throws(() => parseManifest(JSON.stringify(manifestDoc({ config: { mediaType: MediaType.ociConfig, digest: d('c'), size: -1 } }))),
    invalidWith('InvalidManifest', /^manifest\.config\.size: /));
  assert.throws(() => parseManifest(JSON.stringify(manifestDoc({ layers: undefined }))), invalidWith('InvalidManifest', /^manifest\.layers: /));
  assert.throws(() => parseManifest(JSON.stringify(manifestDoc({ schemaVersion: 3 }))), invalidWith('InvalidManifest', /^manifest\.schemaVersion: /));
  assert.throws(() => parseManifest(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: 'sha512:' + 'a'.repeat(128), size: 1 }] })),
    invalidWith('InvalidManifest', 'index.manifests[0].digest: unsupported digest algorithm "sha512" (berth supports only sha256)'));
  assert.throws(() => parseManifest('{not json'), invalidWith('InvalidManifest', /^manifest: not valid JSON/));
  assert.throws(() => parseManifest('[]'), invalidWith('InvalidManifest', 'manifest: must be a JSON object'));
});

test('unknown layer types in an image are refused; an artifact may carry anything', () => {
  const bad = manifestDoc();
  (bad.layers as { mediaType: string }[])[1]!.mediaType = 'application/x-weird';
  assert.throws(() => parseManifest(JSON.stringify(bad)),
    invalidWith('UnsupportedManifest', 'manifest.layers[1].mediaType: unsupported layer media type "application/x-weird"'));
  const artifact = manifestDoc({
    config: { mediaType: 'application/vnd.example.config+json', digest: d('c'), size: 2 },
    layers: [{ mediaType: 'application/x-weird', digest: d('w'), size: 1 }],
  });
  assert.equal(parseManifest(JSON.stringify(artifact)).kind, 'manifest');
});

test('Docker schema 1 is refused by name', () => {
  const v1 = { schemaVersion: 1, name: 'library/busybox', tag: 'latest', fsLayers: [{ blobSum: d('x') }], history: [] };
  for (const [doc, type] of [[v1, undefined], [v1, MediaType.dockerSchema1Signed], [{ ...v1, schemaVersion: 2 }, undefined]] as const) {
    assert.throws(() => parseManifest(JSON.stringify(doc), type), invalidWith('UnsupportedManifest', /Docker image manifest schema 1 is not supported/));
  }
});

test('mediaType field and served type must agree; one document cannot be both kinds', () => {
  assert.throws(() => parseManifest(JSON.stringify(manifestDoc()), MediaType.ociIndex),
    invalidWith('InvalidManifest', /manifest\.mediaType: "application\/vnd\.oci\.image\.manifest\.v1\+json" does not match/));
  const { mediaType: _m, ...bare } = manifestDoc();
  assert.throws(() => parseManifest(JSON.stringify(bare), MediaType.ociIndex), invalidWith('InvalidManifest', /index: has "config" or "layers"/));
  assert.throws(() => parseManifest(JSON.stringify({ ...manifestDoc(), manifests: [] })), invalidWith('InvalidManifest', /manifest: has "manifests"/));
  assert.throws(() => parseManifest(JSON.stringify(manifestDoc({ mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }))),
    invalidWith('UnsupportedManifest', /unsupported media type "application\/vnd\.oci\.artifact\.manifest\.v1\+json"/));
});

test('layer media types: compression and distributability', () => {
  assert.equal(layerCompression(MediaType.ociLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.ociLayerNondistributableZstd), 'zstd');
  assert.equal(layerCompression(MediaType.dockerLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.ociLayer), 'none');
  assert.equal(layerCompression('application/json'), undefined);
  assert.ok(isNondistributable(MediaType.dockerLayerForeignGzip));
  assert.ok(!isNondistributable(MediaType.ociLayerGzip));
});

// A Docker-built config: Go writes empty fields as null.
const dockerConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-09-26T21:31:42Z',
  config: {
    Hostname: '', User: 'app', Env: ['PATH=/usr/bin:/bin'], Entrypoint: null, Cmd: ['sh'], WorkingDir: '/srv',
    Labels: { a: 'b' }, StopSignal: 'SIGTERM', ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} }, OnBuild: null,
    Healthcheck: { Test: ['CMD', 'true'], Interval: 30_000_000_000, Retries: 3 },
  },
  container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] },
  rootfs: { type: 'layers', diff_ids: [d('diff0'), d('diff1')] },
  history: [{ created: '2024-09-26T21:31:42Z', created_by: 'ADD file:… in /' }, { created_by: 'CMD ["sh"]', empty_layer: true }],
};

test('an image config parses; nulls mean absent', () => {
  const c = parseImageConfig(JSON.stringify(dockerConfig));
  assert.equal(c.architecture, 'amd64');
  assert.deepEqual(c.config?.Cmd, ['sh']);
  assert.equal(c.config?.Entrypoint, undefined);
  assert.equal(c.config?.User, 'app');
  assert.deepEqual(c.config?.ExposedPorts, { '80/tcp': {} });
  assert.equal(c.config?.Healthcheck?.Interval, 30_000_000_000);
  assert.deepEqual(c.rootfs.diff_ids, [d('diff0'), d('diff1')]);
  assert.equal(c.history?.[1]?.empty_layer, true);
  assert.deepEqual(configPlatform(c), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(configPlatform(parseImageConfig(JSON.stringify({ ...dockerConfig, architecture: 'arm64', variant: 'v8' }))), { os: 'linux', architecture: 'arm64' });
});

test('config errors name the field', () => {
  assert.throws(() => parseImageConfig(JSON.stringify({ ...dockerConfig, rootfs: { type: 'layers', diff_ids: [d('x'), 'md5:abc'] } })),
    invalidWith('InvalidImageConfig', /^config\.rootfs\.diff_ids\[1\]: unsupported digest algorithm "md5"/));
  assert.throws(() => parseImageConfig(JSON.stringify({ ...dockerConfig, rootfs: { type: 'tar', diff_ids: [] } })),
    invalidWith('InvalidImageConfig', /^config\.rootfs\.type: /));
  assert.throws(() => parseImageConfig(JSON.stringify({ ...dockerConfig, config: { Cmd: 'sh' } })),
    invalidWith('InvalidImageConfig', /^config\.config\.Cmd: /));
  const { os: _os, ...noOs } = dockerConfig;
  assert.throws(() => parseImageConfig(JSON.stringify(noOs)), invalidWith('InvalidImageConfig', /^config\.os: /));
});

test('parsePlatform normalises as containerd does', () => {
  const host = hostPlatform();
  const cases: [string, Platform][] = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['Linux/AMD64/v1', { os: 'linux', architecture: 'amd64' }],
    ['linux/amd64/v3', { os: 'linux', architecture: 'amd64', variant: 'v3' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm', { os: 'linux', architecture: 'arm' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm' }],
    ['linux/armel', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
    ['macos/arm64', { os: 'darwin', architecture: 'arm64' }],
    ['linux', { os: 'linux', architecture: host.architecture, ...(host.variant && host.variant !== 'v7' ? { variant: host.variant } : {}) }],
    ['arm64', { os: host.os, architecture: 'arm64' }],
    ['aarch64', { os: host.os, architecture: 'arm64' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parsePlatform(text), want, text);
  assert.throws(() => parsePlatform('linux/amd64/v2/x'), { code: 'InvalidPlatform' });
  assert.throws(() => parsePlatform('linux//v2'), { code: 'InvalidPlatform' });
  assert.throws(() => parsePlatform('plan10'), { code: 'InvalidPlatform', message: 'invalid platform "plan10": unknown operating system or architecture' });
  assert.equal(formatPlatform(parsePlatform('linux/arm64/v8')), 'linux/arm64/v8');
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
});

test('hostPlatform names the machine in Go/OCI terms', () => {
  const p = hostPlatform();
  assert.equal(p.os, 'linux');
  const expected: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
  if (expected[process.arch]) assert.equal(p.architecture, expected[process.arch]);
});

test('selectPlatform: exact match, variants, fallbacks, first among equals', () => {
  const busybox = index(
    entry({ os: 'linux', architecture: 'amd64' }, 'amd64'),
    entry({ os: 'linux', architecture: 'arm', variant: 'v5' }, 'armv5'),
    entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'armv6'),
    entry({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'armv7'),
    entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'arm64'),
    entry({ os: 'linux', architecture: '386' }, '386'),
    entry({ os: 'unknown', architecture: 'unknown' }, 'attestation'),
  );
  const pick = (idx: ImageIndex, p: string) => selectPlatform(idx, parsePlatform(p)).digest;
  assert.equal(pick(busybox, 'linux/amd64'), d('amd64'));
  assert.equal(pick(busybox, 'linux/amd64/v3'), d('amd64'));      // v3 → v2 → v1 (= no variant)
  assert.equal(pick(busybox, 'linux/arm64'), d('arm64'));         // arm64 = arm64/v8
  assert.equal(pick(busybox, 'linux/arm64/v8'), d('arm64'));
  assert.equal(pick(busybox, 'linux/arm'), d('armv7'));           // arm = arm/v7
  assert.equal(pick(busybox, 'linux/arm/v6'), d('armv6'));
  assert.equal(pick(busybox, 'linux/386'), d('386'));

  // Only older variants on offer: the best one that still runs.
  const older = index(entry({ os: 'linux', architecture: 'arm', variant: 'v5' }, 'v5'), entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'v6'));
  assert.equal(pick(older, 'linux/arm/v7'), d('v6'));
  assert.equal(pick(older, 'linux/arm64'), d('v6'));              // arm64 runs 32-bit arm
  const amd = index(entry({ os: 'linux', architecture: 'amd64', variant: 'v2' }, 'v2'), entry({ os: 'linux', architecture: 'amd64' }, 'v1'));
  assert.equal(pick(amd, 'linux/amd64/v4'), d('v2'));
  assert.equal(pick(amd, 'linux/amd64'), d('v1'));
  assert.equal(pick(index(entry({ os: 'linux', architecture: '386' }, 'only386')), 'linux/amd64'), d('only386'));

  // Equals: the first in the index. An entry without a platform: last resort.
  const twice = index(entry(undefined, 'noplatform'), entry({ os: 'linux', architecture: 'amd64' }, 'first'), entry({ os: 'linux', architecture: 'amd64' }, 'second'));
  assert.equal(pick(twice, 'linux/amd64'), d('first'));
  assert.equal(pick(twice, 'linux/s390x'), d('noplatform'));
  // Entries that are not manifests (an attached blob) are never chosen.
  assert.throws(() => pick(index(entry(undefined, 'blob', 'application/octet-stream')), 'linux/amd64'), { code: 'NoMatchingPlatform' });
});

test('selectPlatform: no match is a notFound error listing what there is', () => {
  const idx = index(
    entry({ os: 'linux', architecture: 'amd64' }, 'a'),
    entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'b'),
    entry({ os: 'unknown', architecture: 'unknown' }, 'att'),
  );
  assert.throws(() => selectPlatform(idx, parsePlatform('linux/s390x')), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'notFound');
    assert.equal(err.code, 'NoMatchingPlatform');
    assert.equal(err.message, 'no matching manifest for linux/s390x in the image index (available: linux/amd64, linux/arm64/v8)');
    return true;
  });
  assert.throws(() => selectPlatform(idx, parsePlatform('windows/amd64')), { code: 'NoMatchingPlatform' });
});
