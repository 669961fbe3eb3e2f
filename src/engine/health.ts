// Healthchecks, Docker's way, without a daemon. A container's healthcheck is
// the image's HEALTHCHECK merged with the --health-* flags; while the
// container runs, its monitor (the native helper) forks `berth internal
// healthcheck <id>` every tick, and that one-shot command decides whether a
// probe is due, runs it inside the container (the runtime's exec), and
// records the result in the `health` table of the embedded store.
//
// Why ticks and a "due" test: the monitor knows only one fixed period, but
// Docker probes at --health-start-interval while the container is starting
// inside its start period and at --health-interval otherwise, each counted
// from the end of the previous probe. So the monitor ticks at the shortest
// interval the container can need, and each tick compares the time since the
// last probe ended with the interval Docker would wait now. Half a tick of
// slack absorbs the command's own start-up, so a probe never waits a whole
// extra tick for a few milliseconds.
//
// Status follows Docker's handleProbeResult: "starting" until the first
// success or until FailingStreak reaches Retries ("unhealthy"); a success
// makes it "healthy" and resets the streak; failures that start inside the
// start period, while still starting, do not count. The last 5 results are
// kept, each output cut at 4096 bytes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { BerthError, errnoCode, invalid } from '../util/errors.js';
import { migrate, type Database } from '../util/db.js';
import { formatGoDuration } from '../util/duration.js';
import type { CreateBody, HealthConfig } from './host-config.js';
import type { HealthLogEntry, HealthState } from './container-info.js';
import type { Engine } from './engine.js';
import type { ExecHandle } from '../runtime/exec.js';
import { rowById } from './containers.js';
import { recordHealthStatus } from './lifecycle.js';

const SECOND_NS = 1_000_000_000;
/** Docker's defaults (daemon/health.go), used where a field is 0 or unset. */
export const HEALTH_DEFAULTS = {
  Interval: 30 * SECOND_NS,
  Timeout: 30 * SECOND_NS,
  StartPeriod: 0,
  StartInterval: 5 * SECOND_NS,
  Retries: 3,
} as const;
/** containertypes.MinimumDuration: the shortest duration a healthcheck may set. */
export const MINIMUM_DURATION_NS = 1_000_000;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT_BYTES = 4096;
/** Past its timeout plus this, a probe that never recorded its end (its command was killed) no longer blocks the next. */
const STALE_PROBE_GRACE_MS = 30_000;

const HEALTH_STEPS = [
  `CREATE TABLE health (
     container_id TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     started_at TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('starting', 'healthy', 'unhealthy')),
     failing_streak INTEGER NOT NULL,
     log TEXT NOT NULL,
     last_end_ms INTEGER,
     probe_started_ms INTEGER
   ) STRICT;`,
];

interface HealthRow {
  container_id: string;
  /** The effective HealthConfig of this run (JSON). */
  config: string;
  /** The container's StartedAt for this run: the start period counts from it. */
  started_at: string;
  status: 'starting' | 'healthy' | 'unhealthy';
  failing_streak: number;
  /** The last results (JSON HealthLogEntry[]), oldest first; kept across restarts, as Docker keeps them. */
  log: string;
  /** When this run's last probe ended (ms since the epoch); null before the first. */
  last_end_ms: number | null;
  /** When a probe now running began; null when none runs. */
  probe_started_ms: number | null;
}

const migrated = new WeakSet<Database>();
function healthDb(engine: Pick<Engine, 'db'>): Database {
  const db = engine.db;
  if (!migrated.has(db)) {
    migrate(db, 'health', HEALTH_STEPS);
    migrated.add(db);
  }
  return db;
}

/**
 * Docker's merge (daemon/commit.go, merge): the flags' healthcheck replaces
 * the image's field by field, where the flags set a field; no flags, the
 * image's as it is. `--no-healthcheck` arrives as Test ["NONE"], which wins.
 */
export function mergeHealthConfig(image: HealthConfig | null | undefined, user: HealthConfig | undefined): HealthConfig | undefined {
  if (!user) return image ? { ...image } : undefined;
  if (!image) return { ...user };
  return {
    Test: user.Test && user.Test.length > 0 ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    StartInterval: user.StartInterval || image.StartInterval,
    Retries: user.Retries || image.Retries,
  };
}

