// Authentication against real registries on 127.0.0.1: one docker-registry
// with htpasswd (Basic), one with token auth whose token server is written
// here (it signs RS256 JWTs with a self-signed certificate made by the
// openssl CLI, and the registry trusts that certificate through its
// rootcertbundle, so the registry itself checks every token). Also login and
// logout writing the Docker client config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../src/image/registry/client.js';
import { CredentialStore } from '../../src/image/registry/credentials.js';
import { login, logout } from '../../src/image/registry/login.js';
import { BerthError } from '../../src/util/errors.js';
import { tempRoot, cleanup } from '../support.js';
import {
  ensureRegistryTools, startRegistry, startTokenServer, makeImage, readAll, OCI_MANIFEST,
  type RunningRegistry, type TokenServer, type TestImage,
} from '../registry-support.js';

const root = tempRoot('registry-auth');
let basic: RunningRegistry | undefined;
let bearer: RunningRegistry | undefined;
let tokens: TokenServer | undefined;
let image: TestImage;
let n = 0;

const ALICE = { username: 'alice', password: 'correct horse, battery: staple' };
const BOB = { username: 'bob', password: 'b0b-s3cret' };

before(async () => {
  ensureRegistryTools();
  basic = await startRegistry(join(root, 'basic'), { kind: 'htpasswd', users: { [ALICE.username]: ALICE.password } });
  // Bob may pull and push everywhere; anyone may pull public/*; nothing else.
  tokens = await startTokenServer(join(root, 'token'), { [BOB.username]: BOB.password },
    (user, repo) => (user ? ['pull', 'push'] : repo.startsWith('public/') ? ['pull'] : []));
  bearer = await startRegistry(join(root, 'bearer'), { kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certPath: tokens.certPath });
  image = await makeImage();
});

after(async () => {
  await Promise.allSettled([basic?.stop(), bearer?.stop(), tokens?.close()]);
  cleanup(root);
});

/** A Docker config in a fresh directory, optionally with these credentials. */
function configWith(registry: string, creds?: { username: string; password: string }): CredentialStore {
  const dir = join(root, `docker-config-${++n}`);
  mkdirSync(dir, { recursive: true });
  const store = new CredentialStore(join(dir, 'config.json'));
  if (creds) store.store(registry, creds.username, creds.password);
  return store;
}

function client(registry: string, creds?: { username: string; password: string }): RegistryClient {
  return new RegistryClient({ registry, credentials: configWith(registry, creds) });
}

async function push(c: RegistryClient, repo: string, tag = 'v1'): Promise<string> {
  for (const b of [image.config, image.layer]) await c.uploadBlob(repo, b.digest, b.bytes.length, () => Readable.from([b.bytes]));
  return c.putManifest(repo, tag, image.manifest.bytes, image.manifest.mediaType);
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.kind, 'invalid');
    assert.match(err.message, message);
    return true;
  });
}

// ---- Basic ----------------------------------------------------------------------

test('basic: anonymous requests are told authentication is required', async () => {
  const c = client(basic!.host);
  await rejects(c.ping(), 'Unauthorized', new RegExp(`^registry ${basic!.host}: unauthorized: authentication required`));
  await rejects(push(c, 'secret/app'), 'Unauthorized', new RegExp(`^registry ${basic!.host}, repository secret/app: unauthorized: authentication required`));
});

test('basic: the right password pushes and pulls; a wrong one is a clear error', async () => {
  const c = client(basic!.host, ALICE);
  assert.equal(await push(c, 'secret/app'), image.manifest.digest);
  const m = await c.getManifest('secret/app', 'v1', [OCI_MANIFEST]);
  assert.equal(m.digest, image.manifest.digest);
  assert.deepEqual(await readAll(await c.blob('secret/app', image.layer.digest)), image.layer.bytes);

  const wrong = client(basic!.host, { username: ALICE.username, password: 'wrong' });
  await rejects(wrong.getManifest('secret/app', 'v1', [OCI_MANIFEST]), 'Unauthorized',
    new RegExp(`^registry ${basic!.host}, repository secret/app: unauthorized: incorrect username or password`));
});

test('basic: login checks the password first, stores it in the Docker config format, logout removes it', async () => {
  const store = configWith(basic!.host);
  // A config with other settings and another registry, which must survive.
  const before = { auths: { 'other.example:5000': { auth: Buffer.from('x:y').toString('base64') } }, psFormat: 'table {{.ID}}', credsStore: 'desktop' };
  writeFileSync(store.path, JSON.stringify(before));
  const original = readFileSync(store.path);

  await rejects(login(basic!.host, ALICE.username, 'wrong', { credentials: store }), 'Unauthorized',
    new RegExp(`^login to ${basic!.host} failed: unauthorized: incorrect username or password`));
  assert.deepEqual(readFileSync(store.path), original, 'a failed login leaves the file as it was');

  const r = await login(basic!.host, ALICE.username, ALICE.password, { credentials: store });
  assert.equal(r.path, store.path);
  assert.ok(r.warnings.some((w) => w.includes('unencrypted')));
  assert.ok(r.warnings.some((w) => w.includes('credsStore "desktop"')), 'the ignored credential helper is mentioned');
  const after = JSON.parse(readFileSync(store.path, 'utf8'));
  assert.deepEqual(after, {
    ...before,
    auths: { ...before.auths, [basic!.host]: { auth: Buffer.from(`${ALICE.username}:${ALICE.password}`).toString('base64') } },
  });
  assert.equal(statSync(store.path).mode & 0o777, 0o600);

  // What login stored is what the client uses.
  const c = new RegistryClient({ registry: basic!.host, credentials: new CredentialStore(store.path) });
  await c.ping();

  assert.deepEqual(logout(basic!.host, { credentials: store }), { registry: basic!.host, path: store.path, removed: true });
  assert.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')), before);
  assert.equal(logout(basic!.host, { credentials: store }).removed, false);
});

