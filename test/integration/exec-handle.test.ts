// Exec handles through the runtime: an exec has an id and a pid while it
// runs, an exit code once it ends, can be killed and (with a terminal)
// resized, and another process finds it by its id while it runs.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Runtime } from '../../src/runtime/container.js';
import { makeBundle, tempRoot, leftovers, cleanup } from '../support.js';

const root = tempRoot('exec-handle');
const runtime = new Runtime(join(root, 'run'));
const ids: string[] = [];
let n = 0;

after(() => cleanup(root));
afterEach(async () => {
  for (const id of ids) await runtime.delete(id, true).catch(() => {});
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
});

async function running(): Promise<string> {
  const id = `exech${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  const bundle = makeBundle(join(root, id), () => {}, { args: ['/bin/sleep', '1000'] });
  await runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'] });
  runtime.start(id);
  return id;
}

test('an exec has a pid inside the container and an exit code', async () => {
  const id = await running();
  const exec = await runtime.exec({ id, args: ['sh', '-c', 'exit 7'], stdio: ['ignore', 'ignore', 'ignore'], keep: true });
  assert.match(exec.id, /^[0-9a-f]{64}$/);
  assert.ok(exec.pid > 0);
  assert.equal((await exec.wait()).status, 7);
  assert.equal(exec.exitCode, 7);
  assert.equal(exec.state()?.running, false);
});

test('kill ends the exec, not the container', async () => {
  const id = await running();
  const exec = await runtime.exec({ id, args: ['sleep', '1000'], stdio: ['ignore', 'ignore', 'ignore'] });
  const containerNs = readFileSync(`/proc/${runtime.state.load(id).pid}/cgroup`, 'utf8');
  assert.equal(readFileSync(`/proc/${exec.pid}/cgroup`, 'utf8'), containerNs, 'the exec runs in the container\'s cgroup');
  exec.kill('SIGTERM');
  const exit = await exec.wait();
  assert.equal(exit.signal, 15);
  assert.equal(runtime.stateOf(id).status, 'running');
});

test('resize sets the size of an exec\'s terminal', async () => {
  const id = await running();
  const exec = await runtime.exec({ id, args: ['sleep', '1000'], tty: true, detach: true, stdio: ['ignore', 'ignore', 'ignore'] });
  await exec.resize(33, 101);
  assert.equal(execFileSync('stty', ['-F', `/proc/${exec.pid}/fd/0`, 'size'], { encoding: 'utf8' }).trim(), '33 101');
  exec.kill('SIGKILL');
  assert.equal((await exec.wait()).signal, 9);
});

test('another process finds a running exec by its id', async () => {
  const id = await running();
  const exec = await runtime.exec({ id, args: ['sleep', '1000'], detach: true, stdio: ['ignore', 'ignore', 'ignore'] });
  const other = new Runtime(join(root, 'run'));
  const state = other.execState(exec.id);
  assert.equal(state?.running, true);
  assert.equal(state?.pid, exec.pid);
  assert.equal(state?.containerId, id);
  assert.deepEqual(state?.args, ['sleep', '1000']);
  exec.kill('SIGKILL');
  await exec.wait();
  assert.equal(other.execState(exec.id)?.exit?.signal, 9);
});
