// The OCI Distribution API client: manifests and blobs in and out of one
// registry, with authentication (auth.ts) and the registry's errors made
// clear (http.ts). Transport only: it stores nothing, and blob bytes are
// returned as streams for the content store to hash and keep.
//
//   GET/HEAD /v2/                                  ping (and learn the auth scheme)
//   GET/HEAD /v2/<repo>/manifests/<tag|digest>     getManifest / headManifest
//   PUT      /v2/<repo>/manifests/<tag|digest>     putManifest
//   GET/HEAD /v2/<repo>/blobs/<digest>             blob (redirects followed, Range resume) / hasBlob
//   POST     /v2/<repo>/blobs/uploads/?mount=&from= mountBlob (201 mounted, 202 → session cancelled)
//   POST     /v2/<repo>/blobs/uploads/             start an upload, then
//   PATCH    <location>  Content-Range: a-b       chunks (when chunkSize is given), and
//   PUT      <location>?digest=                    the rest (monolithic) and the end
//
// Every request goes out with the authorization known for its scopes; on a
// 401 the challenge is handed to the Authenticator and the request is sent
// once more (bodies are Buffers or stream factories, so they can be re-sent).
import type { IncomingMessage } from 'node:http';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { BerthError, invalid } from '../../util/errors.js';
import { debug } from '../../util/debug.js';
import { escapeControls } from '../../util/terminal-text.js';
import { Authenticator, parseWwwAuthenticate, repositoryScope, unauthorized } from './auth.js';
import { checkReference, checkRepository, displayName, normalizeRegistry, registryBaseUrl } from './endpoint.js';
import { DEFAULT_TIMEOUT_MS, RegistryError, drain, parseErrors, readBody, responseError, send, unreachable } from './http.js';
import { isDigest, sha256, type Digest } from '../digest.js';
import { METADATA_LIMITS, checkSize, tooLarge } from '../limits.js';
import type { CredentialSource } from './types.js';

export { RegistryError } from './http.js';
export type { Credentials, CredentialSource } from './types.js';

const MAX_ERROR_BODY = 1 << 16;
const MAX_REDIRECTS = 10;
const USER_AGENT = `berth/0.1 (node ${process.version}; ${process.platform})`;

export interface RegistryClientOptions {
  /** As in an image reference: `docker.io`, `localhost:5000`, `registry.example.com`. */
  registry: string;
  /** Plain HTTP for this registry (loopback registries and BERTH_INSECURE_REGISTRIES get it anyway). */
  insecure?: boolean;
  /** Where to look up the user's credentials (a CredentialStore, usually). Anonymous without. */
  credentials?: CredentialSource;
  userAgent?: string;
  /** Idle timeout of one request, in milliseconds (default 60 s). */
  timeoutMs?: number;
}

export interface ManifestResponse {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface ManifestDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
}

export interface UploadOptions {
  /** Upload in PATCH chunks of this many bytes instead of one PUT. */
  chunkSize?: number;
}

export interface PingResult {
  /** The Docker-Distribution-Api-Version header, usually `registry/2.0`. */
  apiVersion: string | undefined;
}

type Body = Buffer | (() => Readable);

interface Call {
  method: string;
  /** A path under the base URL (`/v2/...`), or an absolute upload location. */
  url: URL;
  scopes: string[];
  repository?: string;
  what: string;
  headers?: Record<string, string>;
  body?: Body;
  /** Statuses returned to the caller; any other is thrown as a RegistryError. */
  expect: number[];
}

export class RegistryClient {
  /** The registry as named in references, normalised (`docker.io` for every Docker Hub alias). */
  readonly registry: string;
  /** Where the API lives: https://registry-1.docker.io, http://localhost:5000, ... */
  readonly baseUrl: URL;
  private readonly auth: Authenticator;
  private readonly userAgent: string;
  private readonly timeoutMs: number;

  constructor(opts: RegistryClientOptions) {
    this.registry = normalizeRegistry(opts.registry);
    this.baseUrl = registryBaseUrl(this.registry, opts.insecure ?? false);
    this.userAgent = opts.userAgent ?? USER_AGENT;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.auth = new Authenticator({ registry: this.registry, credentials: opts.credentials, userAgent: this.userAgent, timeoutMs: this.timeoutMs });
  }

  /** GET /v2/, authenticated if the registry asks: proves it speaks the API and that our credentials (if any) work. */
  async ping(): Promise<PingResult> {
    const res = await this.call({ method: 'GET', url: this.url('/v2/'), scopes: [], what: `the API check (GET /v2/) of registry ${this.registry}`, expect: [200] });
    drain(res);
    const v = res.headers['docker-distribution-api-version'];
    return { apiVersion: Array.isArray(v) ? v[0] : v };
  }