// ---- Bearer -----------------------------------------------------------------------

test('bearer: a user pushes and pulls with a token fetched with their password', async () => {
  const c = client(bearer!.host, BOB);
  tokens!.requests.length = 0;
  assert.equal(await push(c, 'team/app'), image.manifest.digest);
  assert.deepEqual(await readAll(await c.blob('team/app', image.config.digest)), image.config.bytes);
  const m = await c.getManifest('team/app', image.manifest.digest, [OCI_MANIFEST]);
  assert.equal(m.digest, image.manifest.digest);
  assert.ok(tokens!.requests.length > 0);
  assert.ok(tokens!.requests.every((r) => r.user === BOB.username && !r.rejected));
  assert.ok(tokens!.requests.some((r) => r.scopes.includes('repository:team/app:pull,push')));
});

test('bearer: tokens are cached per scope', async () => {
  const c = client(bearer!.host, BOB);
  await push(c, 'team/cached');
  tokens!.requests.length = 0;
  await c.getManifest('team/cached', 'v1', [OCI_MANIFEST]);
  await c.getManifest('team/cached', 'v1', [OCI_MANIFEST]);
  await c.hasBlob('team/cached', image.layer.digest);
  assert.deepEqual(tokens!.requests.map((r) => r.scopes), [['repository:team/cached:pull']], 'one token for the pull scope, reused');
});

test('bearer: an expired token is replaced', async () => {
  const c = client(bearer!.host, BOB);
  await push(c, 'team/expiry');
  tokens!.expiresIn = 1;
  try {
    tokens!.requests.length = 0;
    await c.getManifest('team/expiry', 'v1', [OCI_MANIFEST]);
    await c.getManifest('team/expiry', 'v1', [OCI_MANIFEST]);
    assert.equal(tokens!.requests.length, 1, 'reused while fresh');
    // A 1 s token is used for half its life at most.
    await new Promise((r) => setTimeout(r, 700));
    await c.getManifest('team/expiry', 'v1', [OCI_MANIFEST]);
    assert.equal(tokens!.requests.length, 2, 'fetched again once expired');
  } finally {
    tokens!.expiresIn = 300;
  }
});

test('bearer: a token the registry refuses is reported as such, not as a wrong password', async () => {
  tokens!.untrustedKey = true;
  try {
    const c = client(bearer!.host, BOB);
    await rejects(c.getManifest('team/app', 'v1', [OCI_MANIFEST]), 'Unauthorized',
      new RegExp(`^registry ${bearer!.host}, repository team/app: unauthorized: the registry refused the token its token server issued \\(invalid_token`));
  } finally {
    tokens!.untrustedKey = false;
  }
});

test('bearer: a blob mounts across repositories with a token for both', async () => {
  const c = client(bearer!.host, BOB);
  await push(c, 'team/mount-src');
  tokens!.requests.length = 0;
  assert.equal(await c.mountBlob('team/mount-dst', image.layer.digest, 'team/mount-src'), true);
  assert.deepEqual(tokens!.requests.at(-1)!.scopes.sort(), ['repository:team/mount-dst:pull,push', 'repository:team/mount-src:pull']);
  assert.equal(await c.hasBlob('team/mount-dst', image.layer.digest), true);
});

test('bearer: anonymous pulls get an anonymous token; private repositories are denied', async () => {
  await push(client(bearer!.host, BOB), 'public/app');
  const anon = client(bearer!.host);
  tokens!.requests.length = 0;
  const m = await anon.getManifest('public/app', 'v1', [OCI_MANIFEST]);
  assert.equal(m.digest, image.manifest.digest);
  assert.deepEqual(await readAll(await anon.blob('public/app', image.layer.digest)), image.layer.bytes);
  assert.ok(tokens!.requests.every((r) => r.user === undefined));

  await rejects(anon.getManifest('team/app', 'v1', [OCI_MANIFEST]), 'Denied',
    new RegExp(`^registry ${bearer!.host}, repository team/app: denied: requested access to the resource is denied`));
  await rejects(push(anon, 'public/app', 'v2'), 'Denied', /denied/);
});

test('bearer: wrong credentials are refused by the token server with a clear error', async () => {
  const wrong = client(bearer!.host, { username: BOB.username, password: 'nope' });
  await rejects(wrong.getManifest('public/app', 'v1', [OCI_MANIFEST]), 'Unauthorized',
    new RegExp(`^registry ${bearer!.host}, repository public/app: unauthorized: incorrect username or password`));
  await rejects(new RegistryClient({ registry: bearer!.host, credentials: { get: () => ({ username: 'mallory', password: 'x' }) } }).ping(),
    'Unauthorized', /incorrect username or password/);
});

test('bearer: login stores only credentials the token server accepts', async () => {
  const store = configWith(bearer!.host);
  await rejects(login(bearer!.host, BOB.username, 'nope', { credentials: store }), 'Unauthorized', /^login to .* failed: unauthorized: incorrect username or password/);
  assert.equal(existsSync(store.path), false, 'nothing stored');

  tokens!.requests.length = 0;
  await login(bearer!.host, BOB.username, BOB.password, { credentials: store });
  assert.deepEqual(tokens!.requests, [{ user: BOB.username, scopes: [], rejected: false }]);
  assert.deepEqual(store.get(bearer!.host), BOB);
  assert.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')), { auths: { [bearer!.host]: { auth: Buffer.from(`${BOB.username}:${BOB.password}`).toString('base64') } } });
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.equal(logout(bearer!.host, { credentials: store }).removed, true);
  assert.equal(store.get(bearer!.host), undefined);
});
