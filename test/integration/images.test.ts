// Images end to end through the CLI, against Debian's docker-registry on
// loopback: import, run, push, pull, shared layers, bad registries.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { CLI, berth, berthAsync, busyboxRootfs, tempRoot, leftovers, cleanup } from '../support.js';
import { ensureRegistryTools, startRegistry, startProxy, type RunningRegistry, type Proxy } from '../registry-support.js';
import { RegistryClient } from '../../src/image/registry/index.js';
import { ContentStore } from '../../src/image/content-store.js';
import { MediaType } from '../../src/image/manifest.js';
import tar from 'tar-stream';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';

const root = tempRoot('images');
const dataRoot = join(root, 'data');
const runRoot = join(root, 'run');
const dockerConfig = join(root, 'docker-config');
const b = (...args: string[]) => berth(['--root', dataRoot, '--run-root', runRoot, ...args], { env: { DOCKER_CONFIG: dockerConfig } });
let registry: RunningRegistry;
let authRegistry: RunningRegistry;
const proxies: Proxy[] = [];

before(async () => {
  ensureRegistryTools();
  registry = await startRegistry(join(root, 'registry'));
  authRegistry = await startRegistry(join(root, 'registry-auth'), { kind: 'htpasswd', users: { alice: 's3cret' } });
  const tarball = join(root, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', busyboxRootfs(), '-cf', tarball, '.']);
  const r = b('import', '--epoch', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
  assert.equal(r.status, 0, r.stderr);
});

after(async () => {
  for (const p of proxies) await p.close();
  await registry?.stop();
  await authRegistry?.stop();
  cleanup(root);
});

afterEach(() => assert.deepEqual(leftovers(root), [], 'the test left something on the host'));

const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}` as const;
const blobs = () => readdirSync(join(dataRoot, 'blobs', 'sha256')).sort();
const layerDirs = () => readdirSync(join(dataRoot, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort();

test('run merges the image config with the flags, as Docker does', () => {
  let r = b('run', '--rm', 'busybox', 'echo', 'hello');
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.status, 0, r.stderr);
  r = b('run', '--rm', '-e', 'A=1', '-w', '/work/dir', '-u', 'nobody', '--entrypoint', '/bin/sh', 'busybox', '-c', 'echo $A $(pwd) $(id -u) $(hostname | wc -c)');
  assert.equal(r.stdout, '1 /work/dir 65534 13\n', r.stderr);
  r = b('run', '--rm', '-i', 'busybox', 'cat');
  assert.equal(r.stdout, '');
  const withInput = berth(['--root', dataRoot, '--run-root', runRoot, 'run', '--rm', '-i', 'busybox', 'cat'], { input: 'through stdin\n' });
  assert.equal(withInput.stdout, 'through stdin\n');
  const withoutI = berth(['--root', dataRoot, '--run-root', runRoot, 'run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' });
  assert.equal(withoutI.stdout, '');
});

test('run exit statuses: the container\'s, 125, 126, 127', () => {
  assert.equal(b('run', '--rm', 'busybox', 'sh', '-c', 'exit 3').status, 3);
  let r = b('run', '--rm', 'busybox', 'nosuchcommand');
  assert.equal(r.status, 127);
  assert.match(r.stderr, /executable file not found/);
  r = b('run', '--rm', 'busybox', '/etc/passwd');
  assert.equal(r.status, 126);
  r = b('run', '--rm', '--pull', 'never', 'nosuchimage');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /no such image: nosuchimage/);
  r = b('run', '--rm', '-u', 'ghost', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unable to find user ghost/);
  r = b('run', '--bogus-flag', 'busybox');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unknown option '--bogus-flag'/);
});

test('images, tag, inspect, history, rmi', () => {
  let r = b('images');
  assert.match(r.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[a-f0-9]{12}\s+/);
  const id = b('images', '-q', 'busybox').stdout.trim();
  assert.match(id, /^[a-f0-9]{12}$/);
  assert.equal(b('tag', 'busybox', 'mine/box:v2').status, 0);
  r = b('images', '--format', '{{.Repository}}:{{.Tag}}');
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['busybox:latest', 'mine/box:v2']);
  r = b('images', '--filter', 'reference=mine/*');
  assert.match(r.stdout, /mine\/box\s+v2/);
  assert.doesNotMatch(r.stdout, /busybox/);
  const inspect = JSON.parse(b('image', 'inspect', 'mine/box:v2').stdout);
  assert.equal(inspect[0].Id.slice(7, 19), id);
  assert.deepEqual(inspect[0].Config.Cmd, ['sh']);
  assert.deepEqual(inspect[0].RepoTags.sort(), ['busybox:latest', 'mine/box:v2']);
  r = b('history', 'busybox');
  assert.match(r.stdout, /IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[a-f0-9]{12}\s+.*berth import/);
  // A second name: rmi only untags it.
  r = b('rmi', 'mine/box:v2');
  assert.equal(r.stdout, 'Untagged: mine/box:v2\n');
  assert.equal(b('images', '-q').stdout.trim(), id);
  r = b('rmi', 'nosuch');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no such image: nosuch/);
  r = b('tag', 'busybox', 'Bad:Name');
  assert.equal(r.status, 1, 'Docker\'s CLI refuses a bad reference itself: status 1');
  assert.match(r.stderr, /invalid reference/);
});

test('push then pull: the same digests, and layers shared with a second image are stored once', async () => {
  const target = `${registry.host}/test/busybox:v1`;
  assert.equal(b('tag', 'busybox', target).status, 0);
  let r = b('push', target);
  assert.equal(r.status, 0, r.stderr);
  const pushed = /v1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(r.stdout)?.[1];
  assert.ok(pushed, r.stdout);
  const idBefore = JSON.parse(b('image', 'inspect', target).stdout)[0].Id;
  assert.equal(b('rmi', target).status, 0);

  // Pulled into a fresh root: nothing local to lean on.
  const fresh = join(root, 'fresh');
  const f = (...args: string[]) => berth(['--root', fresh, '--run-root', runRoot, ...args]);
  r = f('pull', target);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Digest: ${pushed}`));
  assert.match(r.stdout, /Status: Downloaded newer image/);
  assert.equal(JSON.parse(f('image', 'inspect', target).stdout)[0].Id, idBefore);
  assert.match(f('images', '--digests').stdout, new RegExp(pushed!));
  r = f('pull', target);
  assert.match(r.stdout, /Status: Image is up to date/);
  assert.equal(f('run', '--rm', target, 'echo', 'pulled and ran').stdout, 'pulled and ran\n');

  // A second image: the busybox layer plus one more, pushed by hand.
  const client = new RegistryClient({ registry: registry.host });
  const content = new ContentStore(fresh);
  const base = JSON.parse(f('image', 'inspect', target).stdout)[0];
  const baseManifest = JSON.parse(content.read(base.Descriptor.digest).toString());
  const pack = tar.pack();
  pack.entry({ name: 'extra.txt' }, 'a layer of its own\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const extraTar = Buffer.concat(chunks);
  const extraGz = gzipSync(extraTar);
  const config = { ...JSON.parse(content.read(base.Id).toString()) };
  config.rootfs = { type: 'layers', diff_ids: [...config.rootfs.diff_ids, sha(extraTar)] };
  config.history = [...(config.history ?? []), { created_by: 'test: extra layer' }];
  const configBytes = Buffer.from(JSON.stringify(config));
  await client.uploadBlob('test/derived', sha(extraGz), extraGz.length, () => Readable.from([extraGz]));
  await client.uploadBlob('test/derived', sha(configBytes), configBytes.length, () => Readable.from([configBytes]));
  await client.mountBlob('test/derived', baseManifest.layers[0].digest, 'test/busybox');
  const manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha(configBytes), size: configBytes.length },
    layers: [baseManifest.layers[0], { mediaType: MediaType.ociLayerGzip, digest: sha(extraGz), size: extraGz.length }],
  };
  await client.putManifest('test/derived', 'v1', Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest);

  const du = () => Number(execFileSync('du', ['-sb', join(fresh, 'layers')], { encoding: 'utf8' }).split('\t')[0]);
  const before = du();
  const layersBefore = readdirSync(join(fresh, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)).length;
  r = f('pull', `${registry.host}/test/derived:v1`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Already exists/);
  const layersAfter = readdirSync(join(fresh, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)).length;
  assert.equal(layersAfter, layersBefore + 1, 'only the new layer was unpacked');
  assert.ok(du() - before < 64 * 1024, `the shared base was stored again: ${du() - before} more bytes`);
  assert.equal(f('run', '--rm', `${registry.host}/test/derived:v1`, 'cat', '/extra.txt').stdout, 'a layer of its own\n');
});

