// Shared by the registry tests: real registries (Debian's docker-registry,
// the CNCF distribution server) started on 127.0.0.1 from a temporary
// config, a Bearer token server they trust, a small proxy that can record,
// redirect or corrupt, and a tiny image to push. Everything listens on
// loopback only and is stopped by the caller's `after`.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** Install docker-registry and htpasswd if missing, without letting the packaged service run. */
export function ensureRegistryTools(): void {
  const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (have('docker-registry') && have('htpasswd') && have('openssl')) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'docker-registry', 'apache2-utils', 'openssl'], { stdio: 'inherit', env });
  // The package enables a service on :5000 on every interface; the tests start their own.
  if (existsSync('/run/systemd/system')) spawnSync('systemctl', ['disable', '--now', 'docker-registry.service'], { stdio: 'inherit' });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningRegistry {
  /** host:port, as in image references. */
  host: string;
  url: string;
  log: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; certPath: string };

/** Start docker-registry on 127.0.0.1:<free port> with storage under dir. */
export async function startRegistry(dir: string, auth: RegistryAuth = { kind: 'none' }): Promise<RunningRegistry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: berth-test-secret',
  ];
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    writeFileSync(file, Object.entries(auth.users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim()).join('\n') + '\n');
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${file}`);
  } else if (auth.kind === 'token') {
    lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    rootcertbundle: ${auth.certPath}`);
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, lines.join('\n') + '\n');
  const log = join(dir, 'registry.log');
  const fd = openSync(log, 'w');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => { exited = true; running.delete(child); resolve(); }));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited at start:\n${readFileSync(log, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`${url}/v2/`, (res) => { res.resume(); resolve(true); });
      req.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${url} within 15 s:\n${readFileSync(log, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `127.0.0.1:${port}`, url, log, stop };
}

export interface Listening {
  port: number;
  url: string;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port, url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

// ---- Bearer token server ------------------------------------------------------

export interface TokenServer extends Listening {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Every token request: who asked (undefined = anonymous), for which scopes, refused or not. */
  requests: { user: string | undefined; scopes: string[]; rejected: boolean }[];
  /** Lifetime of the tokens it issues, in seconds (changeable). */
  expiresIn: number;
  /** Sign with a key the registry does not trust (changeable). */
  untrustedKey: boolean;
}

/**
 * A token server as Docker Hub's auth.docker.io behaves: GET /token?service=
 * &scope=repository:<name>:<actions> with optional Basic credentials. It signs
 * RS256 JWTs whose x5c header carries a self-signed certificate (made with
 * the openssl CLI); the registry trusts that certificate through its
 * `rootcertbundle`. `grant` decides the actions a user (undefined =
 * anonymous) gets on a repository; wrong credentials get 401.
 */
export async function startTokenServer(dir: string, users: Record<string, string>, grant: (user: string | undefined, repo: string, asked: string[]) => string[]): Promise<TokenServer> {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=berth-test-token-issuer'], { stdio: 'pipe' });
  const key = createPrivateKey(readFileSync(keyPath));
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const x5c = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenServer['requests'] = [];
  const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    let user: string | undefined;
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ')) {
      const text = Buffer.from(authz.slice(6), 'base64').toString('utf8');
      const i = text.indexOf(':');
      const [u, p] = [text.slice(0, i), text.slice(i + 1)];
      if (users[u] === undefined || users[u] !== p) {
        requests.push({ user: u, scopes, rejected: true });
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = u;
    }
    requests.push({ user, scopes, rejected: false });
    const access = scopes.map((s) => {
      const parts = s.split(':');
      const type = parts[0]!;
      const actions = parts[parts.length - 1]!.split(',');
      const name = parts.slice(1, -1).join(':');
      return { type, name, actions: type === 'repository' ? grant(user, name, actions).filter((a) => actions.includes(a)) : [] };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [x5c] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + self.expiresIn + 1, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), self.untrustedKey ? otherKey : key);
    const token = `${signingInput}.${b64url(signature)}`;
    // Docker Hub sends both names; send only `access_token` half the time to cover the fallback.
    const body = user === undefined ? { access_token: token, expires_in: self.expiresIn } : { token, expires_in: self.expiresIn, issued_at: new Date().toISOString() };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const l = await listen(server);
  const self: TokenServer = { ...l, realm: `${l.url}/token`, service, issuer, certPath, requests, expiresIn: 300, untrustedKey: false };
  return self;
}

// ---- a proxy in front of a registry ---------------------------------------------

export interface ProxyOptions {
  /** Change one byte of every manifest GET body, keeping the registry's Docker-Content-Digest. */
  corruptManifests?: boolean;
  /** Answer blob GETs with a 307 to the registry itself (another origin, as a CDN would be). */
  redirectBlobs?: boolean;
  /** Drop Range from requests, as a server without range support would ignore it. */
  dropRange?: boolean;
  /** Flip a byte of every blob GET body (same length): content that does not match its digest. */
  corruptBlobs?: boolean;
  /** Cut the connection after this many bytes of every blob GET body: an interrupted download. */
  cutBlobsAfter?: number;
  /** Append this many spaces to every manifest GET body (still valid JSON): a manifest of any size. */
  padManifests?: number;
  /** Answer every manifest request with this status and body, as a registry reporting an error. */
  failManifests?: { status: number; body: string };
}

export interface Proxy extends Listening {
  host: string;
  /** `METHOD path?query` of every request. */
  requests: string[];
  options: ProxyOptions;
}

export async function startProxy(target: string, options: ProxyOptions = {}): Promise<Proxy> {
  const requests: string[] = [];
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const path = req.url ?? '/';
    if (options.failManifests && /\/manifests\//.test(path)) {
      req.resume();
      res.writeHead(options.failManifests.status, { 'content-type': 'application/json' }).end(options.failManifests.body);
      return;
    }
    if (options.redirectBlobs && req.method === 'GET' && /\/blobs\/sha256:/.test(path)) {
      res.writeHead(307, { location: `${target}${path}` }).end();
      return;
    }
    // The Host header stays the proxy's: the registry builds upload Locations from it.
    const headers = { ...req.headers };
    if (options.dropRange) delete headers.range;
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path, headers }, (upRes) => {
      const isManifest = req.method === 'GET' && /\/manifests\//.test(path) && upRes.statusCode === 200;
      if ((options.corruptManifests || options.padManifests) && isManifest) {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.concat(chunks);
          // Valid JSON still, but other bytes: spaces before the closing brace.
          const i = body.lastIndexOf('}');
          const changed = Buffer.concat([body.subarray(0, i), Buffer.alloc(options.padManifests ?? 1, ' '), body.subarray(i)]);
          const h = { ...upRes.headers, 'content-length': String(changed.length) };
          res.writeHead(upRes.statusCode ?? 502, h).end(changed);
        });
        return;
      }
      const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(path) && upRes.statusCode === 200;
      if (isBlob && (options.corruptBlobs || options.cutBlobsAfter !== undefined)) {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        let sent = 0;
        let flipped = false;
        upRes.on('data', (c: Buffer) => {
          if (options.cutBlobsAfter !== undefined && sent + c.length > options.cutBlobsAfter) {
            res.write(c.subarray(0, Math.max(0, options.cutBlobsAfter - sent)));
            res.destroy();
            upRes.destroy();
            return;
          }
          if (options.corruptBlobs && !flipped && c.length > 0) {
            c = Buffer.from(c);
            c[c.length - 1] = c[c.length - 1]! ^ 0xff;
            flipped = true;
          }
          sent += c.length;
          res.write(c);
        });
        upRes.on('end', () => res.end());
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const l = await listen(server);
  return { ...l, host: `127.0.0.1:${l.port}`, requests, options };
}

// ---- a small image --------------------------------------------------------------

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export type Sha256 = `sha256:${string}`;

export function sha256(bytes: Buffer): Sha256 {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface Blob {
  bytes: Buffer;
  digest: Sha256;
  mediaType: string;
}

export interface TestImage {
  config: Blob;
  layer: Blob;
  manifest: Blob;
  /** The files in the layer. */
  files: Record<string, string>;
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function readTar(bytes: Buffer): Promise<Record<string, string>> {
  const extract = tar.extract();
  const files: Record<string, string> = {};
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files[entry.header.name] = Buffer.concat(chunks).toString('utf8');
    }
  })();
  extract.end(bytes);
  await done;
  return files;
}

/** A config blob, one gzip layer with the given files, and an OCI manifest naming them. */
export async function makeImage(files: Record<string, string> = { 'hello.txt': 'hello from berth\n' }): Promise<TestImage> {
  const tarBytes = await tarOf(files);
  const layerBytes = gzipSync(tarBytes);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256(tarBytes)] }, history: [{ created_by: 'berth test' }],
  }));
  const cfg: Blob = { bytes: config, digest: sha256(config), mediaType: OCI_CONFIG };
  const layer: Blob = { bytes: layerBytes, digest: sha256(layerBytes), mediaType: OCI_LAYER_GZIP };
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: cfg.mediaType, digest: cfg.digest, size: cfg.bytes.length },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.bytes.length }],
  }));
  return { config: cfg, layer, manifest: { bytes: manifest, digest: sha256(manifest), mediaType: OCI_MANIFEST }, files };
}

export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}
