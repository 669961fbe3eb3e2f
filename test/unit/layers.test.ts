// Layer naming and format detection, without root: chain IDs as the OCI image
// spec defines them, and compression told by magic bytes, not media types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { chainIdOf } from '../../src/image/layers.js';
import { detectCompression } from '../../src/image/compression.js';
import { sha256, type Digest } from '../../src/image/digest.js';

const d1 = sha256('layer one');
const d2 = sha256('layer two');
const d3 = sha256('layer three');

test('ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))', () => {
  assert.equal(chainIdOf(undefined, d1), d1);
  const c2 = chainIdOf(d1, d2);
  assert.equal(c2, `sha256:${createHash('sha256').update(`${d1} ${d2}`).digest('hex')}`);
  const c3 = chainIdOf(c2, d3);
  assert.equal(c3, `sha256:${createHash('sha256').update(`${c2} ${d3}`).digest('hex')}`);
  // The same diffs in another order name another stack.
  assert.notEqual(chainIdOf(chainIdOf(undefined, d2), d1), c2);
});

test('a known chain: two layers of the OCI image spec example', () => {
  // The rootfs.diff_ids of the image spec's config.md example, chained by hand: printf '<a> <b>' | sha256sum
  const a: Digest = 'sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1';
  const b: Digest = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
  assert.equal(chainIdOf(a, b), 'sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f');
});

test('compression is told by magic bytes', () => {
  assert.equal(detectCompression(gzipSync(Buffer.from('x')).subarray(0, 4)), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from('etc/')), 'none');
  assert.equal(detectCompression(Buffer.alloc(0)), 'none');
  assert.equal(detectCompression(Buffer.from([0x1f])), 'none');
});
