// Healthchecks on real containers started through the OCI runtime, with the
// monitor keeping the schedule and running each probe inside the container
// itself (native/health.c): results and status in State.Health, the hook
// run only when the status changes, a slow probe killed at its timeout,
// Docker's rules for retries and the start period, no probe while paused,
// and a container without a healthcheck has no health. The hook here is a
// shell that notes each call, in place of `berth internal healthcheck`.
// health-cli.test.ts drives the same through `berth run -d`.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Engine } from '../../src/engine/engine.js';
import { healthMonitor, healthOf, recordHealthChange } from '../../src/engine/health.js';
import type { HealthConfig } from '../../src/engine/host-config.js';
import type { HealthState } from '../../src/engine/container-info.js';
import { processStartTime } from '../../src/runtime/state.js';
import { closeDatabase } from '../../src/util/db.js';
import { makeBundle, tempRoot, leftovers, cleanup, eventually } from '../support.js';

const root = tempRoot('health');
const engine = new Engine({ root: join(root, 'root'), runRoot: join(root, 'run') });
const ids: string[] = [];
let n = 0;
const S = 1_000_000_000;
const MS = 1_000_000;
/** A start period of the minimum: one probe at once, then the interval. */
const AT_ONCE = { StartPeriod: MS, Interval: 3600 * S };

after(() => {
  closeDatabase(engine.root);
  cleanup(root);
});
afterEach(async () => {
  for (const id of ids) await engine.runtime.delete(id, true).catch(() => {});
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
});

interface Checked {
  id: string;
  plan: ReturnType<typeof healthMonitor>;
  /** The statuses the hook was run with, in order. */
  hooks: () => Promise<string[]>;
}

