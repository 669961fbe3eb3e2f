// Persisted events: every change of a container, image or volume that Docker
// reports on its event stream is a row in the store, written in the same
// transaction as the change itself (see lifecycle.ts), so an event is never
// lost or told twice, and any berth process on the root can read them: the
// `events` command, the API server, and every wait.
//
// Rows have a monotonic id (AUTOINCREMENT: never reused, even after the
// oldest rows are dropped), the time in nanoseconds, Docker's type and
// action, the actor's ID and its attributes (name, image, labels, exitCode,
// signal…). Only the newest EVENT_RETENTION rows are kept.
//
// Wakeups across processes: after each commit the writer rewrites a small
// tick file under the run root (<run-root>/events/tick); a reader watches that
// directory with inotify (fs.watch) and looks for new rows when it changes.
// The watch is only a hint: a reader also looks every FALLBACK_POLL_MS, so a
// lost notification (another run root, a full inotify queue) costs at most
// that much delay, never a missed event.
import { mkdirSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { migrate, type Database } from '../util/db.js';

export const EVENT_STEPS = [
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time_ns INTEGER NOT NULL,
     type TEXT NOT NULL,
     action TEXT NOT NULL,
     actor TEXT NOT NULL,
     attributes TEXT NOT NULL
   ) STRICT;`,
];

/** How many events the store keeps (Docker's daemon keeps 256 in memory). */
export const EVENT_RETENTION = 10_000;
/** How long a reader waits at most without a notification before it looks anyway. */
export const FALLBACK_POLL_MS = 1000;

export type EventType = 'container' | 'image' | 'volume';

export interface EventInput {
  type: EventType;
  /** Docker's action: 'create', 'die', 'health_status: healthy', 'exec_start: sh -c …'. */
  action: string;
  actorId: string;
  attributes: Record<string, string>;
}

export interface StoredEvent extends EventInput {
  id: number;
  /** Nanoseconds since the epoch. */
  timeNs: bigint;
}

/** The parts of the engine the event store needs. */
export interface EventStoreHost {
  readonly db: Database;
  readonly runRoot: string;
}

const migrated = new WeakSet<Database>();

/** The events table, made on first use (its own component in `migrations`). */
export function eventsDb(db: Database): Database {
  if (!migrated.has(db)) {
    migrate(db, 'events', EVENT_STEPS);
    migrated.add(db);
  }
  return db;
}

// Wall-clock nanoseconds: Date.now() gives milliseconds, the monotonic clock
// the digits below, so that events of one process keep their order in time.
const wallAnchorNs = BigInt(Date.now()) * 1_000_000n;
const monotonicAnchor = process.hrtime.bigint();
export function nowNs(): bigint {
  return wallAnchorNs + (process.hrtime.bigint() - monotonicAnchor);
}

/**
 * Append events inside the caller's transaction (the change they tell of
 * commits with them or not at all); the oldest beyond the retention go.
 * Returns the last id. Readers are woken by `notifyEventReaders` after the commit.
 */
export function appendEvents(db: Database, events: readonly EventInput[]): number {
  const insert = eventsDb(db).prepare('INSERT INTO events (time_ns, type, action, actor, attributes) VALUES (?, ?, ?, ?, ?)');
  let last = 0;
  for (const e of events) {
    last = Number(insert.run(nowNs(), e.type, e.action, e.actorId, JSON.stringify(e.attributes)).lastInsertRowid);
  }
  if (last > EVENT_RETENTION) db.prepare('DELETE FROM events WHERE id <= ?').run(last - EVENT_RETENTION);
  return last;
}

/** Record events on their own (a change that has no row of its own: kill, pull, a volume's removal). */
export function recordEvents(host: EventStoreHost, events: readonly EventInput[]): void {
  if (events.length === 0) return;
  const db = eventsDb(host.db);
  db.transaction(() => appendEvents(db, events)).immediate();
  notifyEventReaders(host);
}

function tickDir(runRoot: string): string {
  return join(runRoot, 'events');
}

const madeTickDirs = new Set<string>();

/**
 * Tell readers in every process that new events are committed. Called after
 * the commit; inside an outer transaction it waits until that has ended
 * (better-sqlite3's transactions are synchronous, so setImmediate comes after).
 */
export function notifyEventReaders(host: EventStoreHost): void {
  if (host.db.inTransaction) {
    setImmediate(() => notifyEventReaders(host));
    return;
  }
  const dir = tickDir(host.runRoot);
  try {
    if (!madeTickDirs.has(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      madeTickDirs.add(dir);
    }
    // Content, so that the write is a modification inotify reports.
    writeFileSync(join(dir, 'tick'), `${Date.now()}\n`);
  } catch {
    // Readers fall back to looking every second; the event itself is committed.
  }
}

function rowToEvent(r: { id: bigint; time_ns: bigint; type: string; action: string; actor: string; attributes: string }): StoredEvent {
  return {
    id: Number(r.id), timeNs: r.time_ns, type: r.type as EventType, action: r.action, actorId: r.actor,
    attributes: JSON.parse(r.attributes) as Record<string, string>,
  };
}

/** Events after `afterId`, oldest first, at most `limit`. */
export function eventsAfter(db: Database, afterId: number, limit = 1000): StoredEvent[] {
  const stmt = eventsDb(db).prepare('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?').safeIntegers(true);
  return (stmt.all(afterId, limit) as Parameters<typeof rowToEvent>[0][]).map(rowToEvent);
}

/** The id of the newest event (0 when there is none). */
export function lastEventId(db: Database): number {
  const row = eventsDb(db).prepare('SELECT MAX(id) AS id FROM events').get() as { id: number | null };
  return row.id ?? 0;
}

/**
 * Wakeups for a reader: `next()` resolves when an event may have been
 * committed (the tick file changed), when one of the `alsoWatch` directories
 * changed (a container's runtime state: its monitor writes the exit file
 * there before any hook runs), or after FALLBACK_POLL_MS at most.
 */
export class Wakeups {
  private watchers: FSWatcher[] = [];
  private watched = new Set<string>();
  private pending = false;
  private wake: (() => void) | undefined;

  constructor(runRoot: string, alsoWatch: string[] = []) {
    const dir = tickDir(runRoot);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch { /* watched below if it can be; else the fallback poll */ }
    for (const d of [dir, ...alsoWatch]) this.watchOnce(d);
  }

  /** Watch a directory too, unless it is watched already; one that does not exist (yet) is tried again at the next call. */
  watchOnce(dir: string): void {
    if (this.watched.has(dir)) return;
    try {
      // Not persistent: a wait's own timer keeps the process alive, a watch must not.
      const w = watch(dir, { persistent: false }, () => this.changed());
      w.on('error', () => w.close());
      this.watchers.push(w);
      this.watched.add(dir);
    } catch { /* not there: the fallback poll covers it until then */ }
  }

  private changed(): void {
    this.pending = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves at the next change (at once if one came since the last call), or after `ms` (at most the fallback). */
  next(ms = FALLBACK_POLL_MS): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, Math.max(0, Math.min(ms, FALLBACK_POLL_MS)));
      this.wake = () => {
        clearTimeout(timer);
        this.pending = false;
        resolve();
      };
    });
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
    this.wake?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Every event after `afterId` as it is committed, oldest first, until
 * `signal` aborts or the time `untilNs` has come (then the events up to it).
 */
export async function* followEvents(host: EventStoreHost, opts: { afterId: number; untilNs?: bigint; signal?: AbortSignal }): AsyncGenerator<StoredEvent> {
  const wakeups = new Wakeups(host.runRoot);
  const onAbort = () => wakeups.close();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    let after = opts.afterId;
    for (;;) {
      if (opts.signal?.aborted) return;
      const batch = eventsAfter(host.db, after);
      for (const e of batch) {
        after = e.id;
        if (opts.untilNs !== undefined && e.timeNs > opts.untilNs) continue;
        yield e;
      }
      if (batch.length > 0) continue;
      if (opts.untilNs !== undefined) {
        const leftMs = Number((opts.untilNs - nowNs()) / 1_000_000n);
        // Past the end: one more look for events committed up to it, then done.
        if (leftMs < 0) {
          for (const e of eventsAfter(host.db, after)) if (e.timeNs <= opts.untilNs) yield e;
          return;
        }
        await wakeups.next(leftMs + 1);
      } else {
        await wakeups.next();
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    wakeups.close();
  }
}
