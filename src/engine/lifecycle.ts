// A container record's lifecycle as one table. The stored status is the
// engine's one vocabulary; each action names the statuses it may start from,
// the status it leads to, and the events Docker would report for it. Every
// change of status goes through `transition`, which does the compare-and-set
// and appends the events in one IMMEDIATE transaction: whichever of several
// processes wins the change also writes its events, exactly once.
//
//   creating ──create──▶ created ──claimStart──▶ starting ──started──▶ running
//       │                   ▲                       │ │                   │
//    claimDiscard           └──────startFailed──────┘ └──exited──▶ exited ◀┘
//       ▼                                                 ▲  │  ▲
//   (discarded)         restarting ◀──scheduleRestart─────┘  │  └─cancelRestart─ restarting
//                           └──relaunch──▶ starting         claimRemoval ──▶ removing ──destroy──▶ (gone)
//
// The runtime's statuses (running, paused, stopped: derived from the kernel
// and the monitor's files) are read only by reconcile (containers.ts), and
// Docker's `State.Status` is made from the stored one in `dockerStatus` below.
import { notifyEventReaders, appendEvents, type EventInput } from './events.js';
import type { ContainerRow } from './containers.js';
import type { ContainerStatus } from './container-info.js';
import type { Engine } from './engine.js';

export type StoredStatus = 'creating' | 'created' | 'starting' | 'running' | 'restarting' | 'exited' | 'removing';

/** The container events an action reports: Docker's action and its own attributes (name, image and labels are added). */
type ActionEvents = (before: ContainerRow, after: ContainerRow) => { action: string; attributes?: Record<string, string> }[];

interface Transition {
  from: readonly StoredStatus[];
  /** The status after; undefined: the record is deleted. */
  to: StoredStatus | undefined;
  events?: ActionEvents;
}

/** Whole seconds between two ISO times, as Docker's execDuration. */
function secondsBetween(from: string | null, to: string | null): string {
  const ms = Date.parse(to ?? '') - Date.parse(from ?? '');
  return String(Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0);
}

export const TRANSITIONS = {
  /** `create` has everything in place. */
  create: { from: ['creating'], to: 'created', events: () => [{ action: 'create' }] },
  /** The creator died half-way: a reader takes the leftover over, to discard it (no event: it never existed for anyone). */
  claimDiscard: { from: ['creating'], to: 'creating' },
  /** A start (or a restart by the policy) claims the record. */
  claimStart: { from: ['created', 'exited'], to: 'starting' },
  relaunch: { from: ['restarting'], to: 'starting' },
  /** The process runs; a starter that died after that is adopted by a reader. */
  started: { from: ['starting'], to: 'running', events: () => [{ action: 'start' }] },
  /** A start that did not happen (Docker reports no die for it). */
  startFailed: { from: ['starting'], to: 'created' },
  restartFailed: { from: ['starting'], to: 'exited' },
  /** The process ended (the exit hook, or any reader that sees it first). */
  exited: {
    from: ['running', 'starting', 'restarting'], to: 'exited',
    events: (before, after) => [
      ...(after.oom_killed ? [{ action: 'oom' }] : []),
      { action: 'die', attributes: { exitCode: String(after.exit_code ?? 0), execDuration: secondsBetween(before.started_at, after.finished_at) } },
    ],
  },
  /** The restart policy will start it again after its back-off. */
  scheduleRestart: { from: ['exited'], to: 'restarting' },
  /** A stop during the back-off, or the process that waited it out is gone. */
  cancelRestart: { from: ['restarting'], to: 'exited' },
  claimRemoval: { from: ['creating', 'created', 'starting', 'restarting', 'exited', 'removing'], to: 'removing' },
  /** The record goes; an unfinished create's goes without a word. */
  destroy: { from: ['removing'], to: undefined, events: () => [{ action: 'destroy' }] },
  discard: { from: ['creating'], to: undefined },
} as const satisfies Record<string, Transition>;

export type LifecycleAction = keyof typeof TRANSITIONS;

type Column = Exclude<keyof ContainerRow, 'id' | 'status'>;
type ColumnValue = string | number | null;

export interface TransitionOptions {
  /** Only from this one of the table's statuses. */
  from?: StoredStatus;
  /** Only while these columns hold these values (the owner that claimed it, the pid of the run being settled…). */
  expect?: Partial<Record<Column, ColumnValue>>;
  /** Other columns to set with the status, or a function of the record before. */
  set?: Partial<Record<Column, ColumnValue>> | ((before: ContainerRow) => Partial<Record<Column, ColumnValue>>);
}

/**
 * Apply `action` to the container's record if its status allows it (and
 * `expect` holds), with its events, in one transaction. Returns the record
 * as it is now (the deleted one for destroy), or undefined when the
 * compare-and-set lost: another process changed the record first.
 */
