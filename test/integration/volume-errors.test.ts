// `berth volume …` commands that are refused: exit 125, a clear message, and
// nothing made. They need no image, so they live apart from the slower tests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from '../support.js';
import { storageRoot } from '../volume-support.js';

const { root, b, volumeNames } = storageRoot('volume-errors');

after(() => cleanup(root));

test('bad volume commands: exit 125 (1 for a list\'s filter) and a clear message, nothing made', () => {
  for (const [cmd, message, status] of [
    [['volume', 'create', 'bad name'], /"bad name" includes invalid characters for a local volume name/],
    [['volume', 'create', '-d', 'nfs', 'vol'], /volume driver "nfs" is not supported/],
    [['volume', 'create', '-o', 'type=nfs', 'vol'], /driver options \(type\) are not supported/],
    [['volume', 'create', '--name', 'aa', 'bb'], /conflicting options/],
    [['volume', 'prune', '-f', '--filter', 'until=1h'], /invalid filter 'until=1h'/],
    // A list's bad filter is relayed as the daemon's answer, status 1, as Docker's CLI does.
    [['volume', 'ls', '--filter', 'colour=red'], /^Error response from daemon: invalid filter 'colour'/, 1],
    [['volume', 'ls', '--filter', 'dangling=maybe'], /^Error response from daemon: invalid filter 'dangling=maybe'/, 1],
  ] as [string[], RegExp, number?][]) {
    const r = b(...cmd);
    assert.equal(r.status, status ?? 125, `${cmd.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, cmd.join(' '));
  }
  assert.deepEqual(volumeNames(), []);
});