test('a blob that does not match its digest is refused and the store is unchanged', async () => {
  const proxy = await startProxy(registry.url, { corruptBlobs: true });
  proxies.push(proxy);
  const beforeBlobs = blobs();
  const beforeLayers = layerDirs();
  const beforeImages = b('images', '-q', '--no-trunc').stdout;
  const r = await berthAsync(['--root', dataRoot, '--run-root', runRoot, 'pull', `${proxy.host}/test/derived:v1`]);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /did not match|mismatch/i);
  assert.deepEqual(blobs(), beforeBlobs);
  assert.deepEqual(layerDirs(), beforeLayers);
  assert.equal(b('images', '-q', '--no-trunc').stdout, beforeImages);
  assert.deepEqual(readdirSync(join(dataRoot, 'ingest')).filter((n) => !n.startsWith('.')), []);
});

test('an interrupted pull leaves nothing half-written, and the next pull completes', async () => {
  const proxy = await startProxy(registry.url, { cutBlobsAfter: 100_000 });
  proxies.push(proxy);
  const fresh = join(root, 'interrupted');
  const f = (...args: string[]) => berth(['--root', fresh, '--run-root', runRoot, ...args]);
  let r = await berthAsync(['--root', fresh, '--run-root', runRoot, 'pull', `${proxy.host}/test/busybox:v1`]);
  assert.notEqual(r.status, 0);
  const blobDir = join(fresh, 'blobs', 'sha256');
  for (const name of existsSync(blobDir) ? readdirSync(blobDir) : []) {
    const bytes = readFileSync(join(blobDir, name));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), name, `a half-written blob is visible: ${name}`);
  }
  assert.deepEqual(existsSync(join(fresh, 'layers')) ? readdirSync(join(fresh, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)) : [], []);
  assert.equal(f('images', '-q').stdout, '');
  proxy.options.cutBlobsAfter = undefined;
  r = await berthAsync(['--root', fresh, '--run-root', runRoot, 'pull', `${proxy.host}/test/busybox:v1`]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(f('run', '--rm', `${proxy.host}/test/busybox:v1`, 'echo', 'complete').stdout, 'complete\n');
});