  /**
   * Fetch a manifest or index by tag or digest. The digest returned is
   * computed from the bytes (a registry's Docker-Content-Digest header is
   * not trusted); fetched by digest, bytes with another digest are refused.
   */
  async getManifest(repo: string, reference: string, accept: string[]): Promise<ManifestResponse> {
    this.check(repo, reference);
    const name = this.manifestName(repo, reference);
    const res = await this.call({
      method: 'GET', url: this.url(`/v2/${repo}/manifests/${reference}`), scopes: [repositoryScope(repo, 'pull')], repository: repo,
      what: `manifest ${name}`, headers: { accept: accept.join(', ') }, expect: [200],
    });
    const bytes = await readBody(res, METADATA_LIMITS.manifest, `manifest ${name}`, (size) => tooLarge('manifest', `manifest ${name} from registry ${this.registry}`, size));
    const digest = sha256(bytes);
    if (reference.includes(':') && reference !== digest) {
      throw new BerthError('invalid', 'DigestMismatch',
        `manifest ${name} from registry ${this.registry} has digest ${digest}, not the ${reference} asked for: refusing it (the content was changed on the way or by the registry)`);
    }
    const said = headerOf(res, 'docker-content-digest');
    if (said && said !== digest) debug('registry %s: manifest %s: Docker-Content-Digest %s, computed %s (using the computed one)', this.registry, name, said, digest);
    return { bytes, digest, mediaType: manifestMediaType(headerOf(res, 'content-type'), bytes) };
  }

  /**
   * HEAD a manifest: its digest, media type and size without the bytes, or
   * undefined when the registry does not have it. When the registry sends no
   * Docker-Content-Digest, the manifest is fetched to compute it.
   */
  async headManifest(repo: string, reference: string, accept: string[]): Promise<ManifestDescriptor | undefined> {
    this.check(repo, reference);
    const name = this.manifestName(repo, reference);
    const res = await this.call({
      method: 'HEAD', url: this.url(`/v2/${repo}/manifests/${reference}`), scopes: [repositoryScope(repo, 'pull')], repository: repo,
      what: `manifest ${name}`, headers: { accept: accept.join(', ') }, expect: [200, 404],
    });
    drain(res);
    if (res.statusCode === 404) return undefined;
    const said = headerOf(res, 'docker-content-digest');
    const size = Number(headerOf(res, 'content-length'));
    const type = headerOf(res, 'content-type');
    if (said && isDigest(said) && Number.isSafeInteger(size) && type && !isGenericType(type)) {
      if (reference.includes(':') && said !== reference) {
        throw new BerthError('invalid', 'DigestMismatch', `manifest ${name}: registry ${this.registry} says its digest is ${said}, not the ${reference} asked for`);
      }
      return { digest: said, size, mediaType: stripParams(type) };
    }
    const m = await this.getManifest(repo, reference, accept);
    return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
  }

  /**
   * Stream a blob. Redirects (to a CDN or object store) are followed, without
   * our Authorization once they leave the registry's origin. With offset > 0
   * the download resumes there (Range); a server that ignores Range gets its
   * first bytes skipped here, so the stream always starts at offset.
   */
  async blob(repo: string, digest: Digest, opts: { offset?: number } = {}): Promise<Readable> {
    this.check(repo);
    this.checkDigest(repo, digest);
    const offset = opts.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('InvalidOffset', `invalid resume offset ${offset} for blob ${digest}`);
    const what = `blob ${digest} in ${displayName(this.registry, repo)}`;
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    let res = await this.call({
      method: 'GET', url: this.url(`/v2/${repo}/blobs/${digest}`), scopes: [repositoryScope(repo, 'pull')], repository: repo,
      what, headers, expect: [200, 206, 301, 302, 303, 307, 308],
    });
    let url = this.url(`/v2/${repo}/blobs/${digest}`);
    for (let hops = 0; isRedirect(res.statusCode); hops++) {
      drain(res);
      const location = headerOf(res, 'location');
      if (!location) throw new RegistryError('system', 'RegistryError', `${what}: registry ${this.registry} redirected without a Location`, { status: res.statusCode ?? 0, registry: this.registry, repository: repo });
      if (hops >= MAX_REDIRECTS) throw new RegistryError('system', 'RegistryError', `${what}: more than ${MAX_REDIRECTS} redirects`, { status: res.statusCode ?? 0, registry: this.registry, repository: repo });
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new RegistryError('system', 'RegistryError', `${what}: redirected to unsupported ${next.protocol} URL`, { status: res.statusCode ?? 0, registry: this.registry, repository: repo });
      debug('registry %s: %s redirected to %s', this.registry, what, next.origin);
      if (next.origin === this.baseUrl.origin) {
        res = await this.call({ method: 'GET', url: next, scopes: [repositoryScope(repo, 'pull')], repository: repo, what, headers, expect: [200, 206, 301, 302, 303, 307, 308] });
      } else {
        // Another origin (object storage): it authenticates by the signed URL, never by our token.
        res = await this.plain('GET', next, headers, what, repo);
        if (![200, 206].includes(res.statusCode ?? 0) && !isRedirect(res.statusCode)) {
          throw responseError(res, await readBody(res, MAX_ERROR_BODY, 'an error body').catch(() => Buffer.alloc(0)), { registry: this.registry, repository: repo, what: `${what} (at ${next.origin})` });
        }
      }
      url = next;
    }
    if (offset > 0 && res.statusCode === 200) {
      debug('registry %s: %s: Range ignored, skipping %d bytes', this.registry, what, offset);
      return res.pipe(new SkipBytes(offset));
    }
    return res;
  }

