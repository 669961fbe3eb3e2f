// One HTTP exchange with a registry or its token server, over node:http(s):
// idle timeout, bodies from a Buffer or a stream with a known length, and the
// registry's JSON error body ({"errors":[{"code","message","detail"}]})
// turned into a RegistryError that names the registry, the repository and
// what the registry said. No auth and no retries here (see client.ts).
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { BerthError, type ErrorKind } from '../../util/errors.js';
import { escapeControls } from '../../util/terminal-text.js';

export const DEFAULT_TIMEOUT_MS = 60_000;

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer, or a stream whose length the caller put in Content-Length. */
  body?: Buffer | Readable;
  /** The socket may stay idle this long (connect, headers, and every gap in a body). */
  timeoutMs?: number;
}

/** One error as the Distribution spec shapes it. */
export interface RegistryErrorDetail {
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * A failure the registry reported. `status` is the HTTP status (0 when it
 * never answered), `errors` what its JSON body said; the message already
 * names the registry, the repository and the registry's own codes.
 */
export class RegistryError extends BerthError {
  readonly status: number;
  readonly registry: string;
  readonly repository: string | undefined;
  readonly errors: RegistryErrorDetail[];
  constructor(kind: ErrorKind, code: string, message: string, info: { status: number; registry: string; repository?: string; errors?: RegistryErrorDetail[]; cause?: unknown }) {
    super(kind, code, message, { cause: info.cause });
    this.name = 'RegistryError';
    this.status = info.status;
    this.registry = info.registry;
    this.repository = info.repository;
    this.errors = info.errors ?? [];
  }
  /** True when the registry named this code (MANIFEST_UNKNOWN, BLOB_UNKNOWN, ...). */
  has(code: string): boolean {
    return this.errors.some((e) => e.code === code);
  }
}

/** Send one request; resolves with the response headers (the body is left to the caller). */
export function send(req: HttpRequest): Promise<http.IncomingMessage> {
  const mod = req.url.protocol === 'https:' ? https : http;
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const r = mod.request(req.url, { method: req.method, headers: req.headers });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    r.setTimeout(timeoutMs, () => {
      r.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' }));
    });
    r.on('error', fail);
    r.on('response', (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      resolve(res);
    });
    const body = req.body;
    if (body === undefined) {
      r.end();
    } else if (Buffer.isBuffer(body)) {
      r.end(body);
    } else {
      body.on('error', (err) => {
        r.destroy(err);
        fail(err);
      });
      body.pipe(r);
    }
  });
}

/**
 * Read a whole (small) body; refuses one larger than limit bytes, by its
 * Content-Length before reading or as soon as it passes the limit, with the
 * error `tooLarge` makes (given the declared size when there is one).
 */
export async function readBody(res: http.IncomingMessage, limit: number, what: string, tooLarge?: (size?: number) => Error): Promise<Buffer> {
  const refuse = (size?: number): Error => tooLarge?.(size)
    ?? new BerthError('invalid', 'TooLarge', `${what} is ${size === undefined ? 'more than' : `${size} bytes, more than`} the ${limit} bytes berth accepts`);
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw refuse(declared);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      res.destroy();
      throw refuse();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discard a body so the connection can be reused. */
export function drain(res: http.IncomingMessage): void {
  res.resume();
}

/** Parse a registry's JSON error body; anything else gives no details. */
export function parseErrors(body: Buffer): RegistryErrorDetail[] {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return [];
    const list = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(list)) return [];
    return list
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({ code: typeof e.code === 'string' ? e.code : 'UNKNOWN', message: typeof e.message === 'string' ? e.message : '', detail: e.detail }));
  } catch {
    return [];
  }
}

/** MANIFEST_UNKNOWN → ManifestUnknown: berth's stable code for a registry code. */
function pascal(code: string): string {
  return code.toLowerCase().split(/[_\s]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

function kindFor(status: number): ErrorKind {
  if (status === 404) return 'notFound';
  if (status >= 400 && status < 500) return 'invalid';
  return 'system';
}

function codeFor(status: number, errors: RegistryErrorDetail[]): string {
  if (errors.length > 0 && errors[0]!.code !== 'UNKNOWN') return pascal(errors[0]!.code);
  switch (status) {
    case 401: return 'Unauthorized';
    case 403: return 'Denied';
    case 404: return 'NotFound';
    case 429: return 'TooManyRequests';
    default: return 'RegistryError';
  }
}

/** `MANIFEST_UNKNOWN: manifest unknown; ...` or the bare HTTP status. */
function said(status: number, statusText: string | undefined, errors: RegistryErrorDetail[], body: Buffer): string {
  // The registry's words go into one line of our message, controls and line breaks escaped.
  if (errors.length > 0) return escapeControls(errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; '));
  const text = body.toString('utf8').trim().replace(/\s+/g, ' ');
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return escapeControls(`HTTP ${status}${statusText ? ` ${statusText}` : ''}${short && !short.startsWith('<') ? `: ${short}` : ''}`);
}

/**
 * The error for an unexpected response, body already read. `what` names the
 * object ("manifest localhost:5000/app:latest"); 404 says it is not found.
 */
export function responseError(res: http.IncomingMessage, body: Buffer, ctx: { registry: string; repository?: string; what: string }): RegistryError {
  const status = res.statusCode ?? 0;
  const errors = parseErrors(body);
  const text = said(status, res.statusMessage, errors, body);
  const head = status === 404 ? `${ctx.what} not found` : `${ctx.what} failed`;
  const message = `${head} (registry ${ctx.registry} answered ${text})`;
  return new RegistryError(kindFor(status), codeFor(status, errors), message, { status, registry: ctx.registry, repository: ctx.repository, errors });
}

/** A registry that could not be reached at all. */
export function unreachable(registry: string, url: URL, err: unknown): RegistryError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const reason = err instanceof Error ? err.message : String(err);
  let hint = '';
  if (url.protocol === 'https:' && /EPROTO|wrong version number|packet length too long/i.test(`${code} ${reason}`)) {
    hint = `; if it serves plain HTTP, mark it insecure (BERTH_INSECURE_REGISTRIES=${registry})`;
  } else if (url.protocol === 'https:' && /CERT|certificate|self.signed/i.test(`${code} ${reason}`)) {
    hint = '; its TLS certificate is not trusted by this host';
  }
  return new RegistryError('system', 'RegistryUnreachable', `registry ${registry} is unreachable at ${url.origin}: ${reason}${hint}`, { status: 0, registry, cause: err });
}