export function transition(engine: Engine, id: string, action: LifecycleAction, opts: TransitionOptions = {}): ContainerRow | undefined {
  const t: Transition = TRANSITIONS[action];
  const from = opts.from !== undefined ? t.from.filter((s) => s === opts.from) : t.from;
  const db = engine.db;
  const apply = db.transaction((): ContainerRow | undefined => {
    const before = db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
    if (!before || !from.includes(before.status)) return undefined;
    for (const [column, value] of Object.entries(opts.expect ?? {})) {
      if (before[column as Column] !== value) return undefined;
    }
    let after: ContainerRow;
    if (t.to === undefined) {
      db.prepare('DELETE FROM containers WHERE id = ?').run(id);
      after = before;
    } else {
      const set = { ...(typeof opts.set === 'function' ? opts.set(before) : opts.set ?? {}), status: t.to };
      const columns = Object.keys(set);
      db.prepare(`UPDATE containers SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
        .run(...columns.map((c) => set[c as keyof typeof set]), id);
      after = { ...before, ...set } as ContainerRow;
    }
    const events = t.events?.(before, after) ?? [];
    if (events.length > 0) appendEvents(db, events.map((e) => containerEvent(engine, after, e.action, e.attributes)));
    return after;
  });
  const result = apply.immediate();
  if (result && t.events) notifyEventReaders(engine);
  return result;
}

/**
 * A container event as Docker makes it: the given attributes, the
 * container's labels (the image's and its own), then its image and name.
 */
export function containerEvent(engine: LabelSource, row: Pick<ContainerRow, 'id' | 'name' | 'image' | 'image_id' | 'body'>, action: string, attributes: Record<string, string> = {}): EventInput {
  return {
    type: 'container', action, actorId: row.id,
    attributes: { ...attributes, ...containerLabels(engine, row), image: row.image, name: row.name },
  };
}

/** Where the image's labels come from (a caller with the store only has none). */
type LabelSource = Partial<Pick<Engine, 'image' | 'imageRunConfig'>>;

function containerLabels(engine: LabelSource, row: Pick<ContainerRow, 'image_id' | 'body'>): Record<string, string> {
  let imageLabels: Record<string, string> = {};
  try {
    if (engine.image && engine.imageRunConfig) imageLabels = (engine.imageRunConfig(engine.image(row.image_id)).Labels as Record<string, string> | null | undefined) ?? {};
  } catch { /* the image is gone: its labels with it */ }
  const own = (JSON.parse(row.body) as { Labels?: Record<string, string> }).Labels ?? {};
  return { ...imageLabels, ...own };
}

/** Docker's State.Status of a stored status (paused is the runtime's freezer, read beside it). */
export function dockerStatus(status: StoredStatus, paused: boolean): ContainerStatus {
  switch (status) {
    case 'creating': case 'created': case 'starting': return 'created';
    case 'running': return paused ? 'paused' : 'running';
    case 'restarting': return 'restarting';
    case 'removing': return 'removing';
    default: return 'exited';
  }
}

/** The statuses in which a record's process may be up (or about to be). */
export const LIVE_STATUSES: readonly StoredStatus[] = ['running', 'starting', 'restarting'];

/**
 * A change that keeps the status but that Docker reports (rename, update):
 * the columns and the event in one transaction. `set` runs inside it, on the
 * record as it is then; it may throw to change nothing.
 */
export function changeRecord(engine: Engine, id: string, action: string, set: (before: ContainerRow) => { columns: Partial<Record<Column, ColumnValue>>; attributes?: Record<string, string> }): ContainerRow | undefined {
  const db = engine.db;
  const result = db.transaction((): ContainerRow | undefined => {
    const before = db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
    if (!before) return undefined;
    const { columns, attributes } = set(before);
    const names = Object.keys(columns);
    if (names.length > 0) {
      db.prepare(`UPDATE containers SET ${names.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...names.map((c) => columns[c as Column]), id);
    }
    const after = { ...before, ...columns } as ContainerRow;
    appendEvents(db, [containerEvent(engine, after, action, attributes)]);
    return after;
  }).immediate();
  if (result) notifyEventReaders(engine);
  return result;
}

/**
 * Docker's `health_status: <status>` event, when a probe changed the
 * container's health. Called inside the transaction that records the result.
 */
export function recordHealthStatus(engine: Pick<Engine, 'db'>, id: string, status: string): void {
  const row = engine.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
  if (!row) return;
  appendEvents(engine.db, [containerEvent(engine as LabelSource, row, `health_status: ${status}`)]);
  const { runRoot } = engine as Partial<Engine>;
  if (runRoot !== undefined) notifyEventReaders({ db: engine.db, runRoot });
}
