// The content store: every manifest, config and compressed layer berth holds,
// each stored once under the digest of its bytes (<root>/blobs/sha256/<hex>),
// as containerd's content store and the OCI image layout do.
//
// Invariant: a file under blobs/ is always a whole blob whose bytes hash to its
// name. Downloads therefore land in <root>/ingest/ under a name of their own,
// are hashed and counted while they stream, checked against the expected
// digest and size, fsynced, and only then renamed into blobs/ — rename is
// atomic, so a reader, a crash or a concurrent ingest of the same digest sees
// either no blob or the whole blob. A failed ingest removes its partial file.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, invalid, notFound, systemError, errnoCode } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { debug } from '../util/debug.js';
import { hexOf, isDigest, sha256, type Digest } from './digest.js';

export interface IngestOptions {
  /** The digest the content must have (from a descriptor). */
  digest: Digest;
  /** The size it must have, when the descriptor says; checked while streaming so an oversized body stops early. */
  size?: number;
}

const HEX = /^[a-f0-9]{64}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

export class ContentStore {
  readonly root: string;
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.ingestDir, { recursive: true });
  }

  /** Where the blob lives (whether or not it is there yet). */
  path(d: Digest): string {
    // The digest becomes a file name: refuse anything that is not exactly
    // sha256:<64 hex>, so that no digest can name a path outside blobs/.
    if (!isDigest(d)) throw invalid('InvalidDigest', `"${String(d)}" is not a sha256 digest`);
    return join(this.blobDir, hexOf(d));
  }

  has(d: Digest): boolean {
    return existsSync(this.path(d));
  }

  size(d: Digest): number {
    try {
      return statSync(this.path(d)).size;
    } catch (err) {
      throw missing(d, err);
    }
  }

  read(d: Digest): Buffer {
    try {
      return readFileSync(this.path(d));
    } catch (err) {
      throw missing(d, err);
    }
  }

  readJson(d: Digest): unknown {
    const bytes = this.read(d);
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw invalid('InvalidJson', `blob ${d}: not valid JSON: ${(err as Error).message}`);
    }
  }

  /**
   * Store a stream's bytes under `digest`, verifying digest and size. The
   * source is consumed (and destroyed if it is a stream and the ingest ends
   * early). A blob already present with the right size is not written again.
   * Errors: DigestMismatch and SizeMismatch (invalid), IngestFailed (system)
   * when the source fails midway; in every case nothing is left behind.
   */
  async ingest(source: AsyncIterable<Uint8Array>, opts: IngestOptions): Promise<void> {
    const { digest, size } = opts;
    const target = this.path(digest);
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw invalid('InvalidSize', `blob ${digest}: size ${size} is not a non-negative integer`);
    }
    if (this.presentWithSize(target, size)) {
      destroy(source);
      return;
    }
    // Unique per ingest, not per digest: two ingests of one digest (two pulls
    // sharing a layer) each write their own file and the second rename simply
    // replaces identical content.
    const tmp = join(this.ingestDir, `${hexOf(digest)}.${process.pid}.${randomBytes(6).toString('hex')}`);
    const file = await open(tmp, 'wx', 0o644);
    const hash = createHash('sha256');
    let received = 0;
    let complete = false;
    try {
      try {
        for await (const chunk of source) {
          received += chunk.length;
          if (size !== undefined && received > size) {
            throw invalid('SizeMismatch', `blob ${digest}: size mismatch: expected ${size} bytes, received more (${received} so far)`);
          }
          hash.update(chunk);
          for (let off = 0; off < chunk.length;) {
            const { bytesWritten } = await file.write(chunk, off, chunk.length - off);
            off += bytesWritten;
          }
        }
      } catch (err) {
        if (err instanceof BerthError) throw err;
        throw systemError('IngestFailed', `blob ${digest}: the content stream failed after ${received} bytes: ${(err as Error).message}`, err);
      }
      const actual: Digest = `sha256:${hash.digest('hex')}`;
      if (size !== undefined && received !== size) {
        throw invalid('SizeMismatch', `blob ${digest}: size mismatch: expected ${size} bytes, received ${received} (content digest ${actual})`);
      }
      if (actual !== digest) {
        throw invalid('DigestMismatch', `digest mismatch: expected ${digest}, content has ${actual} (${received} bytes)`);
      }
      await file.sync();
      complete = true;
    } finally {
      await file.close();
      if (!complete) {
        destroy(source);
        await rm(tmp, { force: true });
      }
    }
    try {
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await syncDir(this.blobDir);
    debug('content: ingested %s (%d bytes)', digest, received);
  }

  /** Store bytes already in memory (a manifest, a config) and return their digest. */
  put(bytes: Uint8Array | string): Digest {
    const d = sha256(bytes);
    const target = this.path(d);
    if (!existsSync(target)) writeFileAtomic(target, bytes, 0o644, this.ingestDir);
    return d;
  }

  /** Remove a blob; false if it was not there. Whether it is still referenced is the caller's concern. */
  delete(d: Digest): boolean {
    const target = this.path(d);
    if (!existsSync(target)) return false;
    rmSync(target, { force: true });
    return true;
  }

  list(): Digest[] {
    return readdirSync(this.blobDir).filter((n) => HEX.test(n)).sort().map((hex): Digest => `sha256:${hex}`);
  }

  /**
   * Remove partial files a killed process left in ingest/. Only files not
   * written to for `olderThanMs` go, so a download in progress is spared.
   */
  cleanIngest(olderThanMs = DAY_MS): number {
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    for (const name of readdirSync(this.ingestDir)) {
      const p = join(this.ingestDir, name);
      try {
        if (statSync(p).mtimeMs <= cutoff) {
          rmSync(p, { force: true, recursive: true });
          removed++;
        }
      } catch { /* removed concurrently */ }
    }
    return removed;
  }

  private presentWithSize(target: string, size: number | undefined): boolean {
    try {
      const actual = statSync(target).size;
      return size === undefined || actual === size;
    } catch {
      return false;
    }
  }
}

function missing(d: Digest, err: unknown): unknown {
  return errnoCode(err) === 'ENOENT' ? notFound('BlobNotFound', `blob ${d} is not in the content store`) : err;
}

function destroy(source: AsyncIterable<Uint8Array>): void {
  const s = source as { destroy?: () => void };
  if (typeof s.destroy === 'function') s.destroy();
}

// A rename is durable only once the directory entry is on disk too.
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
