// The metadata store: WAL, a busy timeout, and numbered migration steps that
// apply once even when several processes start at the same moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { closeDatabase, migrate, openDatabase } from '../../src/util/db.js';
import { PROJECT } from '../support.js';

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-db-'));
  t.after(() => {
    closeDatabase(root);
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}

test('openDatabase: one connection per root, WAL, busy timeout, foreign keys', (t) => {
  const root = tempRoot(t);
  const db = openDatabase(root);
  assert.equal(openDatabase(root), db);
  assert.equal(openDatabase(join(root, '.')), db);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('busy_timeout', { simple: true }), 30000);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  closeDatabase(root);
  const again = openDatabase(root);
  assert.notEqual(again, db);
  assert.ok(again.open);
});

test('a file that is not a database is reported, not a crash', (t) => {
  const root = tempRoot(t);
  writeFileSync(join(root, 'berth.db'), 'this is not sqlite '.repeat(100));
  assert.throws(() => openDatabase(root), { kind: 'system', code: 'StoreUnreadable', message: /berth\.db: cannot open the metadata store/ });
});

test('migrate applies each step once, in order, and records it', (t) => {
  const db = openDatabase(tempRoot(t));
  const steps = ['CREATE TABLE a (x INTEGER)', 'INSERT INTO a VALUES (1)'];
  assert.equal(migrate(db, 'comp', steps), 2);
  assert.equal(migrate(db, 'comp', steps), 0);
  assert.equal(migrate(db, 'comp', [...steps, 'INSERT INTO a VALUES (2)']), 1);
  assert.deepEqual(db.prepare('SELECT x FROM a ORDER BY x').all(), [{ x: 1 }, { x: 2 }]);
  assert.deepEqual(db.prepare("SELECT step FROM migrations WHERE component = 'comp' ORDER BY step").all(), [{ step: 1 }, { step: 2 }, { step: 3 }]);
  // Components count their steps separately.
  assert.equal(migrate(db, 'other', ['CREATE TABLE b (y)']), 1);
});

test('a failing step rolls back every step of that run', (t) => {
  const db = openDatabase(tempRoot(t));
  migrate(db, 'first', []);
  assert.throws(() => migrate(db, 'c', ['CREATE TABLE a (x)', 'NOT SQL AT ALL']));
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").get(), undefined);
  assert.deepEqual(db.prepare("SELECT * FROM migrations WHERE component = 'c'").all(), []);
});

test('a store written by a newer berth is refused by name', (t) => {
  const db = openDatabase(tempRoot(t));
  migrate(db, 'image', ['CREATE TABLE a (x)', 'CREATE TABLE b (x)']);
  assert.throws(() => migrate(db, 'image', ['CREATE TABLE a (x)']), {
    code: 'StoreTooNew', message: /the image tables are at step 2, but this berth knows only 1/,
  });
});

test('processes migrating at once apply each step exactly once', async (t) => {
  const root = tempRoot(t);
  // The migrations table already there, as on every run but the first: then
  // nothing but the IMMEDIATE transaction orders the processes' reads of it.
  migrate(openDatabase(root), 'setup', []);
  closeDatabase(root);
  const startAt = Date.now() + 2000;
  // Steps that fail if applied twice (CREATE without IF NOT EXISTS) and a
  // slow one to widen the window in which a second process could slip in.
  const child = `
    import { openDatabase, migrate } from ${JSON.stringify(resolve(PROJECT, 'src/util/db.ts'))};
    const db = openDatabase(${JSON.stringify(root)});
    if (Date.now() > ${startAt}) process.stderr.write('late start');
    while (Date.now() < ${startAt}) {}
    const n = migrate(db, 'race', [
      'CREATE TABLE r (x INTEGER)',
      'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000) INSERT INTO r SELECT i FROM c',
      'CREATE TABLE s (y INTEGER)',
    ]);
    process.stdout.write(String(n));
  `;
  const runs = Array.from({ length: 6 }, () => new Promise<{ code: number | null; out: string; err: string }>((done) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: PROJECT });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    p.on('close', (code) => done({ code, out, err }));
  }));
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(r.code, 0, r.err);
  assert.equal(results.reduce((sum, r) => sum + Number(r.out), 0), 3);
  const db = openDatabase(root);
  assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM r').get(), { n: 200000 });
  assert.deepEqual(db.prepare("SELECT step FROM migrations WHERE component = 'race' ORDER BY step").all(), [{ step: 1 }, { step: 2 }, { step: 3 }]);
});
