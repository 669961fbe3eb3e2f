// Registry authentication as the Docker client does it. A registry says how
// it wants to be asked in a 401's WWW-Authenticate header:
//   Basic realm="..."                       → send the user's password on every request
//   Bearer realm="https://auth/token",service="registry",scope="repository:app:pull"
//                                           → fetch a token from the realm for the
//                                             scopes a request needs (with the user's
//                                             password as Basic if we have one,
//                                             anonymously otherwise) and send it
// Tokens are cached per set of scopes until shortly before they expire. The
// client retries a request once after a 401 with what it learnt here; a
// second 401 is the user's error (see unauthorized()).
import { debug } from '../../util/debug.js';
import { DEFAULT_TIMEOUT_MS, RegistryError, drain, readBody, send } from './http.js';
import type { CredentialSource, Credentials } from './types.js';

/** One challenge of a WWW-Authenticate header; scheme lowercased, parameter names lowercased. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/**
 * Parse WWW-Authenticate (RFC 9110 §11.6.1): several challenges, separated
 * by commas, each a scheme and either comma-separated name=value parameters
 * (values are tokens or quoted strings that may hold commas and \-escapes) or
 * a token68. Several header lines are several lists. Malformed parts are
 * skipped, never thrown on: the header comes from a server.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseWwwAuthenticate(h));
  const s = header;
  let i = 0;
  const out: Challenge[] = [];
  const skipWs = (): void => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
  const skipSeparators = (): void => { while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++; };
  const token = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  // An unquoted value; RFC 9110 allows only token characters, but servers send URLs bare.
  const bare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    // s[i] is the opening quote.
    i++;
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end)
    return v;
  };

  skipSeparators();
  while (i < s.length) {
    const scheme = token();
    if (!scheme) {
      // Not a token: skip to the next comma and try again.
      while (i < s.length && s[i] !== ',') i++;
      skipSeparators();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipWs();
    // token68 (e.g. `Negotiate abc==`): the whole rest up to a comma.
    const t68start = i;
    while (i < s.length && TOKEN68_CHAR.test(s[i]!)) i++;
    while (i < s.length && s[i] === '=') i++;
    const after = i;
    skipWs();
    const t68 = s.slice(t68start, after);
    if (t68 && /[^=]=*$/.test(t68) && (i >= s.length || s[i] === ',') && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+=$/.test(t68)) {
      challenge.params[''] = t68;
      skipSeparators();
      continue;
    }
    i = t68start;
    // Parameters: name = value, separated by commas, until a name without `=` starts a new challenge.
    for (;;) {
      skipSeparators();
      const at = i;
      const name = token();
      if (!name) break;
      skipWs();
      if (s[i] !== '=') {
        i = at; // the next challenge's scheme
        break;
      }
      i++;
      skipWs();
      const value = s[i] === '"' ? quoted() : bare();
      challenge.params[name.toLowerCase()] = value;
      skipWs();
      if (i < s.length && s[i] !== ',') {
        // Garbage after a value: skip to the next comma.
        while (i < s.length && s[i] !== ',') i++;
      }
    }
    skipSeparators();
  }
  return out;
}

export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** `repository:app:pull` / `repository:app:pull,push`. */
export function repositoryScope(repo: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repo}:${actions}`;
}

/**
 * The error after the retry with fresh authorization still got a 401 (or the
 * token server refused): "authentication required" when no credentials were
 * sent, "incorrect username or password" when they were, "denied" when a
 * token was granted but without the access asked for, and a refused token
 * when the registry rejects what its own token server issued.
 */
export function unauthorized(ctx: { registry: string; repository?: string; hadCredentials: boolean; insufficientScope?: string; tokenRefused?: string; said?: string }): RegistryError {
  const where = `registry ${ctx.registry}${ctx.repository ? `, repository ${ctx.repository}` : ''}`;
  if (ctx.tokenRefused !== undefined) {
    // The token server gave a token, and the registry does not accept it: a
    // registry/token-server mismatch, not the user's password.
    return new RegistryError('invalid', 'Unauthorized',
      `${where}: unauthorized: the registry refused the token its token server issued (${ctx.tokenRefused}${ctx.said ? `: ${ctx.said}` : ''})`,
      { status: 401, registry: ctx.registry, repository: ctx.repository });
  }
  if (ctx.insufficientScope !== undefined) {
    return new RegistryError('invalid', 'Denied',
      `${where}: denied: requested access to the resource is denied${ctx.insufficientScope ? ` (${ctx.insufficientScope})` : ''}; the repository may not exist, or it needs \`berth login ${ctx.registry}\` as a user allowed to access it`,
      { status: 401, registry: ctx.registry, repository: ctx.repository });
  }
  const message = ctx.hadCredentials
    ? `${where}: unauthorized: incorrect username or password`
    : `${where}: unauthorized: authentication required; log in first with \`berth login ${ctx.registry}\``;
  return new RegistryError('invalid', 'Unauthorized', message, { status: 401, registry: ctx.registry, repository: ctx.repository });
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export interface AuthenticatorOptions {
  registry: string;
  credentials?: CredentialSource;
  userAgent: string;
  timeoutMs?: number;
}

