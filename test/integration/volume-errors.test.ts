// `berth volume …` commands that are refused: exit 125, a clear message, and
// nothing made. They need no image, so they live apart from the slower tests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../support.js';
import { storageRoot } from '../volume-support.js';

const { root, b, volumeNames } = storageRoot('volume-errors');

after(() => cleanup(root));

test('bad volume commands: exit 125 and a clear message, nothing made', () => {
  for (const [cmd, message] of [
    [['volume', 'create', 'bad name'], /"bad name" includes invalid characters for a local volume name/],
    [['volume', 'create', '-d', 'nfs', 'vol'], /volume driver "nfs" is not supported/],
    [['volume', 'create', '-o', 'type=nfs', 'vol'], /driver options \(type\) are not supported/],
    [['volume', 'create', '--name', 'aa', 'bb'], /conflicting options/],
    [['volume', 'ls', '--filter', 'colour=red'], /invalid filter 'colour'/],
    [['volume', 'ls', '--filter', 'dangling=maybe'], /invalid filter 'dangling=maybe'/],
    [['volume', 'prune', '-f', '--filter', 'until=1h'], /invalid filter 'until=1h'/],
  ] as [string[], RegExp][]) {
    const r = b(...cmd);
    assert.equal(r.status, 125, `${cmd.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, cmd.join(' '));
  }
  assert.deepEqual(volumeNames(), []);
});