/** The daemon's validateHealthCheck: what `create` refuses, with Docker's messages. */
export function validateHealthConfig(config: HealthConfig | undefined): void {
  if (!config) return;
  const durations = [['Interval', config.Interval], ['Timeout', config.Timeout], ['StartPeriod', config.StartPeriod], ['StartInterval', config.StartInterval]] as const;
  for (const [field, ns] of durations) {
    if (ns !== undefined && ns !== 0 && ns < MINIMUM_DURATION_NS) {
      throw invalid('InvalidHealthcheck', `${field} in Healthcheck cannot be less than ${formatGoDuration(MINIMUM_DURATION_NS)}`);
    }
    if (ns !== undefined && !Number.isSafeInteger(ns)) throw invalid('InvalidHealthcheck', `${field} in Healthcheck must be a whole number of nanoseconds`);
  }
  if (config.Retries !== undefined && (!Number.isInteger(config.Retries) || config.Retries < 0)) {
    throw invalid('InvalidHealthcheck', 'Retries in Healthcheck cannot be negative');
  }
}

/** The command a healthcheck runs inside the container; undefined when it has none (no Test, ["NONE"], an unknown kind). */
export function probeArgs(config: HealthConfig | undefined): string[] | undefined {
  const test = config?.Test ?? [];
  const args = test.slice(1);
  if (args.length === 0) return undefined;
  if (test[0] === 'CMD') return args;
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', ...args];
  return undefined;
}

/** Each field with Docker's default where unset, in nanoseconds. */
function effective(config: HealthConfig): Required<Omit<HealthConfig, 'Test'>> {
  return {
    Interval: config.Interval || HEALTH_DEFAULTS.Interval,
    Timeout: config.Timeout || HEALTH_DEFAULTS.Timeout,
    StartPeriod: config.StartPeriod || HEALTH_DEFAULTS.StartPeriod,
    StartInterval: config.StartInterval || HEALTH_DEFAULTS.StartInterval,
    Retries: config.Retries || HEALTH_DEFAULTS.Retries,
  };
}

/** How often the monitor must tick: the shortest interval Docker would wait between two probes. */
export function tickNs(config: HealthConfig): number {
  const e = effective(config);
  return e.StartPeriod > 0 ? Math.min(e.Interval, e.StartInterval) : e.Interval;
}

/**
 * When Docker would start the next probe (its monitor's getInterval), in ms:
 * counted from the end of the previous probe, or from the start.
 */
export function nextProbeDueMs(config: HealthConfig, startedAtMs: number, lastEndMs: number | null, status: HealthRow['status']): number {
  const e = effective(config);
  const from = lastEndMs ?? startedAtMs;
  const elapsed = from - startedAtMs;
  const [interval, startInterval, startPeriod] = [e.Interval / 1e6, e.StartInterval / 1e6, e.StartPeriod / 1e6];
  let wait: number;
  if (elapsed >= startPeriod) wait = interval;
  else if (startPeriod - elapsed < interval) wait = startPeriod - elapsed; // probe as soon as the start period ends
  else wait = status === 'starting' ? startInterval : interval;
  return from + wait;
}

export interface PeriodicCommand {
  intervalMs: number;
  command: string[];
}

/**
 * Called at each start of a container, before its monitor exists (Docker's
 * initHealthMonitor): the effective healthcheck (the image's merged with the
 * body's) is recorded for this run, its health goes back to "starting" with
 * no failures (earlier results stay in the log), and the monitor gets the
 * command to fork every tick: `<internal…> healthcheck <id>`, where
 * `internal` is the CLI prefix of the internal commands. Undefined, and no
 * health recorded, when the container has no healthcheck.
 */
export function healthMonitor(engine: Engine, id: string, body: CreateBody, internal: string[]): PeriodicCommand | undefined {
  const db = healthDb(engine);
  const config = mergeHealthConfig(imageHealthcheck(engine, id), body.Healthcheck);
  if (!config || !probeArgs(config)) {
    db.prepare('DELETE FROM health WHERE container_id = ?').run(id);
    return undefined;
  }
  db.prepare(`INSERT INTO health (container_id, config, started_at, status, failing_streak, log) VALUES (?, ?, ?, 'starting', 0, '[]')
              ON CONFLICT (container_id) DO UPDATE SET config = excluded.config, started_at = excluded.started_at,
                status = 'starting', failing_streak = 0, last_end_ms = NULL, probe_started_ms = NULL`)
    .run(id, JSON.stringify(config), new Date().toISOString());
  return { intervalMs: Math.max(1, Math.round(tickNs(config) / 1e6)), command: [...internal, 'healthcheck', id] };
}

/** The HEALTHCHECK of the image the container was created from (by its ID: a tag may have moved since). */
function imageHealthcheck(engine: Engine, id: string): HealthConfig | undefined {
  const row = rowById(engine, id);
  if (!row) return undefined;
  try {
    return (engine.imageRunConfig(engine.image(row.image_id)).Healthcheck as HealthConfig | null | undefined) ?? undefined;
  } catch (err) {
    if (err instanceof BerthError && err.kind === 'notFound') return undefined; // the image is gone: the body's own healthcheck only
    throw err;
  }
}

