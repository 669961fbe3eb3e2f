// References normalise as Docker's distribution/reference does; digests are
// sha256 only, and every refusal is an 'invalid' BerthError naming the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, familiarString, formatReference, nameOf, parseReference, withDigest, withTag } from '../../src/image/reference.js';
import { digestProblem, hexOf, isDigest, parseDigest, sha256, shortId, type Digest } from '../../src/image/digest.js';
import { BerthError } from '../../src/util/errors.js';

const HEX = 'a'.repeat(64);
const D: Digest = `sha256:${HEX}`;

// input → [registry, repository, tag, digest, full form, familiar name]
const VALID: [string, string, string, string | undefined, string | undefined, string, string][] = [
  ['busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest', 'busybox'],
  ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined, 'docker.io/library/busybox:1.36', 'busybox'],
  ['library/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest', 'busybox'],
  ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest', 'busybox'],
  ['docker.io/library/busybox:1', 'docker.io', 'library/busybox', '1', undefined, 'docker.io/library/busybox:1', 'busybox'],
  ['index.docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest', 'busybox'],
  ['index.docker.io/user/repo', 'docker.io', 'user/repo', 'latest', undefined, 'docker.io/user/repo:latest', 'user/repo'],
  ['user/repo:tag', 'docker.io', 'user/repo', 'tag', undefined, 'docker.io/user/repo:tag', 'user/repo'],
  ['a/b/c', 'docker.io', 'a/b/c', 'latest', undefined, 'docker.io/a/b/c:latest', 'a/b/c'],
  ['library/a/b', 'docker.io', 'library/a/b', 'latest', undefined, 'docker.io/library/a/b:latest', 'library/a/b'],
  ['localhost/foo', 'localhost', 'foo', 'latest', undefined, 'localhost/foo:latest', 'localhost/foo'],
  ['localhost', 'docker.io', 'library/localhost', 'latest', undefined, 'docker.io/library/localhost:latest', 'localhost'],
  ['foo:5000', 'docker.io', 'library/foo', '5000', undefined, 'docker.io/library/foo:5000', 'foo'],
  ['foo:5000/bar', 'foo:5000', 'bar', 'latest', undefined, 'foo:5000/bar:latest', 'foo:5000/bar'],
  [`localhost:5000/a/b@${D}`, 'localhost:5000', 'a/b', undefined, D, `localhost:5000/a/b@${D}`, 'localhost:5000/a/b'],
  [`busybox@${D}`, 'docker.io', 'library/busybox', undefined, D, `docker.io/library/busybox@${D}`, 'busybox'],
  [`busybox:1.36@${D}`, 'docker.io', 'library/busybox', '1.36', D, `docker.io/library/busybox:1.36@${D}`, 'busybox'],
  ['example.com/foo', 'example.com', 'foo', 'latest', undefined, 'example.com/foo:latest', 'example.com/foo'],
  ['127.0.0.1:5000/foo:x', '127.0.0.1:5000', 'foo', 'x', undefined, '127.0.0.1:5000/foo:x', '127.0.0.1:5000/foo'],
  ['[::1]:5000/foo', '[::1]:5000', 'foo', 'latest', undefined, '[::1]:5000/foo:latest', '[::1]:5000/foo'],
  ['ghcr.io/owner/repo:v1.2.3', 'ghcr.io', 'owner/repo', 'v1.2.3', undefined, 'ghcr.io/owner/repo:v1.2.3', 'ghcr.io/owner/repo'],
  ['Example/foo', 'Example', 'foo', 'latest', undefined, 'Example/foo:latest', 'Example/foo'],
  ['a.b_c__d-e--f', 'docker.io', 'library/a.b_c__d-e--f', 'latest', undefined, 'docker.io/library/a.b_c__d-e--f:latest', 'a.b_c__d-e--f'],
  ['busybox:_x.Y-1', 'docker.io', 'library/busybox', '_x.Y-1', undefined, 'docker.io/library/busybox:_x.Y-1', 'busybox'],
  [`busybox:${'t'.repeat(128)}`, 'docker.io', 'library/busybox', 't'.repeat(128), undefined, `docker.io/library/busybox:${'t'.repeat(128)}`, 'busybox'],
  ['a1', 'docker.io', 'library/a1', 'latest', undefined, 'docker.io/library/a1:latest', 'a1'],
];

