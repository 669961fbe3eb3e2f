// `berth events` and the waits it wakes: a container's life as Docker's event
// stream tells it, seen from another process; --since, --until, --filter and
// --format as Docker's; the store's retention and its refusal of a newer
// schema; `wait` ending on the container's exit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Engine } from '../../src/engine/engine.js';
import { recordEvents, lastEventId, EVENT_RETENTION } from '../../src/engine/events.js';
import { transition } from '../../src/engine/lifecycle.js';
import { closeDatabase } from '../../src/util/db.js';
import { imageRoot, eventually, cleanup, tempRoot, CLI, PROJECT } from '../support.js';

const { root, dataRoot, runRoot, b, removeAll } = imageRoot('events');
after(() => {
  removeAll();
  closeDatabase(dataRoot);
  cleanup(root);
});

const FORMAT = '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.signal}}';

/** `berth events` running in a process of its own, its lines as they come. */
function streamEvents(...args: string[]): { lines: () => string[]; stop: () => Promise<number | null> } {
  const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot, 'events', ...args], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const closed = new Promise<number | null>((r) => child.on('close', r));
  return {
    lines: () => out.split('\n').filter(Boolean),
    stop: async () => {
      child.kill('SIGTERM');
      return closed;
    },
  };
}

/** The actions of one actor's events, in order. */
function actionsOf(lines: string[], id: string): string[] {
  return lines.map((l) => l.split(' ')).filter((f) => f[2] === id).map((f) => f[1]!);
}

/** Unix seconds with nanoseconds, as a precise --since/--until. */
function unixNow(): string {
  const ns = BigInt(Date.now()) * 1_000_000n;
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

test('events in one process tells a run --rm of another: create, start, die, destroy, in order', async () => {
  const stream = streamEvents('--format', FORMAT);
  let probes = 0;
  try {
    // A first event proves the stream reads; one made before it started is not its to tell, so each try makes a new one.
    await eventually(() => {
      b('volume', 'create', `events-probe-${++probes}`);
      return stream.lines().some((l) => l.startsWith('volume create events-probe-'));
    }, 20_000, 'the stream to start');
    const r = b('run', '--rm', '--name', 'ev-rm', 'busybox', 'sh', '-c', 'exit 3');
    assert.equal(r.status, 3, r.stderr);
    const id = await eventually(() => stream.lines().find((l) => l.startsWith('container create '))?.split(' ')[2], 20_000, 'the create event');
    await eventually(() => actionsOf(stream.lines(), id).includes('destroy'), 20_000, 'the destroy event');
    assert.deepEqual(actionsOf(stream.lines(), id), ['create', 'start', 'die', 'destroy']);
    const die = stream.lines().find((l) => l.startsWith(`container die ${id}`))!;
    assert.equal(die, `container die ${id} ev-rm 3 <no value>`);
  } finally {
    await stream.stop();
    for (let i = 1; i <= probes; i++) b('volume', 'rm', `events-probe-${i}`);
  }
});

test('the default line is Docker\'s: time, type, action, actor, sorted attributes', () => {
  const since = unixNow();
  const id = b('create', '--name', 'ev-line', '-l', 'zz=1', '-l', 'aa=2', 'busybox', 'true').stdout.trim();
  const r = b('events', '--since', since, '--until', unixNow(), '--filter', `container=${id}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container create ${id} \\(aa=2, image=busybox, name=ev-line, zz=1\\)\n$`));
  b('rm', id);
});

test('--since and --until select stored events by time; a past --until ends the stream', () => {
  const t0 = unixNow();
  const first = b('create', '--name', 'ev-first', 'busybox', 'true').stdout.trim();
  const t1 = unixNow();
  const second = b('create', '--name', 'ev-second', 'busybox', 'true').stdout.trim();
  const t2 = unixNow();
  try {
    const between = b('events', '--since', t0, '--until', t1, '--format', '{{.Actor.ID}}');
    assert.equal(between.status, 0, between.stderr);
    assert.equal(between.stdout, `${first}\n`);
    const afterT1 = b('events', '--since', t1, '--until', t2, '--format', '{{.Actor.ID}}');
    assert.equal(afterT1.stdout, `${second}\n`);
    // --until alone: every stored event up to then.
    const upTo = b('events', '--until', t1, '--filter', 'event=create', '--format', '{{.Actor.ID}}');
    assert.ok(upTo.stdout.split('\n').includes(first) && !upTo.stdout.includes(second), upTo.stdout);
    // A duration is back from now, in whole seconds as Docker's client counts: an hour covers both.
    const hour = b('events', '--since', '1h', '--until', t2, '--filter', 'event=create', '--format', '{{.Actor.ID}}');
    assert.ok(hour.stdout.includes(first) && hour.stdout.includes(second), hour.stdout);
    // RFC 3339 too.
    const iso = b('events', '--since', new Date(Date.now() - 3_600_000).toISOString(), '--until', t2, '--filter', `container=${second}`, '--format', '{{.Action}}');
    assert.equal(iso.stdout, 'create\n');
  } finally {
    b('rm', first, second);
  }
});