  /** Whether the repository has the blob (HEAD). */
  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    this.check(repo);
    this.checkDigest(repo, digest);
    const res = await this.call({
      method: 'HEAD', url: this.url(`/v2/${repo}/blobs/${digest}`), scopes: [repositoryScope(repo, 'pull')], repository: repo,
      what: `blob ${digest} in ${displayName(this.registry, repo)}`, expect: [200, 404, 307, 302],
    });
    drain(res);
    return res.statusCode !== 404;
  }

  /**
   * Ask the registry to link a blob it already holds in fromRepo into repo
   * (cross-repository mount). True when mounted (201); false when the
   * registry opened an upload instead (202), which is cancelled here.
   */
  async mountBlob(repo: string, digest: Digest, fromRepo: string): Promise<boolean> {
    this.check(repo);
    this.check(fromRepo);
    this.checkDigest(repo, digest);
    const url = this.url(`/v2/${repo}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', fromRepo);
    const res = await this.call({
      method: 'POST', url, scopes: [repositoryScope(repo, 'pull,push'), repositoryScope(fromRepo, 'pull')], repository: repo,
      what: `mount of blob ${digest} from ${fromRepo} into ${displayName(this.registry, repo)}`, headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [201, 202],
    });
    drain(res);
    if (res.statusCode === 201) return true;
    const location = headerOf(res, 'location');
    if (location) await this.cancelUpload(repo, new URL(location, url));
    return false;
  }

  /**
   * Upload a blob of known digest and size. `source` is called for each
   * attempt (a retry after a 401 needs the bytes again) and must yield
   * exactly `size` bytes. One PUT by default; PATCH chunks of chunkSize
   * bytes (Content-Range) then a closing PUT when chunkSize is given. A
   * failed upload's session is cancelled.
   */
  async uploadBlob(repo: string, digest: Digest, size: number, source: () => Readable, opts: UploadOptions = {}): Promise<void> {
    this.check(repo);
    this.checkDigest(repo, digest);
    if (!Number.isSafeInteger(size) || size < 0) throw invalid('InvalidSize', `invalid size ${size} for blob ${digest}`);
    const chunkSize = opts.chunkSize;
    if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize <= 0)) throw invalid('InvalidChunkSize', `invalid chunk size ${chunkSize}`);
    const scopes = [repositoryScope(repo, 'pull,push')];
    const name = displayName(this.registry, repo);
    const what = `upload of blob ${digest} to ${name}`;
    const start = await this.call({
      method: 'POST', url: this.url(`/v2/${repo}/blobs/uploads/`), scopes, repository: repo, what,
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [202],
    });
    drain(start);
    let location = this.location(start, this.url(`/v2/${repo}/blobs/uploads/`), what, repo);
    try {
      let done: IncomingMessage;
      if (chunkSize === undefined) {
        done = await this.call({
          method: 'PUT', url: withDigest(location, digest), scopes, repository: repo, what,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
          body: () => exactly(source(), size, what), expect: [201],
        });
      } else {
        let offset = 0;
        for await (const chunk of chunks(source(), chunkSize)) {
          if (offset + chunk.length > size) throw invalid('SizeMismatch', `${what}: the source yields more than the ${size} bytes announced`);
          const res = await this.call({
            method: 'PATCH', url: location, scopes, repository: repo, what,
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${offset + chunk.length - 1}` },
            body: chunk, expect: [202],
          });
          drain(res);
          location = this.location(res, location, what, repo);
          offset += chunk.length;
        }
        if (offset !== size) throw invalid('SizeMismatch', `${what}: the source yielded ${offset} bytes, not the ${size} announced`);
        done = await this.call({
          method: 'PUT', url: withDigest(location, digest), scopes, repository: repo, what,
          headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [201],
        });
      }
      drain(done);
      const said = headerOf(done, 'docker-content-digest');
      if (said && said !== digest) {
        throw new BerthError('invalid', 'DigestMismatch', `${what}: registry ${this.registry} stored it as ${said}`);
      }
    } catch (err) {
      await this.cancelUpload(repo, location);
      throw err;
    }
  }

  /** Store a manifest under a tag or its digest; returns its digest (computed here, checked against the registry's). */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    this.check(repo, reference);
    const digest = sha256(bytes);
    const name = this.manifestName(repo, reference);
    if (reference.includes(':') && reference !== digest) {
      throw invalid('DigestMismatch', `cannot push manifest as ${name}: its content has digest ${digest}`);
    }
    checkSize('manifest', `push of manifest ${name}: the manifest`, bytes.length);
    const res = await this.call({
      method: 'PUT', url: this.url(`/v2/${repo}/manifests/${reference}`), scopes: [repositoryScope(repo, 'pull,push')], repository: repo,
      what: `push of manifest ${name}`, headers: { 'content-type': mediaType, 'content-length': String(bytes.length) }, body: bytes, expect: [201, 200],
    });
    drain(res);
    const said = headerOf(res, 'docker-content-digest');
    if (said && said !== digest) {
      throw new BerthError('invalid', 'DigestMismatch', `push of manifest ${name}: registry ${this.registry} stored it as ${said}, not ${digest}`);
    }
    return digest;
  }

  // ---- plumbing -------------------------------------------------------------

  /** One API request with authentication: the known authorization, then once more after a 401. */
  private async call(c: Call): Promise<IncomingMessage> {
    let retried = false;
    for (;;) {
      // Credentials and tokens go to the registry's own origin only (an upload
      // Location may point elsewhere).
      const authorization = c.url.origin === this.baseUrl.origin ? await this.auth.authorization(c.scopes, c.repository) : undefined;
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...c.headers };
      if (authorization) headers.authorization = authorization;
      const body = typeof c.body === 'function' ? c.body() : c.body;
      let res: IncomingMessage;
      try {
        res = await send({ method: c.method, url: c.url, headers, body, timeoutMs: this.timeoutMs });
      } catch (err) {
        if (body && !Buffer.isBuffer(body)) body.destroy();
        if (err instanceof BerthError) throw err;
        throw unreachable(this.registry, c.url, err);
      }
      const status = res.statusCode ?? 0;
      if (status === 401) {
        const errBody = await readBody(res, MAX_ERROR_BODY, 'an error body').catch(() => Buffer.alloc(0));
        if (body && !Buffer.isBuffer(body)) body.destroy();
        const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
        const bearer = challenges.find((ch) => ch.scheme === 'bearer');
        if (!retried && this.auth.challenged(challenges, c.scopes, authorization)) {
          retried = true;
          debug('registry %s: 401 on %s %s, retrying with %s auth', this.registry, c.method, c.url.pathname, challenges.map((ch) => ch.scheme).join('/'));
          continue;
        }
        if (challenges.length === 0) throw responseError(res, errBody, { registry: this.registry, repository: c.repository, what: c.what });
        const sentToken = authorization?.startsWith('Bearer ') ?? false;
        const bearerError = bearer?.params.error;
        throw unauthorized({
          registry: this.registry, repository: c.repository, hadCredentials: this.auth.credentials() !== undefined,
          insufficientScope: bearerError === 'insufficient_scope' ? (bearer?.params.scope ?? '') : undefined,
          tokenRefused: sentToken && bearerError !== undefined && bearerError !== 'insufficient_scope' ? bearerError : undefined,
          said: escapeControls(parseErrors(errBody).map((e) => e.message || e.code).join('; ')) || undefined,
        });
      }
      if (c.expect.includes(status)) return res;
      const errBody = await readBody(res, MAX_ERROR_BODY, 'an error body').catch(() => Buffer.alloc(0));
      if (body && !Buffer.isBuffer(body)) body.destroy();
      throw responseError(res, errBody, { registry: this.registry, repository: c.repository, what: c.what });
    }
  }

  /** A request to another origin (a blob redirect), without our Authorization. */
  private async plain(method: string, url: URL, headers: Record<string, string>, what: string, repo: string): Promise<IncomingMessage> {
    try {
      return await send({ method, url, headers: { 'user-agent': this.userAgent, ...headers }, timeoutMs: this.timeoutMs });
    } catch (err) {
      throw new RegistryError('system', 'RegistryUnreachable', `${what}: ${url.origin} (where registry ${this.registry} redirected) is unreachable: ${err instanceof Error ? err.message : String(err)}`,
        { status: 0, registry: this.registry, repository: repo, cause: err });
    }
  }

  private async cancelUpload(repo: string, location: URL): Promise<void> {
    try {
      const res = await this.call({ method: 'DELETE', url: location, scopes: [repositoryScope(repo, 'pull,push')], repository: repo, what: 'cancelling an upload', expect: [204, 200, 202, 404] });
      drain(res);
    } catch (err) {
      debug('registry %s: cancelling upload %s failed: %s', this.registry, location.pathname, err instanceof Error ? err.message : String(err));
    }
  }

  private location(res: IncomingMessage, base: URL, what: string, repo: string): URL {
    const location = headerOf(res, 'location');
    if (!location) throw new RegistryError('system', 'RegistryError', `${what}: registry ${this.registry} answered ${res.statusCode} without a Location for the upload`, { status: res.statusCode ?? 0, registry: this.registry, repository: repo });
    return new URL(location, base);
  }

  private url(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  private check(repo: string, reference?: string): void {
    checkRepository(this.registry, repo);
    if (reference !== undefined) checkReference(this.registry, repo, reference);
    if (reference !== undefined && reference.includes(':') && !isDigest(reference)) {
      throw invalid('UnsupportedDigest', `${this.manifestName(repo, reference)}: only sha256 digests are supported`);
    }
  }

  private checkDigest(repo: string, digest: string): void {
    if (!isDigest(digest)) throw invalid('InvalidDigest', `invalid blob digest "${digest}" for ${displayName(this.registry, repo)}: expected sha256:<64 hex digits>`);
  }

  private manifestName(repo: string, reference: string): string {
    return `${displayName(this.registry, repo)}${reference.includes(':') ? '@' : ':'}${reference}`;
  }
}