for (const [input, registry, repository, tag, digest, full, familiar] of VALID) {
  test(`reference ${input.length > 60 ? input.slice(0, 60) + '…' : input}`, () => {
    const ref = parseReference(input);
    assert.equal(ref.registry, registry);
    assert.equal(ref.repository, repository);
    assert.equal(ref.tag, tag);
    assert.equal(ref.digest, digest);
    assert.equal(formatReference(ref), full);
    assert.equal(familiarName(ref), familiar);
    // The normal form parses back to itself.
    assert.deepEqual(parseReference(formatReference(ref)), ref);
  });
}

// input → a piece of the message
const INVALID: [string, RegExp][] = [
  ['', /repository name must have at least one component/],
  ['Busybox', /repository name "library\/Busybox" must be lowercase/],
  ['user/Repo', /repository name "user\/Repo" must be lowercase/],
  ['localhost:5000/A', /repository name "A" must be lowercase/],
  ['busybox:', /invalid tag format: ""/],
  ['busybox:-x', /invalid tag format: "-x"/],
  ['busybox:.x', /invalid tag format/],
  [`busybox:${'t'.repeat(129)}`, /invalid tag format/],
  ['-busybox', /invalid reference format: repository name "library\/-busybox"/],
  ['busybox-', /invalid reference format: repository name/],
  ['a___b', /invalid reference format: repository name/],
  ['a..b', /invalid reference format: repository name/],
  ['a//b', /invalid reference format: repository name/],
  ['foo bar', /invalid reference format/],
  ['/busybox', /invalid reference format/],
  ['-registry.io/foo', /"-registry\.io" is not a valid registry/],
  ['busybox@', /invalid digest: "" is not a digest/],
  ['busybox@sha256:abc', /invalid digest: "sha256:abc" is not a valid sha256 digest \(expected 64 lowercase hex digits, got 3\)/],
  [`busybox@sha256:${'A'.repeat(64)}`, /not a valid sha256 digest.*uppercase/],
  [`busybox@sha512:${'a'.repeat(128)}`, /unsupported digest algorithm "sha512" \(berth supports only sha256\)/],
  [HEX, /is an image ID, it cannot be a repository name/],
  [`${'a'.repeat(250)}/b`, /repository name must not be more than 255 characters/],
];

for (const [input, message] of INVALID) {
  test(`invalid reference ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => {
    assert.throws(() => parseReference(input), (err: unknown) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.equal(err.kind, 'invalid');
      assert.equal(err.code, 'InvalidReference');
      assert.match(err.message, /^invalid reference "/);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('familiar strings, and retagging', () => {
  const ref = parseReference('busybox:1');
  assert.equal(familiarString(ref), 'busybox:1');
  assert.equal(nameOf(ref), 'docker.io/library/busybox');
  assert.equal(formatReference(withTag(ref, '2')), 'docker.io/library/busybox:2');
  assert.equal(formatReference(withDigest(ref, D)), `docker.io/library/busybox@${D}`);
  assert.throws(() => withTag(ref, '-bad'), { code: 'InvalidReference' });
});

test('digests: sha256 only, with a message naming the field', () => {
  assert.equal(sha256('hello'), 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.equal(hexOf(sha256('hello')).length, 64);
  assert.equal(shortId(sha256('hello')), '2cf24dba5fb0');
  assert.ok(isDigest(D));
  assert.ok(!isDigest(`sha256:${'A'.repeat(64)}`));
  assert.equal(parseDigest(D), D);
  assert.equal(digestProblem(D), undefined);
  assert.throws(() => parseDigest('sha512:' + 'a'.repeat(128), 'manifest.config.digest'),
    { kind: 'invalid', code: 'InvalidDigest', message: 'manifest.config.digest: unsupported digest algorithm "sha512" (berth supports only sha256)' });
  assert.throws(() => parseDigest('nope', 'x'), { message: 'x: "nope" is not a digest (expected sha256:<64 hex digits>)' });
  assert.throws(() => parseDigest('sha256:abc'), { message: /^digest: "sha256:abc" is not a valid sha256 digest/ });
});
