// Container records in the embedded store, and the one place where a
// record's stored status meets what the runtime and the kernel say now.
//
// The stored status is what the engine last decided ('creating', 'created',
// 'starting', 'running', 'restarting', 'exited', 'removing'). It can be out of
// date in exactly the ways a daemonless engine must expect: the command that
// was creating or starting the container was killed, the container's monitor
// died, the host restarted (the run root is a tmpfs), or the container ended
// and its exit hook has not run yet. `reconcile` notices each, settles the
// record in a transaction, and cleans up what the dead party left behind, so
// that every reader sees either a working container or none.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { notFound, invalid } from '../util/errors.js';
import { processStartTime } from '../runtime/state.js';
import { unmountRootfs } from '../image/snapshots.js';
import type { Engine } from './engine.js';
import type { CreateBody } from './host-config.js';
import type { ContainerInfo, ContainerState } from './container-info.js';
import { healthOf } from './health.js';
import { releaseNetwork } from './network.js';
import { transition, dockerStatus, LIVE_STATUSES, type StoredStatus } from './lifecycle.js';

export type { StoredStatus } from './lifecycle.js';

export const CONTAINER_STEPS = [
  `CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     image TEXT NOT NULL,
     image_id TEXT NOT NULL,
     created TEXT NOT NULL,
     config TEXT NOT NULL,
     status TEXT NOT NULL,
     exit_code INTEGER,
     started_at TEXT,
     finished_at TEXT
   ) STRICT;`,
  // The lifecycle of issue 4: Docker's create body, who is working on the
  // record right now (pid:starttime), and what Docker's State shows.
  `ALTER TABLE containers ADD COLUMN body TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE containers ADD COLUMN owner TEXT;
   ALTER TABLE containers ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN boot_id TEXT;
   ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN error TEXT NOT NULL DEFAULT '';
   ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN stopped_by_user INTEGER NOT NULL DEFAULT 0;`,
  // Each start gets a token that its monitor's exit hook carries back, so a
  // hook that comes late (after a restart) cannot settle the next run; and
  // the back-off counts only restarts in a row.
  `ALTER TABLE containers ADD COLUMN run_token TEXT;
   ALTER TABLE containers ADD COLUMN restart_streak INTEGER NOT NULL DEFAULT 0;`,
];

export interface ContainerRow {
  id: string; name: string; image: string; image_id: string; created: string; config: string; status: StoredStatus;
  exit_code: number | null; started_at: string | null; finished_at: string | null;
  body: string; owner: string | null; pid: number; boot_id: string | null; restart_count: number;
  error: string; oom_killed: number; stopped_by_user: number; run_token: string | null; restart_streak: number;
}

let bootIdCache: string | undefined;
/** Changes on every boot: a record started on another boot has lost its container. */
export function bootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return bootIdCache;
}

/** This process, as an owner of a record: its pid and start time, safe against pid reuse. */
export function selfOwner(): string {
  return `${process.pid}:${processStartTime(process.pid) ?? ''}`;
}

export function ownerAlive(owner: string | null): boolean {
  if (!owner) return false;
  const [pid, start] = owner.split(':');
  return processStartTime(Number(pid)) === start;
}

