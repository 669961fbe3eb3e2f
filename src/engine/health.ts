// Healthchecks, Docker's way, without a daemon. A container's healthcheck is
// the image's HEALTHCHECK merged with the --health-* flags. While the
// container runs, its monitor (the native helper, native/health.c) keeps
// Docker's schedule, runs each probe inside the container as `exec` would
// (the runtime writes the probe's plan), kills it at the timeout, counts
// the failing streak, and rewrites a small results file after each probe:
// the status, the streak and the last 5 results, raw. Node starts only when
// the status changes: the monitor then runs `berth internal healthcheck
// <id> <status>`, which records the monitor's view in the `health` table of
// the store (and is where a health_status event belongs).
//
// Readers reconcile on read: `inspect` and `ps` take the status, streak
// and log from the results file while it exists, merged with the log in the
// store (which keeps earlier runs' results, as Docker keeps them across
// restarts). What the file holds as facts (timed out, could not start) is
// put into Docker's words here.
//
// Docker's rules, as the monitor applies them (daemon/health.go): the wait
// before a probe is counted from the end of the previous one (or from the
// start): --health-start-interval while the status is "starting" inside
// the start period, --health-interval otherwise, and never past the end of
// the start period. Status: "starting" until the first success or until
// FailingStreak reaches Retries ("unhealthy"); a success makes it
// "healthy" and resets the streak; failures that start inside the start
// period, while still starting, do not count. Each output is cut at 4096
// bytes ("..." marks the cut); a probe past its timeout is killed and
// counts as a failure (exit -1). No probe runs while the container is paused.
//
// A probe is no longer an exec handle (src/runtime/exec.ts): it has no exec
// id or record, which it kept only while it ran. What the probe used of a
// handle the monitor does: the pid (its helper's `created` report), waiting
// for the exit code, and SIGKILL at the timeout, to the probe's process
// group rather than to descendants found by scanning /proc.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode, invalid } from '../util/errors.js';
import { migrate, type Database } from '../util/db.js';
import { formatGoDuration } from '../util/duration.js';
import type { CreateBody, HealthConfig } from './host-config.js';
import type { HealthLogEntry, HealthState } from './container-info.js';
import type { Engine } from './engine.js';
import type { HealthcheckOptions } from '../runtime/builder.js';
import { helperFailureMessage } from '../runtime/container.js';
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
/** In the container's directory: the monitor's results (docs/plan-format.md, *Health results*). */
const RESULTS_FILE = 'health-results';

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
  // last_end_ms and probe_started_ms served the one-tick-per-Node schedule,
  // which the monitor keeps now. They stay, unused: a step that drops them
  // would make every older berth refuse the store.
];

