// `berth volume …` on real containers: create, ls with filters and formats,
// inspect, rm refused while a container uses the volume, and several berth
// processes making and filling one volume at once. (Refused commands: volume-errors.test.ts.)
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { berthAsync, leftovers, cleanup } from '../support.js';
import { storageRoot, importBusybox, makeWithdata } from '../volume-support.js';

const s = storageRoot('volume-cli');
const { root, args, b, ok, volumeNames, volumeData } = s;

before(() => {
  importBusybox(s);
  makeWithdata(s);
});

after(() => cleanup(root));

afterEach(() => assert.deepEqual(leftovers(root), [], 'the test left something on the host'));

test('volume create, ls, inspect: names, labels, filters, formats', () => {
  assert.equal(ok('volume', 'create', 'alpha'), 'alpha\n');
  assert.equal(ok('volume', 'create', 'alpha'), 'alpha\n', 'creating an existing volume returns it');
  const random = ok('volume', 'create', '-l', 'k=v', '--label', 'flag').trim();
  assert.match(random, /^[0-9a-f]{64}$/);
  assert.equal(ok('volume', 'ls'), `DRIVER    VOLUME NAME\nlocal     ${[random, 'alpha'].sort().join('\nlocal     ')}\n`);
  assert.equal(ok('volume', 'ls', '-q', '--filter', 'label=k=v', '--filter', 'label=flag'), `${random}\n`);
  assert.equal(ok('volume', 'ls', '--format', 'table {{.Name}}\\t{{.Driver}}', '--filter', 'name=^al'), 'VOLUME NAME   DRIVER\nalpha         local\n');
  assert.equal(ok('volume', 'inspect', '-f', '{{.Name}} {{.Mountpoint}} {{json .Labels}} {{json .Options}}', random, 'alpha'),
    `${random} ${volumeData(random)} {"k":"v","flag":""} {}\nalpha ${volumeData('alpha')} {} {}\n`);
  const r = b('volume', 'inspect', 'alpha', 'nosuch');
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'Error response from daemon: get nosuch: no such volume\n');
  assert.equal((JSON.parse(r.stdout) as unknown[]).length, 1);
  assert.equal(ok('volume', 'rm', 'alpha', random), `alpha\n${random}\n`);
  assert.deepEqual(volumeNames(), []);
});

test('a volume a container uses is not removed, even with -f, nor pruned', () => {
  ok('volume', 'create', '--label', 'team=storage', 'busy');
  ok('run', '--name', 'user1', '-v', 'busy:/d', 'busybox', 'true');
  const [id] = readdirSync(join(root, 'data', 'containers'));
  for (const flags of [[], ['-f']]) {
    const r = b('volume', 'rm', ...flags, 'busy');
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Error response from daemon: remove busy: volume is in use - [${id}]\n`);
  }
  assert.equal(ok('volume', 'prune', '-f', '-a'), 'Total reclaimed space: 0B\n');
  assert.equal(ok('volume', 'ls', '--filter', 'dangling=false', '--format', '{{.Name}} {{.Labels}} {{.Links}}'), 'busy team=storage 1\n');
  ok('rm', 'user1');
  assert.equal(ok('volume', 'ls', '-q', '--filter', 'dangling=true'), 'busy\n');
  assert.equal(ok('volume', 'rm', 'busy'), 'busy\n');
  const r = b('volume', 'rm', 'busy');
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'Error response from daemon: get busy: no such volume\n');
  assert.equal(b('volume', 'rm', '-f', 'busy').status, 0);
});

test('several berth processes at once: one volume of a name, filled once', async () => {
  const runs = await Promise.all(Array.from({ length: 4 }, (_, i) =>
    berthAsync([...args, 'run', '--rm', '-v', 'shared:/data', 'withdata', 'sh', '-c', `echo ${i} > /data/from-${i}; cat /data/hello`])));
  for (const r of runs) {
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'from the image\n');
  }
  assert.deepEqual(readdirSync(volumeData('shared')).sort(), ['from-0', 'from-1', 'from-2', 'from-3', 'hello', 'link', 'sub']);
  const creates = await Promise.all(Array.from({ length: 4 }, () => berthAsync([...args, 'volume', 'create', 'same'])));
  for (const r of creates) assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(volumeNames(), ['same', 'shared']);
  ok('volume', 'rm', 'same', 'shared');
  assert.deepEqual(readdirSync(join(root, 'data', 'volumes')), [], 'nothing left in the volumes directory');
});
