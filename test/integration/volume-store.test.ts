// The volume store under the engine, without the CLI: what a berth command
// killed half-way leaves (a use by a container that was never made, a copy
// whose process is gone) does not keep a volume in use or lie about forever,
// and a failed create gives back what it took.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { Engine } from '../../src/engine/engine.js';
import { containerMounts, createVolume, listVolumes, releaseContainerVolumes, removeVolume } from '../../src/engine/volumes.js';
import { closeDatabase } from '../../src/util/db.js';
import { tempRoot, cleanup } from '../support.js';

const root = tempRoot('volume-store');
const engine = new Engine({ root: join(root, 'root'), runRoot: join(root, 'run') });
const rootfs = join(root, 'rootfs');
mkdirSync(join(rootfs, 'data'), { recursive: true });
writeFileSync(join(rootfs, 'data', 'seed'), 'seed\n');
const containerDir = (id: string) => join(engine.root, 'containers', id);

after(() => {
  closeDatabase(engine.root);
  cleanup(root);
});

test('a use by a container whose directory is gone (its create was killed) does not hold the volume', async () => {
  const id = 'a'.repeat(64);
  mkdirSync(containerDir(id), { recursive: true });
  const mounts = await containerMounts(engine, id, { Binds: ['held:/data'] }, ['/data', '/cache'], rootfs);
  assert.deepEqual(mounts.map((m) => [m.destination, m.source?.endsWith('/_data')]), [['/data', true], ['/cache', true]]);
  assert.deepEqual(readdirSync(join(engine.root, 'volumes', 'held', '_data')), ['seed']);
  assert.throws(() => removeVolume(engine, 'held'), /volume is in use - \[a{64}\]/);
  // The command dies before its container record exists: no directory, no user.
  cleanup(containerDir(id));
  assert.deepEqual(listVolumes(engine).map((v) => [v.name === 'held' ? 'held' : 'anonymous', v.users]).sort(), [['anonymous', []], ['held', []]]);
  removeVolume(engine, 'held');
  assert.ok(!existsSync(join(engine.root, 'volumes', 'held')));
  releaseContainerVolumes(engine, id, true);
  assert.deepEqual(listVolumes(engine), []);
});

test('a bad mount makes nothing; a failure after a volume was taken gives it back', async () => {
  const id = 'b'.repeat(64);
  mkdirSync(containerDir(id), { recursive: true });
  await assert.rejects(containerMounts(engine, id, { Binds: ['early:/e'], Mounts: [{ Type: 'bind', Source: join(root, 'missing'), Target: '/m' }] }, ['/data'], rootfs),
    /bind source path does not exist/);
  assert.deepEqual(listVolumes(engine), []);
  // A bind source that cannot be made (its parent is a file) fails after the anonymous volume for /data was made.
  writeFileSync(join(root, 'file'), '');
  await assert.rejects(containerMounts(engine, id, { Binds: ['kept:/k', `${join(root, 'file', 'sub')}:/s`] }, ['/data'], rootfs), /error while creating mount source path/);
  assert.deepEqual(listVolumes(engine).map((v) => [v.name, v.users]), [['kept', []]], 'the anonymous volume is gone, the named one stays unused');
  removeVolume(engine, 'kept');
  cleanup(containerDir(id));
});

test('a copy left by a process that is gone is swept; a volume of an existing name is the same volume', () => {
  const leftover = join(engine.root, 'volumes', '.copy-999999999-0123456789abcdef');
  mkdirSync(leftover, { recursive: true });
  const first = createVolume(engine, { name: 'same', labels: { a: '1' } });
  const second = createVolume(engine, { name: 'same', labels: { b: '2' } });
  assert.deepEqual(second, first);
  removeVolume(engine, 'same');
  assert.deepEqual(readdirSync(join(engine.root, 'volumes')), []);
});