/** A running container (a long sleep) straight through the OCI runtime, whose monitor runs the healthcheck. */
async function container(config: HealthConfig): Promise<Checked> {
  const id = `health${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  mkdirSync(engine.containerDir(id), { recursive: true });
  const calls = join(root, `${id}.hooks`);
  // The monitor appends the status: $1 healthcheck, $2 the id, $3 the status.
  const plan = healthMonitor(engine, id, { Image: 'busybox', Healthcheck: config }, ['/bin/sh', '-c', `echo "$3" >> ${calls}`, 'hook']);
  const bundle = makeBundle(join(root, id), () => {}, { args: ['/bin/sleep', '1000'] });
  await engine.runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'], monitor: plan ? { healthcheck: plan } : undefined });
  engine.runtime.start(id);
  const called = () => existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
  // The hook runs just after the results file changed: wait for its first call.
  const hooks = () => eventually(() => called().length > 0, 20_000, 'the hook').then(called);
  return { id, plan, hooks };
}

/** Wait until the container's health satisfies `check` (probes take a while on a busy host). */
function until(id: string, what: string, check: (h: HealthState) => boolean): Promise<HealthState> {
  return eventually(() => { const h = healthOf(engine, id); return h && check(h) && h; }, 60_000, `${what} (now ${JSON.stringify(healthOf(engine, id))})`);
}

/** Processes in the container's PID namespace, as the host sees them. */
function processesIn(id: string): string[] {
  const init = engine.runtime.state.load(id).pid;
  const ns = readlinkSync(`/proc/${init}/ns/pid`);
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) === ns) found.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch { /* gone */ }
  }
  return found;
}

test('a probe that succeeds makes the container healthy, with its output in the log; the hook runs once, for the change', async () => {
  const { id, plan, hooks } = await container({ Test: ['CMD-SHELL', 'echo ok from $HOSTNAME; echo to stderr >&2'], Interval: 100 * MS });
  assert.deepEqual(plan?.command, ['/bin/sh', '-c', 'echo ok from $HOSTNAME; echo to stderr >&2']);
  assert.deepEqual([plan?.intervalNs, plan?.retries], [100 * MS, 3]);
  const health = await until(id, 'three results', (h) => h.Log.length >= 3);
  assert.equal(health.Status, 'healthy');
  for (const result of health.Log) {
    assert.equal(result.ExitCode, 0);
    assert.match(result.Output, /^ok from .*\nto stderr\n$/);
    assert.ok(Date.parse(result.End) >= Date.parse(result.Start));
  }
  assert.deepEqual(await hooks(), ['healthy']);
});

test('the log carries each probe\'s own output and exit code, though the hook ran only for the one change', async () => {
  // Each probe counts itself: odd ones fail, even ones succeed. Once healthy,
  // single failures (fewer than the retries) change nothing.
  const script = 'n=$(($(cat /tmp/n 2>/dev/null || echo 0) + 1)); echo $n > /tmp/n; echo "probe $n"; exit $((n % 2))';
  const { id, hooks } = await container({ Test: ['CMD-SHELL', script], Interval: 100 * MS });
  const health = await until(id, 'the 7th probe', (h) => h.Log.some((e) => e.Output === 'probe 7\n'));
  const numbers = health.Log.map((e) => Number(/^probe (\d+)\n$/.exec(e.Output)?.[1]));
  assert.equal(health.Log.length, 5);
  numbers.forEach((k, i) => assert.equal(k, numbers[0]! + i, `consecutive probes: ${numbers.join(',')}`));
  assert.deepEqual(health.Log.map((e) => e.ExitCode), numbers.map((k) => k % 2));
  assert.equal(health.Status, 'healthy');
  assert.deepEqual(await hooks(), ['healthy']);
});

test('a probe that fails 3 times makes the container unhealthy; the hook records it in the store', async () => {
  const { id, hooks } = await container({ Test: ['CMD-SHELL', 'echo broken; exit 3'], Interval: 100 * MS, Retries: 3 });
  const health = await until(id, 'unhealthy', (h) => h.Status === 'unhealthy');
  assert.ok(health.FailingStreak >= 3, `streak ${health.FailingStreak}`);
  assert.deepEqual(health.Log.slice(0, 3).map((e) => [e.ExitCode, e.Output]), [[3, 'broken\n'], [3, 'broken\n'], [3, 'broken\n']]);
  assert.deepEqual(await hooks(), ['unhealthy']);
  // What the hook (`berth internal healthcheck <id> <status>`) stores is what inspect shows.
  const recorded = recordHealthChange(engine, id, 'unhealthy');
  assert.equal(recorded?.health.Status, 'unhealthy');
  const stored = engine.db.prepare('SELECT status, failing_streak FROM health WHERE container_id = ?').get(id) as { status: string; failing_streak: number };
  assert.deepEqual(stored, { status: 'unhealthy', failing_streak: recorded?.health.FailingStreak });
});

test('only the last 5 results are kept, and a success clears the streak', async () => {
  const { id, hooks } = await container({ Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 100 * MS, Retries: 10 });
  await until(id, 'a streak of 6', (h) => h.FailingStreak >= 6);
  await (await engine.runtime.exec({ id, args: ['touch', '/tmp/ok'], stdio: ['ignore', 'ignore', 'ignore'] })).wait();
  const health = await until(id, 'healthy', (h) => h.Status === 'healthy');
  assert.equal(health.FailingStreak, 0);
  assert.equal(health.Log.length, 5);
  const firstSuccess = health.Log.findIndex((e) => e.ExitCode === 0);
  assert.ok(firstSuccess >= 1, JSON.stringify(health.Log));
  assert.deepEqual(health.Log.slice(0, firstSuccess).map((e) => e.ExitCode), Array(firstSuccess).fill(1));
  assert.deepEqual(await hooks(), ['healthy']);
});

test('inside the start period: probes at the start interval, failures do not count; after it they do, and the interval holds', async () => {
  const { id, hooks } = await container({ Test: ['CMD', 'false'], Interval: 3600 * S, StartPeriod: 3 * S, StartInterval: 100 * MS, Retries: 1 });
  const health = await until(id, 'unhealthy', (h) => h.Status === 'unhealthy');
  // Failures in the start period (as many as a busy host allows), one counted: the probe at its end.
  assert.equal(health.FailingStreak, 1);
  assert.ok(health.Log.length >= 2, JSON.stringify(health.Log));
  assert.ok(health.Log.every((e) => e.ExitCode === 1));
  // No probe before it was due: each starts at least the start interval after the previous one ended.
  // (The last one came as the start period ended, sooner.)
  for (let i = 1; i < health.Log.length - 1; i++) {
    assert.ok(Date.parse(health.Log[i]!.Start) - Date.parse(health.Log[i - 1]!.End) >= 99, JSON.stringify(health.Log));
  }
  assert.deepEqual(await hooks(), ['unhealthy']);
});

test('a probe that outlives its timeout is killed and counts as a failure', async () => {
  const { id, hooks } = await container({ Test: ['CMD-SHELL', 'echo started; sleep 600'], ...AT_ONCE, Timeout: 300 * MS, Retries: 1 });
  const health = await until(id, 'a result', (h) => h.Log.length === 1);
  assert.deepEqual([health.Log[0]!.ExitCode, health.Log[0]!.Output], [-1, 'Health check exceeded timeout (300ms): started\n']);
  assert.ok(Date.parse(health.Log[0]!.End) - Date.parse(health.Log[0]!.Start) >= 299);
  assert.equal(health.Status, 'unhealthy');
  // Neither the probe's shell nor its sleep is left in the container.
  assert.deepEqual(processesIn(id), ['/bin/sleep 1000']);
  assert.deepEqual(await hooks(), ['unhealthy']);
});

test('a probe whose command does not exist is a failure that says why', async () => {
  const { id } = await container({ Test: ['CMD', '/no/such/check'], ...AT_ONCE });
  const [result] = (await until(id, 'a result', (h) => h.Log.length === 1)).Log;
  assert.equal(result!.ExitCode, -1);
  assert.match(result!.Output, /\/no\/such\/check.*(not found|no such file)/);
});

test('the output is cut at 4096 bytes, as Docker cuts it', async () => {
  const { id } = await container({ Test: ['CMD-SHELL', 'head -c 10000 /dev/zero | tr "\\0" a'], ...AT_ONCE });
  const [result] = (await until(id, 'a result', (h) => h.Log.length === 1)).Log;
  assert.equal(result!.ExitCode, 0);
  assert.equal(result!.Output, `${'a'.repeat(4096)}...`);
});

test('no probe runs while the container is paused; they go on once it is resumed', async () => {
  const { id } = await container({ Test: ['CMD', 'true'], Interval: 50 * MS, Timeout: 5 * S });
  await until(id, 'a result', (h) => h.Log.length >= 1);
  engine.runtime.pause(id);
  // A probe that had all but ended when the freeze came may still land (a
  // frozen one cannot: it would be killed at its timeout, 5 s).
  await new Promise((r) => setTimeout(r, 1000));
  const paused = healthOf(engine, id)!.Log.at(-1)!.Start;
  await new Promise((r) => setTimeout(r, 1000)); // twenty intervals
  assert.equal(healthOf(engine, id)!.Log.at(-1)!.Start, paused, 'a probe ran while paused');
  engine.runtime.resume(id);
  await until(id, 'a probe after resume', (h) => h.Log.at(-1)!.Start !== paused);
});

test('a container without a healthcheck, or with NONE, has no health', async () => {
  const none = await container({ Test: ['NONE'] });
  assert.equal(none.plan, undefined);
  assert.equal(healthOf(engine, none.id), undefined);
  const timingOnly = await container({ Interval: S });
  assert.equal(timingOnly.plan, undefined);
  assert.equal(healthOf(engine, timingOnly.id), undefined);
});

test('no probe runs once the container has stopped: its monitor, which probes, is gone', async () => {
  const { id } = await container({ Test: ['CMD', 'true'], Interval: 50 * MS });
  await until(id, 'a result', (h) => h.Log.length >= 1);
  const record = engine.runtime.state.load(id);
  engine.runtime.kill(id, 9);
  await eventually(() => engine.runtime.stateOf(id).status === 'stopped', 20_000, 'stopped');
  await eventually(() => processStartTime(record.monitorPid) !== record.monitorStartTime, 20_000, 'the monitor gone');
  const last = healthOf(engine, id)!.Log.at(-1)!.Start;
  await new Promise((r) => setTimeout(r, 300)); // six intervals
  assert.equal(healthOf(engine, id)!.Log.at(-1)!.Start, last);
});

test('a restart starts afresh at "starting", and the log keeps the earlier run\'s results', async () => {
  const { id } = await container({ Test: ['CMD-SHELL', 'echo first run'], ...AT_ONCE });
  const first = await until(id, 'healthy', (h) => h.Status === 'healthy');
  // The next start, as the engine does it: health first, then the runtime.
  await engine.runtime.delete(id, true);
  const plan = healthMonitor(engine, id, { Image: 'busybox', Healthcheck: { Test: ['CMD-SHELL', 'echo second run; exit 1'], ...AT_ONCE, Retries: 1 } }, ['/bin/true']);
  assert.deepEqual(healthOf(engine, id), { Status: 'starting', FailingStreak: 0, Log: first.Log });
  const bundle = join(root, id);
  await engine.runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'], monitor: { healthcheck: plan! } });
  engine.runtime.start(id);
  const second = await until(id, 'unhealthy', (h) => h.Status === 'unhealthy');
  assert.deepEqual(second.Log.map((e) => e.Output), ['first run\n', 'second run\n']);
});
