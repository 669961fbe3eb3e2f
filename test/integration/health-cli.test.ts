// Healthchecks end to end, as a Docker user sees them: `berth run -d` with
// --health-* or an image's HEALTHCHECK, the container's monitor probing it
// and running `berth internal healthcheck` when the status changes, `ps`
// and `inspect` from new commands. The waits are long (a busy host), and
// nothing here measures time. While waiting, the store and the monitor's
// results are read directly (what inspect would show), so that the waits do
// not start CLIs of their own.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Engine } from '../../src/engine/engine.js';
import { healthOf } from '../../src/engine/health.js';
import type { HealthState } from '../../src/engine/container-info.js';
import { closeDatabase } from '../../src/util/db.js';
import { leftovers, cleanup, imageRoot, eventually, busyboxRootfs } from '../support.js';

const cli = imageRoot('health-cli');

after(() => {
  closeDatabase(cli.dataRoot);
  cli.removeAll();
  cleanup(cli.root);
});
afterEach(() => {
  cli.removeAll();
  assert.deepEqual(leftovers(cli.root), [], 'the test left something on the host');
});

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

test('run -d --health-*: healthy, unhealthy after its retries, failed at its timeout, or none; in inspect, ps and ps --filter health', async () => {
  const fine = ok(b('run', '-d', '--name', 'fine', '--health-cmd', 'echo fine', '--health-interval', '500ms', 'busybox', 'sleep', '600'));
  const failing = ok(b('run', '-d', '--name', 'failing', '--health-cmd', 'echo nope; exit 2', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '600'));
  const slow = ok(b('run', '-d', '--name', 'slow', '--health-cmd', 'sleep 600', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '600'));
  ok(b('run', '-d', '--name', 'plain', 'busybox', 'sleep', '600'));

  const healthy = await until(fine, 'healthy');
  assert.equal(healthy.FailingStreak, 0);
  assert.deepEqual([healthy.Log.at(-1)?.ExitCode, healthy.Log.at(-1)?.Output], [0, 'fine\n']);
  const unhealthy = await until(failing, 'unhealthy');
  assert.ok(unhealthy.FailingStreak >= 2, `streak ${unhealthy.FailingStreak}`);
  assert.deepEqual(unhealthy.Log.slice(0, 2).map((e) => [e.ExitCode, e.Output]), [[2, 'nope\n'], [2, 'nope\n']]);
  const timedOut = await until(slow, 'unhealthy');
  assert.deepEqual([timedOut.Log[0]?.ExitCode, timedOut.Log[0]?.Output], [-1, 'Health check exceeded timeout (300ms)']);

  const inspected = inspectHealth('fine')!;
  assert.equal(inspected.Status, 'healthy');
  // Probes go on meanwhile (every 500 ms, no longer slowed by a CLI per
  // tick): inspect shows the same results, or later ones.
  assert.deepEqual(inspected.Log.map((e) => [e.ExitCode, e.Output]), inspected.Log.map(() => [0, 'fine\n']));
  assert.ok(inspected.Log.at(-1)!.Start >= healthy.Log.at(-1)!.Start, `${inspected.Log.at(-1)!.Start} < ${healthy.Log.at(-1)!.Start}`);
  assert.equal(inspectHealth('plain'), null);
  const statuses = ok(b('ps', '--format', '{{.Names}} {{.Status}}')).split('\n').map((l) => l.replace(/ Up [^(]*/, ' Up ').trim()).sort();
  assert.deepEqual(statuses, ['failing Up (unhealthy)', 'fine Up (healthy)', 'plain Up', 'slow Up (unhealthy)']);
  assert.equal(ok(b('ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}')).split('\n').sort().join(','), 'failing,slow');
  assert.equal(ok(b('ps', '--filter', 'health=none', '--format', '{{.Names}}')), 'plain');
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

test('the health hook refuses a status that is not one, with exit 125', () => {
  const r = b('internal', 'healthcheck', '0'.repeat(64), 'sick');
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /"sick" is not a health status \(starting, healthy, unhealthy\)/);
});
