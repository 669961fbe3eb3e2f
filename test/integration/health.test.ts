// Healthchecks on real containers: the probe runs inside the container, its
// result and the status land in the store, a slow probe is killed at its
// timeout, and a container without a healthcheck has no health.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Engine } from '../../src/engine/engine.js';
import { healthMonitor, healthOf, runHealthcheck, type HealthcheckOutcome } from '../../src/engine/health.js';
import type { HealthState } from '../../src/engine/container-info.js';
import type { HealthConfig } from '../../src/engine/host-config.js';
import { closeDatabase } from '../../src/util/db.js';
import { execFileSync } from 'node:child_process';
import { makeBundle, tempRoot, leftovers, cleanup, imageRoot, eventually, busyboxRootfs } from '../support.js';

const root = tempRoot('health');
// The CLI's own root, with busybox imported, for `berth run -d` end to end.
const cli = imageRoot('health-cli');
const engine = new Engine({ root: join(root, 'root'), runRoot: join(root, 'run') });
const ids: string[] = [];
let n = 0;
const S = 1_000_000_000;
const MS = 1_000_000;

after(() => {
  closeDatabase(engine.root);
  closeDatabase(cli.dataRoot);
  cleanup(root);
  cli.removeAll();
  cleanup(cli.root);
});
afterEach(async () => {
  for (const id of ids) await engine.runtime.delete(id, true).catch(() => {});
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
  cli.removeAll();
  assert.deepEqual(leftovers(cli.root), [], 'the test left something on the host');
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
  await engine.runtime.exec({ id, args: ['touch', '/tmp/ok'], stdio: ['ignore', 'ignore', 'ignore'] });
  ran(await runHealthcheck(engine, id, { force: true }));
  const health = healthOf(engine, id)!;
  assert.equal(health.Status, 'healthy');
  assert.equal(health.FailingStreak, 0);
  assert.deepEqual(health.Log.map((e) => e.ExitCode), [1, 1, 1, 1, 0]);
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

// End to end: `berth run -d` with --health-*, the monitor forking
// `berth internal healthcheck` every tick, `ps` and `inspect` reading the
// store from new commands. Each tick starts a CLI, which takes seconds on a
// busy host: the waits are long, and nothing here measures time. While
// waiting, the store is read directly (what inspect would show), so that
// the waits do not start CLIs of their own.
const { b } = cli;
const ok = (r: ReturnType<typeof b>) => {
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
};
const TICKS = 150_000;
const store = new Engine({ root: cli.dataRoot, runRoot: cli.runRoot });
const until = (id: string, status: string) =>
  eventually(() => { const h = healthOf(store, id); return h?.Status === status && h; }, TICKS, `${status} (now ${healthOf(store, id)?.Status})`);
const inspectHealth = (name: string) => JSON.parse(ok(b('inspect', '-f', '{{json .State.Health}}', name))) as HealthState | null;

test('run -d --health-cmd: healthy in inspect and ps, and ps --filter health finds it', async () => {
  const id = ok(b('run', '-d', '--name', 'fine', '--health-cmd', 'echo fine', '--health-interval', '500ms', 'busybox', 'sleep', '600'));
  ok(b('run', '-d', '--name', 'plain', 'busybox', 'sleep', '600'));
  await until(id, 'healthy');
  const health = inspectHealth('fine')!;
  assert.equal(health.Status, 'healthy');
  assert.equal(health.FailingStreak, 0);
  assert.deepEqual([health.Log.at(-1)?.ExitCode, health.Log.at(-1)?.Output], [0, 'fine\n']);
  assert.equal(inspectHealth('plain'), null);
  assert.deepEqual(ok(b('ps', '--format', '{{.Names}} {{.Status}}')).split('\n').map((l) => l.replace(/Up .*? \(|Up .*$/, 'Up (')).sort(),
    ['fine Up (healthy)', 'plain Up ('].sort());
  assert.equal(ok(b('ps', '--filter', 'health=healthy', '--format', '{{.Names}}')), 'fine');
});

test('run -d: a probe that keeps failing makes the container unhealthy; a slow one fails at its timeout', async () => {
  const failing = ok(b('run', '-d', '--name', 'failing', '--health-cmd', 'echo nope; exit 2', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '600'));
  const slow = ok(b('run', '-d', '--name', 'slow', '--health-cmd', 'sleep 600', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '600'));
  const unhealthy = await until(failing, 'unhealthy');
  assert.ok(unhealthy.FailingStreak >= 2, `streak ${unhealthy.FailingStreak}`);
  assert.deepEqual(unhealthy.Log.slice(0, 2).map((e) => [e.ExitCode, e.Output]), [[2, 'nope\n'], [2, 'nope\n']]);
  const timedOut = await until(slow, 'unhealthy');
  assert.deepEqual([timedOut.Log[0]?.ExitCode, timedOut.Log[0]?.Output], [-1, 'Health check exceeded timeout (300ms)']);
  assert.equal(ok(b('ps', '--filter', 'health=unhealthy', '--format', '{{.Names}} {{.Status}}')).split('\n').map((l) => l.replace(/ Up .* \(/, ' (')).sort().join(','),
    'failing (unhealthy),slow (unhealthy)');
});

test("an image's HEALTHCHECK runs, and --no-healthcheck turns it off", async () => {
  const tarball = join(cli.root, 'rootfs.tar');
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', busyboxRootfs(), '-cf', tarball, '.']);
  ok(b('import', '--change', 'CMD ["sleep", "600"]', '--change', 'HEALTHCHECK --interval=200ms --retries=1 CMD ["test", "-e", "/tmp/ready"]', tarball, 'checked:1'));
  const checked = ok(b('run', '-d', '--name', 'from-image', 'checked:1'));
  const unchecked = ok(b('run', '-d', '--name', 'unchecked', '--no-healthcheck', 'checked:1'));
  await until(checked, 'unhealthy');
  ok(b('exec', 'from-image', 'touch', '/tmp/ready'));
  await until(checked, 'healthy');
  assert.equal(healthOf(store, unchecked), undefined);
  assert.equal(inspectHealth('unchecked'), null);
  assert.deepEqual(JSON.parse(ok(b('inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'unchecked'))), ['NONE']);
});

test('bad --health-* flags are refused with exit 125, and no container is made', () => {
  const cases: [string[], RegExp][] = [
    [['--health-interval', '5'], /invalid argument "5" for "--health-interval" flag: time: missing unit in duration "5"/],
    [['--health-interval', '500us'], /Interval in Healthcheck cannot be less than 1ms/],
    [['--no-healthcheck', '--health-cmd', 'true'], /--no-healthcheck conflicts with --health-\* options/],
  ];
  for (const [flags, message] of cases) {
    const r = b('run', '-d', ...flags, 'busybox', 'sleep', '600');
    assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(ok(b('ps', '-a', '-q')), '');
});