test('login with wrong credentials is refused; right ones are stored and used to push', () => {
  mkdirSync(dockerConfig, { recursive: true });
  let r = berth(['--root', dataRoot, 'login', '-u', 'alice', '--password-stdin', authRegistry.host], { input: 'wrong\n', env: { DOCKER_CONFIG: dockerConfig } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /incorrect username or password/);
  assert.ok(!existsSync(join(dockerConfig, 'config.json')) || !readFileSync(join(dockerConfig, 'config.json'), 'utf8').includes(authRegistry.host));
  const target = `${authRegistry.host}/private/busybox:v1`;
  assert.equal(b('tag', 'busybox', target).status, 0);
  r = b('push', target);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /authentication required/);
  r = berth(['--root', dataRoot, 'login', '-u', 'alice', '--password-stdin', authRegistry.host], { input: 's3cret\n', env: { DOCKER_CONFIG: dockerConfig } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Login Succeeded\n');
  const stored = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'));
  assert.equal(Buffer.from(stored.auths[authRegistry.host].auth, 'base64').toString(), 'alice:s3cret');
  r = b('push', target);
  assert.equal(r.status, 0, r.stderr);
  r = berth(['logout', authRegistry.host], { env: { DOCKER_CONFIG: dockerConfig } });
  assert.match(r.stdout, /Removing login credentials/);
  assert.equal(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')).auths[authRegistry.host], undefined);
  assert.equal(b('rmi', target).stdout, `Untagged: ${target}\n`);
});

test('a kept container shows in ps -a, holds its image against rmi, and rm removes it', () => {
  let r = b('run', '--name', 'keeper', 'busybox', 'sh', '-c', 'exit 2');
  assert.equal(r.status, 2);
  r = b('ps', '-a');
  assert.match(r.stdout, /CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[a-f0-9]{12}\s+busybox\s+"sh -c exit 2"\s+.*Exited \(2\).*keeper/);
  assert.equal(b('ps', '-q').stdout, '', 'nothing is running');
  r = b('rmi', 'busybox');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /container [a-f0-9]{12} is using its referenced image/);
  r = b('rm', 'keeper');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(b('ps', '-aq').stdout, '');
  r = b('rm', 'keeper');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^Error response from daemon: No such container: keeper$/m);
});

test('image prune removes dangling images; -a removes unused ones', () => {
  const tarball = join(root, 'busybox.tar');
  let r = b('import', tarball);
  assert.equal(r.status, 0, r.stderr);
  const dangling = r.stdout.trim();
  assert.match(b('images', '--filter', 'dangling=true', '-q', '--no-trunc').stdout, new RegExp(dangling.slice(7)));
  r = b('image', 'prune', '-f');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`deleted: ${dangling}`));
  assert.match(r.stdout, /Total reclaimed space: /);
  assert.equal(b('images', '--filter', 'dangling=true', '-q').stdout, '');
  assert.match(b('images', '-q', 'busybox').stdout, /^[a-f0-9]{12}\n$/, 'a named image stays');
});

