// The embedded metadata store: one SQLite file, <root>/berth.db, shared by
// every berth process on that root (a CLI command beside the API server).
// SQLite gives what loose JSON files and home-made locks would not:
// transactions, and a crash at any point leaves the last committed state.
//
// WAL mode lets readers proceed while one writer commits; busy_timeout makes a
// writer wait (up to 30 s) for another process's transaction instead of
// failing at once with SQLITE_BUSY. (A network's bring-up holds the write
// lock for a few `ip`/`nft` commands, which on a busy host take seconds.)
//
// Each component (image, engine, …) owns its tables and evolves them by
// numbered steps: `migrate(db, 'image', [step1, step2])`. The steps applied so
// far are recorded in `migrations(component, step)`; new ones run together in
// one IMMEDIATE transaction, which takes the write lock before reading what is
// applied, so two processes starting at once cannot both apply a step.
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BerthError, systemError } from './errors.js';

export type Database = BetterSqlite3.Database;

export { DB_FILE } from './db-file.js';
import { DB_FILE } from './db-file.js';

// One connection per process per root: better-sqlite3 is synchronous, so a
// second connection in the same process would only contend with the first.
const open = new Map<string, Database>();

export function openDatabase(root: string): Database {
  const key = resolve(root);
  const cached = open.get(key);
  if (cached?.open) return cached;
  mkdirSync(key, { recursive: true });
  const path = join(key, DB_FILE);
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(path);
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.pragma('busy_timeout = 30000');
    db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives power loss too, not only a crash of berth.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db?.close();
    throw systemError('StoreUnreadable', `${path}: cannot open the metadata store: ${(err as Error).message}`, err);
  }
  open.set(key, db);
  return db;
}

/** Close the process's connection to this root (tests, and a clean shutdown). */
export function closeDatabase(root: string): void {
  const key = resolve(root);
  open.get(key)?.close();
  open.delete(key);
}

/**
 * Apply `component`'s steps not yet applied, in order, in one transaction.
 * Step n is steps[n-1]; never edit or reorder a step once released, only
 * append. Returns how many steps were applied now.
 */
export function migrate(db: Database, component: string, steps: readonly string[]): number {
  const run = db.transaction((): number => {
    db.exec(`CREATE TABLE IF NOT EXISTS migrations (
      component TEXT NOT NULL,
      step INTEGER NOT NULL,
      applied TEXT NOT NULL,
      PRIMARY KEY (component, step)
    )`);
    const row = db.prepare('SELECT MAX(step) AS step FROM migrations WHERE component = ?').get(component) as { step: number | null };
    const done = row.step ?? 0;
    if (done > steps.length) {
      throw new BerthError('system', 'StoreTooNew',
        `${db.name}: the ${component} tables are at step ${done}, but this berth knows only ${steps.length}; it was written by a newer berth`);
    }
    const record = db.prepare('INSERT INTO migrations (component, step, applied) VALUES (?, ?, ?)');
    const now = new Date().toISOString();
    for (let i = done; i < steps.length; i++) {
      db.exec(steps[i]!);
      record.run(component, i + 1, now);
    }
    return steps.length - done;
  });
  return run.immediate();
}
