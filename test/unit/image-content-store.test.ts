// The content store never shows a partial or wrong blob: whatever happens to
// an ingest, blobs/ holds whole, verified blobs and ingest/ is left clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, utimesSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { ContentStore } from '../../src/image/content-store.js';
import { sha256, hexOf, type Digest } from '../../src/image/digest.js';
import { BerthError } from '../../src/util/errors.js';

function store(t: { after: (fn: () => void) => void }): ContentStore {
  const root = mkdtempSync(join(tmpdir(), 'berth-content-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return new ContentStore(root);
}

const blobs = (s: ContentStore) => readdirSync(join(s.root, 'blobs', 'sha256'));
const ingesting = (s: ContentStore) => readdirSync(join(s.root, 'ingest'));

// Bytes in several chunks, as a download delivers them.
function chunked(data: Buffer, chunk = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  return Readable.from(parts);
}

test('a good blob is stored under its digest and reads back', async (t) => {
  const s = store(t);
  const data = randomBytes(100_000);
  const d = sha256(data);
  await s.ingest(chunked(data), { digest: d, size: data.length });
  assert.ok(s.has(d));
  assert.equal(s.size(d), data.length);
  assert.deepEqual(s.read(d), data);
  assert.equal(s.path(d), join(s.root, 'blobs', 'sha256', hexOf(d)));
  assert.deepEqual(s.list(), [d]);
  assert.deepEqual(ingesting(s), []);
  // Again: already present, nothing rewritten, the source is not needed.
  await s.ingest(chunked(data), { digest: d, size: data.length });
  assert.deepEqual(blobs(s), [hexOf(d)]);
});

test('size may be unknown; an empty blob is a blob', async (t) => {
  const s = store(t);
  const d = sha256('');
  await s.ingest(Readable.from([]), { digest: d });
  assert.equal(s.size(d), 0);
  const e = sha256('abc');
  await s.ingest(Readable.from([Buffer.from('abc')]), { digest: e });
  assert.equal(s.read(e).toString(), 'abc');
});

test('wrong digest: DigestMismatch naming both digests, nothing left behind', async (t) => {
  const s = store(t);
  const data = Buffer.from('the real content');
  const claimed = sha256('something else');
  await assert.rejects(s.ingest(chunked(data, 4), { digest: claimed, size: data.length }), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.kind, 'invalid');
    assert.equal(err.code, 'DigestMismatch');
    assert.ok(err.message.includes(claimed), err.message);
    assert.ok(err.message.includes(sha256(data)), err.message);
    return true;
  });
  assert.deepEqual(blobs(s), []);
  assert.deepEqual(ingesting(s), []);
  assert.ok(!s.has(claimed));
});

test('wrong size: SizeMismatch, both too short and too long, nothing left behind', async (t) => {
  const s = store(t);
  const data = Buffer.from('0123456789');
  const d = sha256(data);
  await assert.rejects(s.ingest(chunked(data, 3), { digest: d, size: 11 }), { code: 'SizeMismatch', message: /expected 11 bytes, received 10/ });
  // Too long stops at the first byte beyond the declared size.
  await assert.rejects(s.ingest(chunked(Buffer.concat([data, data]), 3), { digest: d, size: 10 }), { code: 'SizeMismatch', message: /received more/ });
  await assert.rejects(s.ingest(chunked(data), { digest: d, size: -1 }), { code: 'InvalidSize' });
  assert.deepEqual(blobs(s), []);
  assert.deepEqual(ingesting(s), []);
});

test('a stream that fails midway leaves nothing under blobs/ or ingest/', async (t) => {
  const s = store(t);
  const data = randomBytes(50_000);
  let sent = 0;
  const broken = new Readable({
    read() {
      if (sent >= 20_000) {
        this.destroy(new Error('connection reset'));
        return;
      }
      this.push(data.subarray(sent, sent + 5000));
      sent += 5000;
    },
  });
  const d = sha256(data);
  await assert.rejects(s.ingest(broken, { digest: d, size: data.length }), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'IngestFailed');
    assert.equal(err.kind, 'system');
    assert.match(err.message, new RegExp(`blob ${d}: the content stream failed after \\d+ bytes: connection reset`));
    return true;
  });
  assert.deepEqual(blobs(s), []);
  assert.deepEqual(ingesting(s), []);
  assert.ok(!s.has(d));
});

test('concurrent ingests of one digest both succeed and leave one blob', async (t) => {
  const s = store(t);
  const data = randomBytes(300_000);
  const d = sha256(data);
  await Promise.all(Array.from({ length: 8 }, () => s.ingest(chunked(data, 7000), { digest: d, size: data.length })));
  assert.deepEqual(blobs(s), [hexOf(d)]);
  assert.deepEqual(s.read(d), data);
  assert.deepEqual(ingesting(s), []);
});

test('put, readJson, delete; missing blobs are notFound; digests cannot escape blobs/', async (t) => {
  const s = store(t);
  const d = s.put('{"a":1}');
  assert.equal(d, sha256('{"a":1}'));
  assert.equal(s.put('{"a":1}'), d);
  assert.deepEqual(s.readJson(d), { a: 1 });
  const notJson = s.put('not json');
  assert.throws(() => s.readJson(notJson), { code: 'InvalidJson', message: new RegExp(`blob ${notJson}: not valid JSON`) });
  assert.deepEqual(ingesting(s), []);
  assert.equal(s.delete(d), true);
  assert.equal(s.delete(d), false);
  assert.throws(() => s.read(d), { kind: 'notFound', code: 'BlobNotFound', message: `blob ${d} is not in the content store` });
  assert.throws(() => s.size(d), { code: 'BlobNotFound' });
  assert.throws(() => s.path('sha256:../../etc/passwd' as Digest), { code: 'InvalidDigest' });
  await assert.rejects(s.ingest(Readable.from([]), { digest: 'sha256:../x' as Digest }), { code: 'InvalidDigest' });
});

test('cleanIngest removes only stale partial files', (t) => {
  const s = store(t);
  const stale = join(s.root, 'ingest', 'stale');
  const fresh = join(s.root, 'ingest', 'fresh');
  writeFileSync(stale, 'x');
  writeFileSync(fresh, 'x');
  const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  utimesSync(stale, old, old);
  assert.equal(s.cleanIngest(), 1);
  assert.ok(!existsSync(stale));
  assert.ok(existsSync(fresh));
});