interface HealthRow {
  container_id: string;
  /** The effective HealthConfig of this run (JSON). */
  config: string;
  /** When this run's healthcheck was set up (the monitor counts the start period from the container's start itself). */
  started_at: string;
  status: 'starting' | 'healthy' | 'unhealthy';
  failing_streak: number;
  /** The last results (JSON HealthLogEntry[]), oldest first; kept across restarts, as Docker keeps them. */
  log: string;
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

/**
 * Called at each start of a container, before its monitor exists (Docker's
 * initHealthMonitor): the previous run's results join the log in the
 * store, the effective healthcheck (the image's merged with the body's) is
 * recorded for this run, and its health goes back to "starting" with no
 * failures. Returns what the monitor needs to run it, with the hook
 * `<internal…> healthcheck <id>` (`internal` is the CLI prefix of the
 * internal commands; the monitor appends the new status). Undefined, and
 * no health recorded, when the container has no healthcheck.
 */
export function healthMonitor(engine: Engine, id: string, body: CreateBody, internal: string[]): HealthcheckOptions | undefined {
  const db = healthDb(engine);
  const config = mergeHealthConfig(imageHealthcheck(engine, id), body.Healthcheck);
  const command = probeArgs(config);
  const results = resultsFile(engine, id);
  if (!config || !command) {
    db.prepare('DELETE FROM health WHERE container_id = ?').run(id);
    rmSync(results, { force: true });
    return undefined;
  }
  db.transaction(() => {
    const row = db.prepare('SELECT * FROM health WHERE container_id = ?').get(id) as HealthRow | undefined;
    const previous = row ? readResults(results, JSON.parse(row.config) as HealthConfig) : undefined;
    const log = mergeLog(row ? JSON.parse(row.log) as HealthLogEntry[] : [], previous?.Log ?? []);
    db.prepare(`INSERT INTO health (container_id, config, started_at, status, failing_streak, log) VALUES (?, ?, ?, 'starting', 0, ?)
                ON CONFLICT (container_id) DO UPDATE SET config = excluded.config, started_at = excluded.started_at,
                  status = 'starting', failing_streak = 0, log = excluded.log, last_end_ms = NULL, probe_started_ms = NULL`)
      .run(id, JSON.stringify(config), new Date().toISOString(), JSON.stringify(log));
    rmSync(results, { force: true });
  }).immediate();
  const e = effective(config);
  return {
    command,
    intervalNs: e.Interval,
    timeoutNs: e.Timeout,
    startPeriodNs: e.StartPeriod,
    startIntervalNs: e.StartInterval,
    retries: e.Retries,
    resultsFile: results,
    hook: [...internal, 'healthcheck', id],
  };
}

function resultsFile(engine: Pick<Engine, 'containerDir'>, id: string): string {
  return join(engine.containerDir(id), RESULTS_FILE);
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
export function healthOf(engine: Pick<Engine, 'db' | 'containerDir'>, id: string): HealthState | undefined {
  const row = healthDb(engine).prepare('SELECT * FROM health WHERE container_id = ?').get(id) as HealthRow | undefined;
  if (!row) return undefined;
  const stored = JSON.parse(row.log) as HealthLogEntry[];
  const live = readResults(resultsFile(engine, id), JSON.parse(row.config) as HealthConfig);
  if (!live) return { Status: row.status, FailingStreak: row.failing_streak, Log: stored };
  return { ...live, Log: mergeLog(stored, live.Log) };
}

/** Forget a removed container's health (its results file goes with its directory). */
export function forgetHealth(engine: Pick<Engine, 'db'>, id: string): void {
  healthDb(engine).prepare('DELETE FROM health WHERE container_id = ?').run(id);
}

export type HealthStatus = HealthRow['status'];
export const HEALTH_STATUSES: readonly HealthStatus[] = ['starting', 'healthy', 'unhealthy'];

/**
 * The hook: the monitor saw the status change to `changedTo`. The store
 * takes the monitor's status, streak and log as the results file has them
 * now (a later change may already be there: each hook records the latest).
 * Undefined when there is nothing to record (no healthcheck, no results).
 */
export function recordHealthChange(engine: Pick<Engine, 'db' | 'containerDir'>, id: string, changedTo: HealthStatus): { changedTo: HealthStatus; health: HealthState } | undefined {
  const db = healthDb(engine);
  return db.transaction(() => {
    const row = db.prepare('SELECT * FROM health WHERE container_id = ?').get(id) as HealthRow | undefined;
    const live = row && readResults(resultsFile(engine, id), JSON.parse(row.config) as HealthConfig);
    if (!row || !live) return undefined;
    const health = { ...live, Log: mergeLog(JSON.parse(row.log) as HealthLogEntry[], live.Log) };
    if (health.Status !== row.status) recordHealthStatus(engine, id, health.Status);
    db.prepare('UPDATE health SET status = ?, failing_streak = ?, log = ? WHERE container_id = ?')
      .run(health.Status, health.FailingStreak, JSON.stringify(health.Log), id);
    return { changedTo, health };
  }).immediate();
}

/** The stored log, then the monitor's results (those already stored once not twice): the last 5. */
function mergeLog(stored: HealthLogEntry[], live: HealthLogEntry[]): HealthLogEntry[] {
  const seen = new Set(live.map((e) => e.Start));
  return [...stored.filter((e) => !seen.has(e.Start)), ...live].slice(-MAX_LOG_ENTRIES);
}

const RESULTS_HEADER = /^berth-health 1 (starting|healthy|unhealthy) (\d+)$/;
const RESULT_LINE = /^(\d+) (\d+) (-?\d+) (exited|timeout|failed) ([01]) (\d+)$/;

/**
 * The monitor's results file (docs/plan-format.md, *Health results*) as
 * Docker's State.Health; undefined when there is none. A file this berth
 * cannot read is a bug, not the user's doing.
 */
function readResults(path: string, config: HealthConfig): (HealthState & { Status: HealthStatus }) | undefined {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const lineAt = (at: number): [string, number] => {
    const nl = data.indexOf(10, at);
    if (nl < 0) throw new BerthError('system', 'HealthResultsCorrupt', `${path}: a line at byte ${at} has no end`);
    return [data.subarray(at, nl).toString('latin1'), nl + 1];
  };
  let [line, at] = lineAt(0);
  const header = RESULTS_HEADER.exec(line);
  if (!header) throw new BerthError('system', 'HealthResultsCorrupt', `${path}: not a health results file (${JSON.stringify(line.slice(0, 40))})`);
  const log: HealthLogEntry[] = [];
  while (at < data.length) {
    [line, at] = lineAt(at);
    const m = RESULT_LINE.exec(line);
    if (!m) throw new BerthError('system', 'HealthResultsCorrupt', `${path}: not a result: ${JSON.stringify(line.slice(0, 80))}`);
    const [, start, end, code, how, truncated, len] = m as unknown as [string, string, string, string, 'exited' | 'timeout' | 'failed', string, string];
    const output = data.subarray(at, at + Number(len)).toString('utf8') + (truncated === '1' ? '...' : '');
    at += Number(len) + 1;
    log.push({ Start: rfc3339Nano(BigInt(start)), End: rfc3339Nano(BigInt(end)), ExitCode: Number(code), Output: resultOutput(how, output, config) });
  }
  return { Status: header[1] as HealthStatus, FailingStreak: Number(header[2]), Log: log };
}

/** What Docker records as a result's output: the probe's own, or why it failed. */
function resultOutput(how: 'exited' | 'timeout' | 'failed', output: string, config: HealthConfig): string {
  if (how === 'exited') return output;
  if (how === 'failed') return helperFailureMessage(output || undefined);
  const limit = `Health check exceeded timeout (${formatGoDuration(effective(config).Timeout)})`;
  return output ? `${limit}: ${output}` : limit;
}

/** RFC 3339 in UTC with nanoseconds, from nanoseconds since the epoch. */
function rfc3339Nano(ns: bigint): string {
  const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}