test('image events: tag, save, load, import, untag and delete, each naming the image', () => {
  const since = unixNow();
  const archive = join(root, 'ev-images.tar');
  const id = b('images', '-q', '--no-trunc', 'busybox').stdout.trim();
  for (const args of [['tag', 'busybox', 'ev-img:1'], ['save', '-o', archive, 'ev-img:1'], ['rmi', 'ev-img:1'], ['load', '-i', archive], ['import', archive, 'ev-imported:1']]) {
    const r = b(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const imported = b('images', '-q', '--no-trunc', 'ev-imported:1').stdout.trim();
  b('rmi', 'ev-imported:1');
  const r = b('events', '--since', since, '--until', unixNow(), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
    `tag ${id} ev-img:1`,
    `save ${id} ev-img:1`,
    `untag ${id} ${id}`,
    `load ${id} ev-img:1`,
    `import ${imported} ${imported}`,
    `untag ${imported} ${imported}`,
    `delete ${imported} ${imported}`,
  ]);
});

test('bad times are refused with Docker\'s words', () => {
  const bad = b('events', '--since', 'yesterday');
  assert.equal(bad.status, 125);
  assert.match(bad.stderr, /failed to parse value as time or duration: "yesterday"/);
  const reversed = b('events', '--since', '2000000000', '--until', '1000000000');
  assert.equal(reversed.status, 125);
  assert.match(reversed.stderr, /`since` time \(2000000000\.000000000\) cannot be after `until` time \(1000000000\.000000000\)/);
});

test('--filter: container by name or ID prefix, event, type, image, label; several values of one key match any', () => {
  const since = unixNow();
  const a = b('create', '--name', 'ev-filter-a', '-l', 'team=red', 'busybox', 'true').stdout.trim();
  const c = b('create', '--name', 'ev-filter-b', '-l', 'team=blue', 'busybox', 'true').stdout.trim();
  b('rename', 'ev-filter-b', 'ev-filter-c');
  b('volume', 'create', 'ev-filter-vol');
  b('volume', 'rm', 'ev-filter-vol');
  const until = unixNow();
  const q = (...filters: string[]) => {
    const r = b('events', '--since', since, '--until', until, '--format', '{{.Type}} {{.Action}} {{.Actor.ID}}', ...filters.flatMap((f) => ['--filter', f]));
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  try {
    assert.deepEqual(q('container=ev-filter-a'), [`container create ${a}`]);
    assert.deepEqual(q(`container=${c.slice(0, 8)}`), [`container create ${c}`, `container rename ${c}`]);
    assert.deepEqual(q('container=ev-filter-a', 'container=ev-filter-c'), [`container create ${a}`, `container rename ${c}`]);
    assert.deepEqual(q('event=rename'), [`container rename ${c}`]);
    assert.deepEqual(q('type=volume'), ['volume create ev-filter-vol', 'volume destroy ev-filter-vol']);
    assert.deepEqual(q('label=team=blue'), [`container create ${c}`, `container rename ${c}`]);
    assert.deepEqual(q('label=team', 'event=create'), [`container create ${a}`, `container create ${c}`]);
    // The image as the container was created from it (Docker compares the text, with or without its tag).
    assert.deepEqual(q('image=busybox', 'event=create'), [`container create ${a}`, `container create ${c}`]);
    assert.deepEqual(q('image=busybox:latest', 'event=create'), []);
    assert.deepEqual(q('type=container', 'event=destroy'), []);
    const oldName = b('events', '--since', since, '--until', until, '--filter', 'event=rename', '--format', '{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}');
    assert.equal(oldName.stdout, '/ev-filter-b ev-filter-c\n');
  } finally {
    b('rm', a, c);
  }
  const unknown = b('events', '--filter', 'colour=red');
  assert.equal(unknown.status, 125);
  assert.match(unknown.stderr, /invalid filter 'colour'/);
  const malformed = b('events', '--filter', 'container');
  assert.equal(malformed.status, 125);
  assert.match(malformed.stderr, /bad format of filter \(expected name=value\)/);
});

test('--format: {{json .}} is the API\'s message with whole nanoseconds; an unknown field is refused before streaming', () => {
  const since = unixNow();
  const id = b('create', '--name', 'ev-json', 'busybox', 'true').stdout.trim();
  try {
    const r = b('events', '--since', since, '--until', unixNow(), '--format', 'json');
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.trim();
    const message = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual({ ...message, time: 0, timeNano: 0 }, {
      status: 'create', id, from: 'busybox', Type: 'container', Action: 'create',
      Actor: { ID: id, Attributes: { image: 'busybox', name: 'ev-json' } }, scope: 'local', time: 0, timeNano: 0,
    });
    const nanos = /"timeNano":(\d+)/.exec(line)![1]!;
    assert.equal(nanos.length, 19);
    assert.equal(nanos.slice(0, 10), String(message.time));
  } finally {
    b('rm', id);
  }
  const bad = b('events', '--format', '{{.Colour}}');
  assert.equal(bad.status, 125);
  assert.match(bad.stderr, /can't evaluate field Colour in type events\.Message/);
});

test('stop, kill, pause and unpause tell Docker\'s events, stop after the die it caused', () => {
  const since = unixNow();
  const id = b('run', '-d', '--name', 'ev-verbs', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while :; do sleep 0.1; done').stdout.trim();
  try {
    assert.equal(b('pause', id).status, 0);
    assert.equal(b('unpause', id).status, 0);
    assert.equal(b('stop', '-t', '30', id).status, 0);
    const r = b('events', '--since', since, '--until', unixNow(), '--filter', `container=${id}`, '--format', FORMAT);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.deepEqual(actionsOf(lines, id), ['create', 'start', 'pause', 'unpause', 'kill', 'die', 'stop']);
    assert.ok(lines.includes(`container kill ${id} ev-verbs <no value> 15`), lines.join('\n'));
    assert.ok(lines.includes(`container die ${id} ev-verbs 143 <no value>`), lines.join('\n'));
  } finally {
    b('rm', '-f', id);
  }
});

test('a healthcheck tells its change of status; an exec its create, start and end', async () => {
  const since = unixNow();
  const id = b('run', '-d', '--name', 'ev-health', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000').stdout.trim();
  try {
    const actions = () => b('events', '--since', since, '--until', unixNow(), '--filter', `container=${id}`, '--format', '{{.Action}}').stdout.split('\n').filter(Boolean);
    await eventually(() => actions().includes('health_status: healthy'), 60_000, 'the health_status event');
    // Docker's `event=health_status` matches the action with its status.
    const filtered = b('events', '--since', since, '--until', unixNow(), '--filter', 'event=health_status', '--filter', `container=${id}`, '--format', '{{.Action}}');
    assert.equal(filtered.stdout, 'health_status: healthy\n');
    assert.equal(b('exec', id, 'sh', '-c', 'exit 4').status, 4);
    const execs = actions().filter((a) => a.startsWith('exec_'));
    assert.deepEqual(execs, ['exec_create: sh -c exit 4', 'exec_start: sh -c exit 4', 'exec_die']);
  } finally {
    b('rm', '-f', id);
  }
});

test('wait returns the exit code once the container ends, woken by its exit', () => {
  const id = b('run', '-d', 'busybox', 'sh', '-c', 'sleep 1; exit 7').stdout.trim();
  try {
    const r = b('wait', id);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '7\n');
    assert.equal(b('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id).stdout.trim(), 'exited 7');
  } finally {
    b('rm', '-f', id);
  }
});

test('a lost compare-and-set changes nothing and tells nothing', () => {
  const engine = new Engine({ root: dataRoot, runRoot });
  const id = b('create', '--name', 'ev-cas', 'busybox', 'true').stdout.trim();
  try {
    const before = lastEventId(engine.db);
    // 'started' is only from 'starting': a created record stays as it is, and no start is told.
    assert.equal(transition(engine, id, 'started'), undefined);
    assert.equal(lastEventId(engine.db), before);
    assert.equal(b('inspect', '-f', '{{.State.Status}}', id).stdout.trim(), 'created');
  } finally {
    b('rm', id);
  }
});

test('the store keeps the newest events only, with ids that never go back', () => {
  const own = tempRoot('events-retention');
  const engine = new Engine({ root: join(own, 'data'), runRoot: join(own, 'run') });
  try {
    const batch = Array.from({ length: EVENT_RETENTION + 50 }, (_, i) => ({ type: 'volume' as const, action: 'create', actorId: `v${i}`, attributes: {} }));
    recordEvents(engine, batch);
    const rows = engine.db.prepare('SELECT COUNT(*) AS n, MIN(id) AS min, MAX(id) AS max FROM events').get() as { n: number; min: number; max: number };
    assert.deepEqual(rows, { n: EVENT_RETENTION, min: 51, max: EVENT_RETENTION + 50 });
    recordEvents(engine, [{ type: 'volume', action: 'destroy', actorId: 'v0', attributes: {} }]);
    assert.equal(lastEventId(engine.db), EVENT_RETENTION + 51);
  } finally {
    closeDatabase(join(own, 'data'));
    cleanup(own);
  }
});

test('a store whose events are at a newer step is refused, not rewritten', () => {
  const own = tempRoot('events-newer');
  try {
    const first = new Engine({ root: join(own, 'data'), runRoot: join(own, 'run') });
    void first.db;
    closeDatabase(join(own, 'data'));
    const raw = new BetterSqlite3(join(own, 'data', 'berth.db'));
    raw.prepare("INSERT INTO migrations (component, step, applied) VALUES ('events', 2, 'later')").run();
    raw.close();
    const second = new Engine({ root: join(own, 'data'), runRoot: join(own, 'run') });
    assert.throws(() => second.db, /the events tables are at step 2, but this berth knows only 1/);
  } finally {
    closeDatabase(join(own, 'data'));
    cleanup(own);
  }
});