/** Docker's lookup order: the full ID, the name, then a unique ID prefix. */
export function findRow(engine: Engine, idOrName: string): ContainerRow {
  const name = idOrName.replace(/^\//, '');
  if (name === '') throw notFound('ContainerNotFound', `No such container: ${idOrName}`);
  const db = engine.db;
  let rows = db.prepare('SELECT * FROM containers WHERE id = ?').all(idOrName) as ContainerRow[];
  if (!rows.length) rows = db.prepare('SELECT * FROM containers WHERE name = ?').all(name) as ContainerRow[];
  if (!rows.length && /^[a-f0-9]+$/.test(idOrName)) {
    rows = db.prepare('SELECT * FROM containers WHERE substr(id, 1, ?) = ?').all(idOrName.length, idOrName) as ContainerRow[];
  }
  rows = rows.filter((r) => r.status !== 'removing' || ownerAlive(r.owner));
  if (rows.length === 0) throw notFound('ContainerNotFound', `No such container: ${idOrName}`);
  if (rows.length > 1) throw invalid('AmbiguousContainer', `multiple containers match "${idOrName}": use more of the ID`);
  return rows[0]!;
}

export function rowById(engine: Engine, id: string): ContainerRow | undefined {
  return engine.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
}

/** The runtime's view of a container: undefined when it has no runtime state. */
function runtimeStatus(engine: Engine, id: string): { status: string; exit?: { status: number; signal?: number; finishedAt: string }; oomKilled: boolean } | undefined {
  try {
    const st = engine.runtime.stateOf(id);
    return {
      status: st.status,
      ...(st.exitStatus !== undefined ? { exit: { status: st.exitStatus, ...(st.exitSignal ? { signal: st.exitSignal } : {}), finishedAt: st.finished ?? new Date().toISOString() } } : {}),
      oomKilled: st.oomKilled ?? false,
    };
  } catch {
    return undefined;
  }
}

/**
 * Settle a record whose container ended: its exit status and time, its
 * rootfs unmounted, its runtime state and cgroup gone. Idempotent; only one
 * of several processes doing it at once wins the claim. Returns the row as
 * it is afterwards.
 */
export async function settleExit(engine: Engine, id: string, reason?: { error: string; exitCode: number; hostRestarted?: boolean }): Promise<ContainerRow | undefined> {
  const row = rowById(engine, id);
  if (!row || !LIVE_STATUSES.includes(row.status)) return row;
  const rt = runtimeStatus(engine, id);
  // The hook of an earlier run can come late, after a restart: the run that
  // is up now is not its to settle. Only a restarted host overrides that.
  if (rt && rt.status !== 'stopped' && !reason?.hostRestarted) return row;
  // A start under way is its starter's to finish or undo.
  if (row.status === 'starting' && ownerAlive(row.owner)) return row;
  const exitCode = rt?.exit?.status ?? reason?.exitCode ?? 255;
  const error = rt?.exit ? '' : (reason?.error ?? 'the container\'s monitor is gone: its exit status is unknown');
  const finishedAt = rt?.exit?.finishedAt ?? new Date().toISOString();
  const claimed = transition(engine, id, 'exited', {
    from: row.status, expect: { pid: row.pid },
    set: { exit_code: exitCode, finished_at: finishedAt, error, oom_killed: rt?.oomKilled ? 1 : 0, pid: 0, owner: null },
  });
  if (claimed) await releaseRuntime(engine, id);
  return rowById(engine, id);
}

/**
 * Remove what a container held while it ran: its runtime state and cgroup,
 * and (unless a start is about to use it) its rootfs mount.
 */
export async function releaseRuntime(engine: Engine, id: string, opts: { unmount?: boolean } = {}): Promise<void> {
  // A state without its record is what a start killed half-way leaves.
  if (existsSync(engine.runtime.state.dir(id))) {
    try {
      await engine.runtime.delete(id, true, { cgroupsPath: `/berth/${id}` });
    } catch { /* gone already: cleared below */ }
    rmSync(engine.runtime.state.dir(id), { recursive: true, force: true });
  }
  releaseNetwork(engine, id);
  if (opts.unmount ?? true) unmountRootfs(engine.containerDir(id));
}

/**
 * Bring a record up to date with the runtime. Returns undefined when the
 * record was a leftover of a killed command and is gone now.
 */
export async function reconcile(engine: Engine, row: ContainerRow): Promise<ContainerRow | undefined> {
  switch (row.status) {
    case 'creating':
    case 'removing':
      if (ownerAlive(row.owner)) return row;
      // The command that was making or removing it died: finish the removal
      // (a create that never finished is discarded without an event).
      if (!transition(engine, row.id, row.status === 'creating' ? 'claimDiscard' : 'claimRemoval', { from: row.status, expect: { owner: row.owner }, set: { owner: selfOwner() } })) {
        return rowById(engine, row.id);
      }
      await engine.purgeContainer(row.id);
      return undefined;
    case 'starting': {
      if (ownerAlive(row.owner)) return row;
      // The starter died. A container it got running is adopted; anything
      // short of that is undone, and the container is as it was: created.
      const rt = runtimeStatus(engine, row.id);
      if (rt && (rt.status === 'running' || rt.status === 'paused')) {
        const pid = engine.runtime.state.load(row.id).pid;
        transition(engine, row.id, 'started', {
          expect: { owner: row.owner },
          set: (before) => ({ pid, owner: null, boot_id: bootId(), started_at: before.started_at ?? new Date().toISOString() }),
        });
        return rowById(engine, row.id);
      }
      if (transition(engine, row.id, 'startFailed', { expect: { owner: row.owner }, set: { owner: null } })) await releaseRuntime(engine, row.id);
      return rowById(engine, row.id);
    }
    case 'running': {
      if (row.boot_id && row.boot_id !== bootId()) {
        return settleExit(engine, row.id, { error: 'the host restarted while the container was running', exitCode: 255, hostRestarted: true });
      }
      const rt = runtimeStatus(engine, row.id);
      if (rt && rt.status !== 'stopped') return row;
      return settleExit(engine, row.id);
    }
    case 'restarting':
      // The exit hook waits out the back-off and starts it again; if that
      // process is gone, nobody will.
      if (ownerAlive(row.owner)) return row;
      transition(engine, row.id, 'cancelRestart', { expect: { owner: row.owner }, set: { owner: null } });
      return rowById(engine, row.id);
    default:
      return row;
  }
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function infoOf(engine: Engine, row: ContainerRow): ContainerInfo {
  let paused = false;
  if (row.status === 'running') {
    try {
      paused = engine.runtime.stateOf(row.id).status === 'paused';
    } catch { /* no runtime state: not paused */ }
  }
  const status = dockerStatus(row.status, paused);
  const state: ContainerState = {
    Status: status,
    Running: status === 'running' || status === 'paused',
    Paused: paused,
    Restarting: status === 'restarting',
    OOMKilled: row.oom_killed === 1,
    Dead: false,
    Pid: status === 'running' || status === 'paused' ? row.pid : 0,
    ExitCode: row.exit_code ?? 0,
    Error: row.error,
    StartedAt: row.started_at ?? ZERO_TIME,
    FinishedAt: row.finished_at ?? ZERO_TIME,
  };
  const health = status === 'running' || status === 'paused' ? healthOf(engine, row.id) : undefined;
  if (health) state.Health = health;
  return {
    id: row.id,
    name: row.name,
    image: row.image,
    imageId: row.image_id,
    created: row.created,
    body: JSON.parse(row.body) as CreateBody,
    state,
    restartCount: row.restart_count,
    dir: engine.containerDir(row.id),
    command: (JSON.parse(row.config) as { args?: string[] }).args ?? [],
    runtimeId: row.id,
    cgroupsPath: `/berth/${row.id}`,
  };
}

/** Every container, newest first, each reconciled. */
export async function listContainers(engine: Engine): Promise<ContainerInfo[]> {
  const rows = engine.db.prepare('SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as ContainerRow[];
  const out: ContainerInfo[] = [];
  for (const row of rows) {
    const settled = await reconcile(engine, row);
    if (settled && settled.status !== 'removing') out.push(infoOf(engine, settled));
  }
  return out;
}