/** The container's health as `inspect` shows it (State.Health); undefined when it has no healthcheck. */
export function healthOf(engine: Engine, id: string): HealthState | undefined {
  const row = healthDb(engine).prepare('SELECT * FROM health WHERE container_id = ?').get(id) as HealthRow | undefined;
  if (!row) return undefined;
  return { Status: row.status, FailingStreak: row.failing_streak, Log: JSON.parse(row.log) as HealthLogEntry[] };
}

/** Forget a removed container's health. */
export function forgetHealth(engine: Pick<Engine, 'db'>, id: string): void {
  healthDb(engine).prepare('DELETE FROM health WHERE container_id = ?').run(id);
}

export type HealthcheckOutcome =
  | { ran: false; reason: 'no-healthcheck' | 'not-due' | 'probe-running' | 'not-running' | 'restarted' }
  | { ran: true; result: HealthLogEntry; health: HealthState };

/**
 * One tick of a container's healthcheck: if a probe is due, run it once
 * inside the container, kill it at the timeout, and record the result and
 * the new status. `force` runs the probe whether or not it is due.
 */
export async function runHealthcheck(engine: Pick<Engine, 'db' | 'runtime'>, id: string, opts: { force?: boolean; now?: () => number } = {}): Promise<HealthcheckOutcome> {
  const now = opts.now ?? Date.now;
  const db = healthDb(engine);
  // Claim the probe in a transaction: two ticks (or a tick and a manual run) never probe at once.
  const claim = db.transaction((): { row: HealthRow; config: HealthConfig; startMs: number } | HealthcheckOutcome => {
    const row = db.prepare('SELECT * FROM health WHERE container_id = ?').get(id) as HealthRow | undefined;
    if (!row) return { ran: false, reason: 'no-healthcheck' };
    const config = JSON.parse(row.config) as HealthConfig;
    const startMs = now();
    if (row.probe_started_ms !== null && startMs - row.probe_started_ms < effective(config).Timeout / 1e6 + STALE_PROBE_GRACE_MS) {
      return { ran: false, reason: 'probe-running' };
    }
    const due = nextProbeDueMs(config, Date.parse(row.started_at), row.last_end_ms, row.status);
    if (!opts.force && startMs < due - tickNs(config) / 1e6 / 2) return { ran: false, reason: 'not-due' };
    db.prepare('UPDATE health SET probe_started_ms = ? WHERE container_id = ?').run(startMs, id);
    return { row, config, startMs };
  });
  const claimed = claim.immediate();
  if ('ran' in claimed) return claimed;
  const { row, config, startMs } = claimed;

  let probe: ProbeResult | undefined;
  try {
    probe = await runProbe(engine, id, probeArgs(config)!, effective(config).Timeout);
  } finally {
    if (!probe) db.prepare('UPDATE health SET probe_started_ms = NULL WHERE container_id = ? AND started_at = ?').run(id, row.started_at);
  }
  if (probe === 'not-running') {
    db.prepare('UPDATE health SET probe_started_ms = NULL WHERE container_id = ? AND started_at = ?').run(id, row.started_at);
    return { ran: false, reason: 'not-running' };
  }
  const result: HealthLogEntry = { Start: new Date(startMs).toISOString(), End: new Date(probe.endMs).toISOString(), ExitCode: probe.exitCode, Output: probe.output };

  const record = db.transaction((): HealthcheckOutcome => {
    const current = db.prepare('SELECT * FROM health WHERE container_id = ?').get(id) as HealthRow | undefined;
    // Restarted (or removed) while the probe ran: the result belongs to a run that is over.
    if (!current || current.started_at !== row.started_at) return { ran: false, reason: 'restarted' };
    const health = applyResult(config, current, result);
    if (health.Status !== current.status) recordHealthStatus(engine, id, health.Status);
    db.prepare('UPDATE health SET status = ?, failing_streak = ?, log = ?, last_end_ms = ?, probe_started_ms = NULL WHERE container_id = ?')
      .run(health.Status, health.FailingStreak, JSON.stringify(health.Log), probe.endMs, id);
    return { ran: true, result, health };
  });
  return record.immediate();
}