/**
 * What one RegistryClient knows about authenticating to its registry: which
 * scheme the registry asked for, the user's credentials (looked up once), and
 * the cached bearer tokens.
 */
export class Authenticator {
  private scheme: 'none' | 'basic' | 'bearer' = 'none';
  private realm: URL | undefined;
  private service: string | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private creds: Credentials | undefined | null = null;
  private readonly now = Date.now;

  constructor(private readonly opts: AuthenticatorOptions) {}

  /** The user's credentials for this registry, if any (looked up once). */
  credentials(): Credentials | undefined {
    if (this.creds === null) this.creds = this.opts.credentials?.get(this.opts.registry);
    return this.creds;
  }

  /** The Authorization header for a request needing these scopes, when the registry's scheme is known. */
  async authorization(scopes: string[], repository?: string): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      const c = this.credentials();
      return c ? basicAuthorization(c) : undefined;
    }
    if (this.scheme === 'bearer') {
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
      const fresh = await this.fetchToken(scopes, repository);
      this.tokens.set(key, fresh);
      return `Bearer ${fresh.token}`;
    }
    return undefined;
  }

  /**
   * Learn from a 401's challenges (`sent`: the Authorization that got it).
   * True when retrying with authorization() may succeed; false when there is
   * nothing new to try (no credentials for Basic, or the same ones again, or
   * an unknown scheme).
   */
  challenged(challenges: Challenge[], scopes: string[], sent: string | undefined): boolean {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) return false;
      try {
        this.realm = new URL(realm);
      } catch {
        return false;
      }
      if (this.realm.protocol !== 'https:' && this.realm.protocol !== 'http:') return false;
      this.service = bearer.params.service;
      this.scheme = 'bearer';
      this.tokens.delete(scopeKey(scopes));
      return true;
    }
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (basic) {
      this.scheme = 'basic';
      const c = this.credentials();
      // The password just sent was refused: sending it again cannot help.
      return c !== undefined && sent !== basicAuthorization(c);
    }
    return false;
  }

  private async fetchToken(scopes: string[], repository: string | undefined): Promise<CachedToken> {
    const realm = this.realm!;
    const url = new URL(realm.href);
    const creds = this.credentials();
    if (this.service) url.searchParams.set('service', this.service);
    for (const s of [...new Set(scopes)].sort()) url.searchParams.append('scope', s);
    if (creds) url.searchParams.set('account', creds.username);
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, accept: 'application/json' };
    if (creds) headers.authorization = basicAuthorization(creds);
    debug('registry %s: token for %s from %s%s', this.opts.registry, scopes.join(' ') || '(no scope)', realm.origin, creds ? ` as ${creds.username}` : ' (anonymous)');

    let res;
    try {
      res = await send({ method: 'GET', url, headers, timeoutMs: this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    } catch (err) {
      throw new RegistryError('system', 'RegistryUnreachable',
        `registry ${this.opts.registry}: its token server ${realm.origin}${realm.pathname} is unreachable: ${err instanceof Error ? err.message : String(err)}`,
        { status: 0, registry: this.opts.registry, repository, cause: err });
    }
    const status = res.statusCode ?? 0;
    const body = status === 200 ? await readBody(res, 1 << 20, `the token from ${realm.origin}`) : await readBody(res, 1 << 16, 'an error body').catch(() => Buffer.alloc(0));
    if (status === 401 || status === 403) {
      throw unauthorized({ registry: this.opts.registry, repository, hadCredentials: creds !== undefined });
    }
    if (status !== 200) {
      drain(res);
      throw new RegistryError('system', 'TokenServerError',
        `registry ${this.opts.registry}: its token server ${realm.origin}${realm.pathname} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`,
        { status, registry: this.opts.registry, repository });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const token = typeof obj.token === 'string' && obj.token ? obj.token : typeof obj.access_token === 'string' ? obj.access_token : '';
    if (!token) {
      throw new RegistryError('system', 'TokenServerError', `registry ${this.opts.registry}: its token server ${realm.origin}${realm.pathname} answered without a token`, { status, registry: this.opts.registry, repository });
    }
    // The spec's default lifetime is 60 s; leave a margin for the request that uses it.
    const lifetime = (typeof obj.expires_in === 'number' && obj.expires_in > 0 ? obj.expires_in : 60) * 1000;
    const issued = typeof obj.issued_at === 'string' && !Number.isNaN(Date.parse(obj.issued_at)) ? Math.min(Date.parse(obj.issued_at), this.now()) : this.now();
    return { token, expiresAt: issued + lifetime - Math.min(10_000, lifetime / 2) };
  }
}

function scopeKey(scopes: string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}
