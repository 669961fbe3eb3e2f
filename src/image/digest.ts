// Content addresses. Every blob berth stores (manifest, config, layer) is named
// by the SHA-256 of its bytes, written "sha256:<64 lowercase hex>" as OCI
// descriptors write it. The OCI grammar admits other algorithms (sha512,
// blake3); berth stores only sha256, so they are refused here, in one place,
// with a message that says so instead of a vague "invalid digest".
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalid } from '../util/errors.js';

export type Digest = `sha256:${string}`;

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
// OCI image-spec descriptor grammar: algorithm ":" encoded.
const OCI_DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export function isDigest(text: string): text is Digest {
  return SHA256_DIGEST.test(text);
}

/** Why `text` is not a digest berth accepts, or undefined if it is one. */
export function digestProblem(text: string): string | undefined {
  if (isDigest(text)) return undefined;
  const m = OCI_DIGEST.exec(text);
  if (!m) return `"${text}" is not a digest (expected sha256:<64 hex digits>)`;
  const [, algorithm, encoded] = m;
  if (algorithm !== 'sha256') return `unsupported digest algorithm "${algorithm}" (berth supports only sha256)`;
  const upper = /[A-F]/.test(encoded!) ? ', with uppercase' : '';
  return `"${text}" is not a valid sha256 digest (expected 64 lowercase hex digits, got ${encoded!.length}${upper})`;
}

/** Validate a digest taken from outside; `field` names where it came from ("manifest.config.digest"). */
export function parseDigest(text: string, field = 'digest'): Digest {
  const problem = digestProblem(text);
  if (problem !== undefined) throw invalid('InvalidDigest', `${field}: ${problem}`);
  return text as Digest;
}

export function sha256(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function hexOf(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** The 12-digit form `docker images` prints for an image ID. */
export function shortId(d: Digest): string {
  return hexOf(d).slice(0, 12);
}

/** A pass-through stream that counts and hashes what flows through it. */
export class Hasher extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  /** The digest of everything that passed; call once the stream has ended. */
  digest(): Digest {
    return this.result ??= `sha256:${this.hash.digest('hex')}`;
  }
}
