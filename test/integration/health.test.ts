// Healthchecks on real containers started through the OCI runtime: one tick
// (runHealthcheck) runs the probe inside the container, its result and the
// status land in the store, a slow probe is killed at its timeout, and a
// container without a healthcheck has no health. health-cli.test.ts drives
// the same through `berth run -d` and the container's monitor.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Engine } from '../../src/engine/engine.js';
import { healthMonitor, healthOf, runHealthcheck, type HealthcheckOutcome } from '../../src/engine/health.js';
import type { HealthConfig } from '../../src/engine/host-config.js';
import { closeDatabase } from '../../src/util/db.js';
import { makeBundle, tempRoot, leftovers, cleanup } from '../support.js';

const root = tempRoot('health');
const engine = new Engine({ root: join(root, 'root'), runRoot: join(root, 'run') });
const ids: string[] = [];
let n = 0;
const S = 1_000_000_000;
const MS = 1_000_000;

after(() => {
  closeDatabase(engine.root);
  cleanup(root);
});
afterEach(async () => {
  for (const id of ids) await engine.runtime.delete(id, true).catch(() => {});
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
});

/** A running container (a long sleep) straight through the OCI runtime, with a healthcheck recorded for it. */
async function container(config: HealthConfig): Promise<{ id: string; tick: ReturnType<typeof healthMonitor> }> {
  const id = `health${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  const bundle = makeBundle(join(root, id), () => {}, { args: ['/bin/sleep', '1000'] });
  await engine.runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'] });
  engine.runtime.start(id);
  const tick = healthMonitor(engine, id, { Image: 'busybox', Healthcheck: config }, ['berth', 'internal']);
  return { id, tick };
}

function ran(outcome: HealthcheckOutcome): Extract<HealthcheckOutcome, { ran: true }> {
  assert.equal(outcome.ran, true, `the probe did not run: ${JSON.stringify(outcome)}`);
  return outcome as Extract<HealthcheckOutcome, { ran: true }>;
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

test('a probe that succeeds makes the container healthy, with its output in the log', async () => {
  const { id, tick } = await container({ Test: ['CMD-SHELL', 'echo ok from $HOSTNAME; echo to stderr >&2'], Interval: S });
  assert.deepEqual(tick?.command, ['berth', 'internal', 'healthcheck', id]);
  assert.equal(tick?.intervalMs, 1000);
  assert.deepEqual(healthOf(engine, id), { Status: 'starting', FailingStreak: 0, Log: [] });
  const { result, health } = ran(await runHealthcheck(engine, id, { force: true }));
  assert.equal(result.ExitCode, 0);
  assert.match(result.Output, /^ok from .*\nto stderr\n$/);
  assert.ok(Date.parse(result.End) >= Date.parse(result.Start));
  assert.equal(health.Status, 'healthy');
  assert.deepEqual(healthOf(engine, id), health);
});

test('a probe is not run before it is due', async () => {
  const { id } = await container({ Test: ['CMD', 'true'], Interval: 60 * S });
  const started = Date.parse(readStartedAt(id));
  assert.deepEqual(await runHealthcheck(engine, id, { now: () => started + 1000 }), { ran: false, reason: 'not-due' });
  assert.equal(healthOf(engine, id)?.Log.length, 0);
  ran(await runHealthcheck(engine, id, { now: () => started + 60_000 }));
  assert.equal(healthOf(engine, id)?.Status, 'healthy');
});

function readStartedAt(id: string): string {
  const row = engine.db.prepare('SELECT started_at FROM health WHERE container_id = ?').get(id) as { started_at: string };
  return row.started_at;
}

test('a probe that fails 3 times makes the container unhealthy', async () => {
  const { id } = await container({ Test: ['CMD-SHELL', 'echo broken; exit 3'], Interval: S, Retries: 3 });
  for (const expected of ['starting', 'starting', 'unhealthy']) {
    const { result, health } = ran(await runHealthcheck(engine, id, { force: true }));
    assert.equal(result.ExitCode, 3);
    assert.equal(result.Output, 'broken\n');
    assert.equal(health.Status, expected);
  }
  const health = healthOf(engine, id)!;
  assert.equal(health.FailingStreak, 3);
  assert.equal(health.Log.length, 3);
});

test('only the last 5 results are kept, and a success clears the streak', async () => {
  const { id } = await container({ Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: S, Retries: 10 });
  for (let i = 0; i < 6; i++) ran(await runHealthcheck(engine, id, { force: true }));
  assert.equal(healthOf(engine, id)?.FailingStreak, 6);
  await (await engine.runtime.exec({ id, args: ['touch', '/tmp/ok'], stdio: ['ignore', 'ignore', 'ignore'] })).wait();
  ran(await runHealthcheck(engine, id, { force: true }));
  const health = healthOf(engine, id)!;
  assert.equal(health.Status, 'healthy');
  assert.equal(health.FailingStreak, 0);
  assert.deepEqual(health.Log.map((e) => e.ExitCode), [1, 1, 1, 1, 0]);
});

test('failures inside the start period do not count; after it, they do', async () => {
  const { id, tick } = await container({ Test: ['CMD', 'false'], Interval: 60 * S, StartPeriod: 30 * S, StartInterval: 500 * MS, Retries: 1 });
  // While starting, the monitor ticks at the start interval.
  assert.equal(tick?.intervalMs, 500);
  const started = Date.parse(readStartedAt(id));
  const inside = ran(await runHealthcheck(engine, id, { force: true, now: () => started + 1000 }));
  assert.equal(inside.result.ExitCode, 1);
  assert.deepEqual([inside.health.Status, inside.health.FailingStreak], ['starting', 0]);
  const afterwards = ran(await runHealthcheck(engine, id, { force: true, now: () => started + 30_000 }));
  assert.deepEqual([afterwards.health.Status, afterwards.health.FailingStreak], ['unhealthy', 1]);
});

test('a probe that outlives its timeout is killed and counts as a failure', async () => {
  const { id } = await container({ Test: ['CMD-SHELL', 'echo started; sleep 600'], Interval: S, Timeout: 300 * MS, Retries: 1 });
  const { result, health } = ran(await runHealthcheck(engine, id, { force: true }));
  assert.equal(result.ExitCode, -1);
  assert.equal(result.Output, 'Health check exceeded timeout (300ms): started\n');
  assert.equal(health.Status, 'unhealthy');
  // Neither the probe's shell nor its sleep is left in the container.
  assert.deepEqual(processesIn(id), ['/bin/sleep 1000']);
});

test('a probe whose command does not exist is a failure that says why', async () => {
  const { id } = await container({ Test: ['CMD', '/no/such/check'], Interval: S });
  const { result } = ran(await runHealthcheck(engine, id, { force: true }));
  assert.equal(result.ExitCode, -1);
  assert.match(result.Output, /\/no\/such\/check.*(not found|no such file)/);
});

test('the output is cut at 4096 bytes, as Docker cuts it', async () => {
  const { id } = await container({ Test: ['CMD-SHELL', 'head -c 10000 /dev/zero | tr "\\0" a'], Interval: S });
  const { result } = ran(await runHealthcheck(engine, id, { force: true }));
  assert.equal(result.ExitCode, 0);
  assert.equal(result.Output, `${'a'.repeat(4096)}...`);
});

test('a container without a healthcheck, or with NONE, has no health', async () => {
  const none = await container({ Test: ['NONE'] });
  assert.equal(none.tick, undefined);
  assert.equal(healthOf(engine, none.id), undefined);
  assert.deepEqual(await runHealthcheck(engine, none.id, { force: true }), { ran: false, reason: 'no-healthcheck' });
  const timingOnly = await container({ Interval: S });
  assert.equal(timingOnly.tick, undefined);
  assert.equal(healthOf(engine, timingOnly.id), undefined);
});

test('no probe runs once the container has stopped', async () => {
  const { id } = await container({ Test: ['CMD', 'true'], Interval: S });
  engine.runtime.kill(id, 9);
  for (let i = 0; i < 100 && engine.runtime.stateOf(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await runHealthcheck(engine, id, { force: true }), { ran: false, reason: 'not-running' });
  assert.deepEqual(healthOf(engine, id)?.Log, []);
});
