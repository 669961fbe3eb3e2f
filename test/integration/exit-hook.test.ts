// The exit hook and the attached `run --rm`: whoever comes first handles a
// run's exit (src/util/exit-claims.ts); the hook that finds the run claimed
// does nothing, not even open the store. And an exec started in one process
// is inspected from another while it runs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { Engine } from '../../src/engine/engine.js';
import { claimExit } from '../../src/util/exit-claims.js';
import { closeDatabase } from '../../src/util/db.js';
import { imageRoot, eventually, cleanup, PROJECT } from '../support.js';

const { root, dataRoot, runRoot, b, removeAll } = imageRoot('exit-hook');
after(() => {
  removeAll();
  closeDatabase(dataRoot);
  cleanup(root);
});

const claims = () => (existsSync(join(runRoot, 'exits')) ? readdirSync(join(runRoot, 'exits')) : []);

test('an attached run --rm removes its container, and its hook leaves no claim behind', async () => {
  const r = b('run', '--rm', 'busybox', 'true');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(b('ps', '-a', '-q').stdout, '');
  await eventually(() => claims().length === 0, 20_000, 'the hook to take its claim away');
});

test('a hook whose run is claimed does not settle it', async () => {
  const id = b('run', '-d', 'busybox', 'sleep', '1000').stdout.trim();
  const db = new BetterSqlite3(join(dataRoot, 'berth.db'), { readonly: true });
  const row = () => db.prepare('SELECT status, run_token FROM containers WHERE id = ?').get(id) as { status: string; run_token: string };
  try {
    assert.ok(claimExit(runRoot, id, row().run_token));
    const pid = Number(b('inspect', '-f', '{{.State.Pid}}', id).stdout.trim());
    process.kill(pid, 'SIGKILL');
    await eventually(() => claims().length === 0, 20_000, 'the hook to see the claim');
    assert.equal(row().status, 'running', 'the hook settled a run another process had claimed');
    // The next reader settles it as ever.
    assert.equal(b('inspect', '-f', '{{.State.Status}}', id).stdout.trim(), 'exited');
  } finally {
    db.close();
    b('rm', '-f', id);
  }
});

test('an exec is inspected from another process while it runs', async () => {
  const id = b('run', '-d', 'busybox', 'sleep', '1000').stdout.trim();
  const engine = new Engine({ root: dataRoot, runRoot });
  try {
    const exec = await engine.execInContainer(id, { cmd: ['sleep', '1000'], detach: true, user: 'nobody', stdio: ['ignore', 'ignore', 'ignore'] });
    const script = `import { Engine } from './src/engine/engine.ts';
      console.log(JSON.stringify(new Engine({ root: process.argv[1], runRoot: process.argv[2] }).inspectExec(process.argv[3])));`;
    const inspect = () => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataRoot, runRoot, exec.id], { cwd: PROJECT, encoding: 'utf8' })) as Record<string, unknown>;
    const running = inspect();
    assert.equal(running.ID, exec.id);
    assert.equal(running.Running, true);
    assert.equal(running.ExitCode, null);
    assert.equal(running.Pid, exec.pid);
    assert.equal(running.ContainerID, id);
    assert.deepEqual(running.ProcessConfig, { tty: false, entrypoint: 'sleep', arguments: ['1000'], privileged: false, user: 'nobody' });
    exec.kill('SIGKILL');
    await exec.wait();
    const ended = inspect();
    assert.equal(ended.Running, false);
    assert.equal(ended.ExitCode, 137);
  } finally {
    b('rm', '-f', id);
  }
});