/** Docker's handleProbeResult: the new status, streak and log after one result. */
export function applyResult(config: HealthConfig, current: Pick<HealthRow, 'status' | 'failing_streak' | 'log' | 'started_at'>, result: HealthLogEntry): HealthState & { Status: HealthRow['status'] } {
  const log = [...(JSON.parse(current.log) as HealthLogEntry[]), result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const inStartPeriod = current.status === 'starting' && Date.parse(result.Start) - Date.parse(current.started_at) < effective(config).StartPeriod / 1e6;
  if (inStartPeriod) return { Status: current.status, FailingStreak: current.failing_streak, Log: log };
  const streak = current.failing_streak + 1;
  return { Status: streak >= effective(config).Retries ? 'unhealthy' : current.status, FailingStreak: streak, Log: log };
}

type ProbeResult = { exitCode: number; output: string; endMs: number } | 'not-running';

/**
 * Run the probe once inside the container with stdout and stderr into one
 * bounded buffer, as Docker's limitedBuffer: the first 4096 bytes, then "...".
 * At the timeout the probe is killed and counts as a failure (exit -1).
 */
async function runProbe(engine: Pick<Engine, 'runtime'>, id: string, args: string[], timeoutNs: number): Promise<ProbeResult> {
  const runtime = engine.runtime;
  try {
    if (runtime.stateOf(id).status !== 'running') return 'not-running';
  } catch (err) {
    if (err instanceof BerthError && err.kind === 'notFound') return 'not-running';
    throw err;
  }
  const output = await outputChannel();
  try {
    let exitCode: number;
    let timedOut = false;
    try {
      // The timeout counts from when the probe runs, not from when its exec
      // was asked for, which on a busy host can take longer than a short timeout.
      const exec = await runtime.exec({ id, args, stdio: ['ignore', output.writer, output.writer] });
      const watch = killAtTimeout(exec, timeoutNs / 1e6, () => { timedOut = true; });
      try {
        exitCode = (await exec.wait()).status;
      } finally {
        watch.stop();
      }
    } catch (err) {
      if (!(err instanceof BerthError)) throw err;
      if (err.kind === 'conflict') return 'not-running';
      // Could not start (no such command…): a failed check whose output says why, as Docker records it.
      return { exitCode: -1, output: err.message, endMs: Date.now() };
    }
    const endMs = Date.now();
    const text = await output.collected();
    if (timedOut) {
      const limit = `Health check exceeded timeout (${formatGoDuration(timeoutNs)})`;
      return { exitCode: -1, output: text ? `${limit}: ${text}` : limit, endMs };
    }
    return { exitCode, output: text, endMs };
  } finally {
    output.close();
  }
}

/**
 * A socket pair for the probe's stdout and stderr (Node makes no pipe(2)):
 * the writer end goes to the probe, we read the other, keeping the first
 * 4096 bytes. An abstract socket name leaves no file behind.
 */
async function outputChannel(): Promise<{ writer: Socket; collected: () => Promise<string>; close: () => void }> {
  const name = `\0berth-health-${process.pid}-${randomBytes(6).toString('hex')}`;
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(name, ok));
  const accepted = new Promise<Socket>((ok) => server.once('connection', ok));
  const writer = connect(name);
  await new Promise<void>((ok, fail) => writer.once('error', fail).once('connect', ok));
  const reader = await accepted;
  server.close();
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  reader.on('data', (d: Buffer) => {
    const room = MAX_OUTPUT_BYTES - kept;
    if (room > 0) chunks.push(d.subarray(0, room));
    kept += Math.min(room, d.length);
    if (d.length > room) truncated = true;
  });
  reader.on('error', () => { /* the probe is gone; what arrived is kept */ });
  const ended = new Promise<void>((ok) => reader.once('end', ok).once('close', ok));
  return {
    writer,
    collected: async () => {
      // Our copy of the writer goes once the probe has it; the end then comes
      // when the probe's last process closes it. A background process the
      // probe left may hold it for ever: what arrived by then is the output.
      writer.destroy();
      await Promise.race([ended, new Promise((r) => setTimeout(r, 100))]);
      const text = Buffer.concat(chunks).toString('utf8');
      return truncated ? `${text}...` : text;
    },
    close: () => {
      writer.destroy();
      reader.destroy();
    },
  };
}

const KILL_AGAIN_MS = 100;

/**
 * Kill the probe (SIGKILL, as Docker does) with everything it started once
 * it has run for `timeoutMs`. The kill is repeated until its exec ends, so
 * that a process the probe forks meanwhile cannot keep it alive.
 */
function killAtTimeout(exec: ExecHandle, timeoutMs: number, onTimeout: () => void): { stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const kill = () => {
    onTimeout();
    const descendants = withDescendants([exec.pid]).slice(1);
    exec.kill('SIGKILL');
    for (const pid of descendants) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* already gone */ }
    }
    timer = setTimeout(kill, KILL_AGAIN_MS);
  };
  timer = setTimeout(kill, timeoutMs);
  return { stop: () => clearTimeout(timer) };
}

function withDescendants(pids: number[]): number[] {
  const all = [...pids];
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]!));
  return all;
}

/**
 * A process's children: from /proc/<pid>/task/<pid>/children (its main
 * thread's, which is where a single-threaded helper and Node's event loop
 * fork), or, where the kernel lacks that file, by scanning every process.
 */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && existsSync(`/proc/${pid}`)) return scanChildren(pid);
    return [];
  }
}

function scanChildren(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(entry));
    } catch { /* gone */ }
  }
  return out;
}