function headerOf(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function stripParams(type: string): string {
  return type.split(';')[0]!.trim().toLowerCase();
}

function isGenericType(type: string): boolean {
  const t = stripParams(type);
  return t === '' || t === 'application/json' || t === 'text/plain' || t === 'application/octet-stream';
}

/** The Content-Type, or (when that is missing or generic) the manifest's own mediaType field. */
function manifestMediaType(contentType: string | undefined, bytes: Buffer): string {
  if (contentType && !isGenericType(contentType)) return stripParams(contentType);
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { mediaType?: unknown }).mediaType === 'string') {
      return (parsed as { mediaType: string }).mediaType;
    }
  } catch {
    /* not JSON: the caller's parser will say so */
  }
  return contentType ? stripParams(contentType) : '';
}

function withDigest(location: URL, digest: Digest): URL {
  const u = new URL(location.href);
  u.searchParams.set('digest', digest);
  return u;
}

/** Re-cut a stream into Buffers of exactly `size` bytes (the last one shorter). */
async function* chunks(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  try {
    for await (const data of source as AsyncIterable<Buffer | string>) {
      let buf = typeof data === 'string' ? Buffer.from(data) : data;
      while (length + buf.length >= size) {
        const take = size - length;
        pending.push(buf.subarray(0, take));
        yield Buffer.concat(pending);
        pending = [];
        length = 0;
        buf = buf.subarray(take);
      }
      if (buf.length > 0) {
        pending.push(buf);
        length += buf.length;
      }
    }
    if (length > 0) yield Buffer.concat(pending);
  } finally {
    source.destroy();
  }
}

function exactly(source: Readable, size: number, what: string): Readable {
  const checked = new ExactSize(size, what);
  source.on('error', (err) => checked.destroy(err));
  checked.on('close', () => source.destroy());
  return source.pipe(checked);
}

/** Passes exactly `size` bytes or fails: a Content-Length we announced must hold. */
class ExactSize extends Transform {
  private seen = 0;
  constructor(private readonly size: number, private readonly what: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) cb(invalid('SizeMismatch', `${this.what}: the source yields more than the ${this.size} bytes announced`));
    else cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.seen !== this.size) cb(invalid('SizeMismatch', `${this.what}: the source yielded ${this.seen} bytes, not the ${this.size} announced`));
    else cb();
  }
}

/** Drops the first n bytes (a resume the server did not honour with 206). */
class SkipBytes extends Transform {
  constructor(private left: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.left >= chunk.length) {
      this.left -= chunk.length;
      cb();
      return;
    }
    const rest = chunk.subarray(this.left);
    this.left = 0;
    cb(null, rest);
  }
}
