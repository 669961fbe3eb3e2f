// The registry client's pure parts: WWW-Authenticate parsing, registry
// endpoints and insecure rules, and the Docker config credentials file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWwwAuthenticate } from '../../src/image/registry/auth.js';
import { registryBaseUrl, isLoopback, normalizeRegistry } from '../../src/image/registry/endpoint.js';
import { CredentialStore, dockerConfigPath, DOCKER_HUB_AUTH_KEY } from '../../src/image/registry/credentials.js';
import { BerthError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-unit-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('WWW-Authenticate: Docker Hub style Bearer with a quoted scope holding a comma', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } },
  ]);
});

test('WWW-Authenticate: several challenges, spaces, escapes, token values, case', () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="a \\"quoted\\" realm, with comma" , BEARER Realm = https://x/token ,error="insufficient_scope", Negotiate abc123=='), [
    { scheme: 'basic', params: { realm: 'a "quoted" realm, with comma' } },
    { scheme: 'bearer', params: { realm: 'https://x/token', error: 'insufficient_scope' } },
    { scheme: 'negotiate', params: { '': 'abc123==' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(['Basic realm="r"', 'Bearer realm="t"']).map((c) => c.scheme), ['basic', 'bearer']);
  assert.deepEqual(parseWwwAuthenticate('Basic'), [{ scheme: 'basic', params: {} }]);
  assert.deepEqual(parseWwwAuthenticate('Basic, Bearer realm="t"').map((c) => c.scheme), ['basic', 'bearer']);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  // Garbage does not throw.
  assert.doesNotThrow(() => parseWwwAuthenticate('"unterminated, =, ,,, Bearer realm="x'));
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
});

test('endpoints: docker.io, loopback over HTTP, insecure by option or environment', () => {
  assert.equal(registryBaseUrl('docker.io').href, 'https://registry-1.docker.io/');
  assert.equal(registryBaseUrl('index.docker.io').href, 'https://registry-1.docker.io/');
  assert.equal(normalizeRegistry('Registry-1.Docker.IO'), 'docker.io');
  assert.equal(registryBaseUrl('localhost:5000').href, 'http://localhost:5000/');
  assert.equal(registryBaseUrl('127.1.2.3:80').href, 'http://127.1.2.3/');
  assert.equal(registryBaseUrl('[::1]:5000').href, 'http://[::1]:5000/');
  assert.equal(registryBaseUrl('ghcr.io').href, 'https://ghcr.io/');
  assert.equal(registryBaseUrl('reg.lan:5000', true).href, 'http://reg.lan:5000/');
  const env = { BERTH_INSECURE_REGISTRIES: 'reg.lan:5000, other.lan' };
  assert.equal(registryBaseUrl('reg.lan:5000', false, env).href, 'http://reg.lan:5000/');
  assert.equal(registryBaseUrl('reg.lan:5001', false, env).href, 'https://reg.lan:5001/');
  assert.equal(registryBaseUrl('other.lan:9', false, env).href, 'http://other.lan:9/');
  assert.equal(isLoopback('128.0.0.1:5000'), false);
  assert.throws(() => registryBaseUrl('http://x'), (e: unknown) => e instanceof BerthError && e.code === 'InvalidRegistry');
});

test('credentials: Docker config path from DOCKER_CONFIG or HOME', () => {
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/etc/dc' }), '/etc/dc/config.json');
  assert.equal(dockerConfigPath({ HOME: '/home/u' }), '/home/u/.docker/config.json');
});

test('credentials: store, get, erase in the Docker format; Docker Hub under its v1 key', () => {
  const path = join(dir, 'a', 'config.json');
  const store = new CredentialStore(path);
  assert.equal(store.get('docker.io'), undefined);
  store.store('docker.io', 'me', 'p:a:ss');
  store.store('localhost:5000', 'u', 'pw');
  const file = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(file, { auths: {
    [DOCKER_HUB_AUTH_KEY]: { auth: Buffer.from('me:p:a:ss').toString('base64') },
    'localhost:5000': { auth: Buffer.from('u:pw').toString('base64') },
  } });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(store.get('index.docker.io'), { username: 'me', password: 'p:a:ss' });
  assert.deepEqual(store.get('LOCALHOST:5000'), { username: 'u', password: 'pw' });
  assert.equal(store.get('localhost:5001'), undefined);
  assert.equal(store.erase('docker.io'), true);
  assert.equal(store.erase('docker.io'), false);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(path, 'utf8')).auths), ['localhost:5000']);
});

test('credentials: keys as Docker writes them elsewhere (scheme, path), username/password fields, helper entries', () => {
  const path = join(dir, 'b.json');
  writeFileSync(path, JSON.stringify({ auths: {
    'https://reg.example.com/v1/': { auth: Buffer.from('a:b').toString('base64') },
    'http://plain.example:5000': { username: 'c', password: 'd' },
    'helper.example': {},
  }, credsStore: 'pass' }));
  const store = new CredentialStore(path);
  assert.deepEqual(store.get('reg.example.com'), { username: 'a', password: 'b' });
  assert.deepEqual(store.get('plain.example:5000'), { username: 'c', password: 'd' });
  assert.equal(store.get('helper.example'), undefined);
  assert.match(store.helperNote() ?? '', /credsStore "pass".*does not run credential helpers/);
  // Storing replaces the old spelling of the same registry with berth's.
  store.store('reg.example.com', 'e', 'f');
  const auths = JSON.parse(readFileSync(path, 'utf8')).auths;
  assert.equal(auths['https://reg.example.com/v1/'], undefined);
  assert.deepEqual(store.get('reg.example.com'), { username: 'e', password: 'f' });
});

test('credentials: a broken config file is a clear error naming it', () => {
  const path = join(dir, 'broken.json');
  writeFileSync(path, '{ not json');
  assert.throws(() => new CredentialStore(path).get('docker.io'), (e: unknown) => e instanceof BerthError && e.code === 'InvalidDockerConfig' && e.message.includes(path));
  writeFileSync(path, JSON.stringify({ auths: { 'x.io': { auth: Buffer.from('nocolon').toString('base64') } } }));
  assert.throws(() => new CredentialStore(path).get('x.io'), /auths\["x\.io"\]\.auth is not base64/);
});