test('save and load through the CLI: the image comes back under its name and runs', () => {
  const archive = join(root, 'busybox-save.tar');
  let r = b('save', '-o', archive, 'busybox');
  assert.equal(r.status, 0, r.stderr);
  const id = JSON.parse(b('image', 'inspect', 'busybox').stdout)[0].Id;
  const other = join(root, 'loaded');
  const o = (...args: string[]) => berth(['--root', other, '--run-root', runRoot, ...args]);
  r = o('load', '-i', archive);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
  assert.equal(JSON.parse(o('image', 'inspect', 'busybox').stdout)[0].Id, id);
  assert.equal(o('run', '--rm', 'busybox', 'echo', 'loaded').stdout, 'loaded\n');
  r = o('load', '-i', join(root, 'busybox.tar'));
  assert.equal(r.status, 125);
  assert.match(r.stderr, /manifest\.json|index\.json|archive entry/);
  r = b('save', '-o', join(root, 'never.tar'), 'nosuchimage');
  assert.equal(r.status, 125);
  assert.ok(!existsSync(join(root, 'never.tar')) && !existsSync(join(root, 'never.tar.berth-tmp')));
});

test('berth run passes a signal it receives on to the container, and cleans up after it', async () => {
  const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot,
    'run', '--rm', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while true; do sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(out, /ready/);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 7);
  assert.match(out, /got TERM/);
  assert.equal(b('ps', '-aq').stdout, '', '--rm removed it');
});

test('import takes a gzip or zstd tarball as well as a plain one, to the same layer', () => {
  const tarball = join(root, 'busybox.tar');
  execFileSync('gzip', ['-k', '-f', tarball]);
  execFileSync('zstd', ['-q', '-f', tarball, '-o', `${tarball}.zst`]);
  const ids = [tarball, `${tarball}.gz`, `${tarball}.zst`].map((f) => {
    const r = b('import', '--epoch', '--change', 'CMD ["sh"]', f, 'compressed:test');
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  });
  assert.equal(new Set(ids).size, 1, 'the same image whatever the input compression');
  assert.equal(b('rmi', 'compressed:test').status, 0);
});
