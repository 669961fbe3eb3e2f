// The monitor of a detached container, for real, as root: it keeps the
// container's output in Docker's json-file log, serves attach clients (output,
// stdin, resizes, the exit status), calls the engine back when the container
// ends, and outlives the process that created it (its healthchecks:
// health.test.ts). Containers are busybox bundles driven through Runtime.create.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough, type Writable } from 'node:stream';
import { Runtime, type MonitorOptions } from '../../src/runtime/container.js';
import { attach, type AttachSession } from '../../src/runtime/attach.js';
import { readLog, parseLine, type LogEntry } from '../../src/runtime/json-log.js';
import { processStartTime, type ExitInfo } from '../../src/runtime/state.js';
import type { Spec } from '../../src/runtime/spec.js';
import { BerthError } from '../../src/util/errors.js';
import { makeBundle, tempRoot, leftovers, cleanup, PROJECT } from '../support.js';

const root = tempRoot('monitor');
const runtime = new Runtime(join(root, 'state'));
let n = 0;
const ids: string[] = [];
/** Every monitor a test started: none may outlive its test. */
const monitors: number[] = [];

after(async () => {
  for (const id of runtime.state.ids()) await runtime.delete(id, true);
  cleanup(root);
});
afterEach(() => {
  assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
  assert.deepEqual(monitors.filter((pid) => processStartTime(pid) !== undefined), [], 'a monitor outlived its test');
});

interface Detached {
  id: string;
  log: string;
  socket: string;
  dir: string;
}

/** Create (not start) a detached container running a shell script, with a log and an attach socket. */
function nextId(): string {
  const id = `m${process.pid}${String(++n).padStart(3, '0')}`;
  ids.push(id);
  return id;
}

async function create(script: string, opts: { id?: string; tty?: boolean; monitor?: MonitorOptions; patch?: (s: Spec) => void } = {}): Promise<Detached> {
  const id = opts.id ?? nextId();
  const dir = join(root, id);
  const bundle = makeBundle(dir, (s) => {
    s.process!.terminal = opts.tty ?? false;
    opts.patch?.(s);
  }, { args: ['/bin/sh', '-c', script] });
  const log = join(dir, 'json.log');
  const socket = join(dir, 'attach.sock');
  const record = await runtime.create({ id, bundle, warn: () => {}, monitor: { logFile: log, attachSocket: socket, ...opts.monitor } });
  monitors.push(record.monitorPid);
  return { id, log, socket, dir };
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => chunks.push(d));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Attach a client that collects both streams. */
async function client(c: Detached, opts: { stdin?: PassThrough; tty?: boolean } = {}): Promise<AttachSession & { out: () => string; err: () => string }> {
  const out = sink();
  const err = sink();
  const session = await attach(c.socket, { stdin: opts.stdin, stdout: out.stream, stderr: err.stream, tty: opts.tty ?? false });
  return Object.assign(session, { out: out.text, err: err.text });
}

/** Run to the end with one client attached from before the start; the container is removed after. */
async function runAttached(script: string, opts: { tty?: boolean; monitor?: MonitorOptions } = {}): Promise<{ exit: ExitInfo | 'detached' | undefined; out: string; err: string; entries: LogEntry[]; raw: string }> {
  const c = await create(script, opts);
  try {
    const session = await client(c, { tty: opts.tty });
    runtime.start(c.id);
    const exit = await session.done;
    const raw = readFileSync(c.log, 'utf8');
    return { exit, out: session.out(), err: session.err(), entries: raw.split('\n').filter(Boolean).map((l) => parseLine(l)!), raw };
  } finally {
    await runtime.delete(c.id, true);
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`waited 20s for: ${what}`);
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

test('the log has each line of stdout and stderr as its own entry, in order, with the stream it came on', async () => {
  const before = Date.now();
  const r = await runAttached('echo one; echo two >&2; printf three; sleep 0.1; echo " and more"; echo other >&2; printf tail');
  const afterwards = Date.now();
  assert.deepEqual(r.exit && r.exit !== 'detached' ? r.exit.status : r.exit, 0);
  // Each stream in order (between the two, order is what the monitor read first, as in Docker).
  assert.deepEqual(r.entries.filter((e) => e.stream === 'stdout').map((e) => e.log), ['one\n', 'three and more\n', 'tail']);
  assert.deepEqual(r.entries.filter((e) => e.stream === 'stderr').map((e) => e.log), ['two\n', 'other\n']);
  assert.equal(r.entries.length, 5);
  for (const e of r.entries) {
    assert.match(e.time, TIME);
    const ms = Date.parse(e.time);
    assert.ok(ms >= Math.floor(before / 1000) * 1000 && ms <= afterwards, `${e.time} is when the line was written`);
  }
  const times = r.entries.map((e) => e.time);
  assert.deepEqual([...times].sort(), times, 'times only go forward');
  // The field order and form of Docker's json-file driver.
  assert.match(r.raw.split('\n').find((l) => l.includes('"one')) ?? '', /^\{"log":"one\\n","stream":"stdout","time":"[^"]+"\}$/);
});

test('a line longer than 16 KiB is written in 16 KiB pieces, the last one with its newline', async () => {
  const r = await runAttached("head -c 40000 /dev/zero | tr '\\0' x; echo; echo next");
  assert.deepEqual(r.entries.map((e) => e.log.length), [16384, 16384, 40000 - 32768 + 1, 5]);
  assert.equal(r.entries.slice(0, 3).map((e) => e.log).join(''), 'x'.repeat(40000) + '\n');
  assert.ok(!r.entries[0]!.log.includes('\n') && !r.entries[1]!.log.includes('\n'));
  assert.equal(r.entries[3]!.log, 'next\n');
  assert.equal(r.out, 'x'.repeat(40000) + '\nnext\n', 'the client gets the bytes unchanged');
});

test('quotes, backslashes, tabs, control bytes and UTF-8 are escaped as Docker escapes them', async () => {
  const r = await runAttached(String.raw`printf 'say "hi" \\ back\tslash\001\033[0m <a&b> é\r\n'`);
  assert.equal(r.entries.length, 1);
  assert.equal(r.entries[0]!.log, 'say "hi" \\ back\tslash\u0001\u001b[0m <a&b> é\r\n');
  assert.ok(r.raw.startsWith(String.raw`{"log":"say \"hi\" \\ back\tslash\u0001\u001b[0m \u003ca\u0026b\u003e é\r\n","stream":"stdout"`), r.raw);
});

test('bytes that are not UTF-8 become \\ufffd, one per byte, as Go\'s encoding/json writes them; U+2028 is escaped', async () => {
  // \xff alone, an overlong "/" (\xc0\xaf), a cut sequence (\xe2\x82) before "x", a surrogate (\xed\xa0\x80), then U+2028 and a valid "€".
  const r = await runAttached(String.raw`printf 'a\377b\300\257c\342\202x\355\240\200\342\200\250\342\202\254\n'`);
  assert.equal(r.entries.length, 1);
  assert.ok(r.raw.startsWith(String.raw`{"log":"a\ufffdb\ufffd\ufffdc\ufffd\ufffdx\ufffd\ufffd\ufffd\u2028€\n","stream":"stdout"`), r.raw);
  assert.equal(r.entries[0]!.log, 'a\ufffdb\ufffd\ufffdc\ufffd\ufffdx\ufffd\ufffd\ufffd\u2028€\n');
});

test('the stream-3 frame tells the client the exit code, or the signal', async () => {
  const r = await runAttached('echo bye; exit 3');
  assert.ok(r.exit && r.exit !== 'detached');
  assert.equal(r.exit.status, 3);
  assert.equal(r.exit.signal, undefined);
  assert.equal(r.out, 'bye\n');
  // PID 1 of a namespace cannot be killed from inside: from outside, then.
  const c = await create('echo up; exec sleep 100');
  const session = await client(c);
  runtime.start(c.id);
  await until('it runs', () => session.out() === 'up\n');
  runtime.kill(c.id, 'SIGKILL');
  const exit = await session.done;
  assert.ok(exit && exit !== 'detached');
  assert.deepEqual([exit.status, exit.signal], [137, 9]);
  await runtime.delete(c.id);
});

test('a client sees output from the first byte when it attaches before start, and the exit file is as the frame says', async () => {
  const c = await create('echo first; echo second >&2; exit 7');
  const session = await client(c);
  runtime.start(c.id);
  const exit = await session.done;
  assert.deepEqual([session.out(), session.err()], ['first\n', 'second\n']);
  const exitFile = readFileSync(join(runtime.state.dir(c.id), 'exit'), 'utf8');
  assert.match(exitFile, /^exited 7 \d+\n$/);
  assert.deepEqual(exit, runtime.state.exitInfo(c.id));
  assert.equal(existsSync(c.socket), false, 'the monitor removes its socket when it ends');
  await runtime.delete(c.id);
});

test('stdin from a client reaches the container, and with stdinOnce its end ends the container stdin', async () => {
  const c = await create('cat; echo after-eof', { monitor: { openStdin: true, stdinOnce: true } });
  const stdin = new PassThrough();
  const session = await client(c, { stdin });
  runtime.start(c.id);
  stdin.write('typed line\n');
  stdin.write('no newline');
  stdin.end();
  const exit = await session.done;
  assert.ok(exit && exit !== 'detached');
  assert.equal(exit.status, 0);
  assert.equal(session.out(), 'typed line\nno newlineafter-eof\n');
  await runtime.delete(c.id);
});

test('megabytes through stdin and back out never deadlock the monitor', async () => {
  // cat blocks writing its output while the monitor feeds its input: the
  // monitor must keep reading output while stdin is full.
  const c = await create('cat', { monitor: { openStdin: true, stdinOnce: true } });
  const stdin = new PassThrough();
  const session = await client(c, { stdin });
  runtime.start(c.id);
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = 0x61 + (i % 26);
  for (let i = 0; i < 48; i++) stdin.write(block);
  stdin.end();
  const exit = await session.done;
  assert.ok(exit && exit !== 'detached' && exit.status === 0);
  assert.equal(session.out(), block.toString('latin1').repeat(48));
  await runtime.delete(c.id);
});

test('without stdinOnce, stdin stays open after a client closes it, for the next client', async () => {
  const c = await create('cat', { monitor: { openStdin: true } });
  runtime.start(c.id);
  const first = await client(c);
  const stdin = new PassThrough();
  const second = await attach(c.socket, { stdin, stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), tty: false });
  stdin.write('one\n');
  await until('cat echoes the first line', () => first.out() === 'one\n');
  stdin.end(); // closeStdin, then go
  second.close();
  assert.equal(await second.done, 'detached');
  const third = await client(c, { stdin: new PassThrough() });
  const thirdIn = new PassThrough();
  const fourth = await attach(c.socket, { stdin: thirdIn, stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), tty: false });
  thirdIn.write('two\n');
  await until('cat is still there for a later client', () => first.out() === 'one\ntwo\n' && third.out() === 'two\n');
  assert.equal(runtime.status(runtime.state.load(c.id)), 'running');
  runtime.kill(c.id, 'SIGKILL');
  const exits = await Promise.all([first.done, third.done, fourth.done]);
  for (const e of exits) assert.ok(e && e !== 'detached' && e.signal === 9);
  await runtime.delete(c.id);
});

test('without openStdin the container reads /dev/null, whatever a client sends', async () => {
  const c = await create('cat; echo eof-at-once');
  const stdin = new PassThrough();
  const session = await client(c, { stdin });
  stdin.write('ignored\n');
  runtime.start(c.id);
  const exit = await session.done;
  assert.ok(exit && exit !== 'detached' && exit.status === 0);
  assert.equal(session.out(), 'eof-at-once\n');
  await runtime.delete(c.id);
});

test('with a terminal: one stream, input through the pty, and resizes change what stty size says', async () => {
  const c = await create('while read line; do [ "$line" = q ] && exit 4; stty size; done', { tty: true, monitor: { openStdin: true } });
  const stdin = new PassThrough();
  const session = await client(c, { stdin, tty: true });
  session.resize(30, 100);
  runtime.start(c.id);
  stdin.write('\n');
  await until('the first size', () => session.out().includes('30 100\r\n'));
  session.resize(45, 132);
  stdin.write('\n');
  await until('the second size', () => session.out().includes('45 132\r\n'));
  stdin.write('q\n');
  const exit = await session.done;
  assert.ok(exit && exit !== 'detached');
  assert.equal(exit.status, 4);
  assert.equal(session.err(), '', 'a terminal has no stderr of its own');
  const entries = readFileSync(c.log, 'utf8').split('\n').filter(Boolean).map((l) => parseLine(l)!);
  assert.ok(entries.every((e) => e.stream === 'stdout'));
  assert.match(entries.map((e) => e.log).join(''), /30 100\r\n[^]*45 132\r\n/);
  await runtime.delete(c.id);
});

test('two clients at once see the same output; one that leaves mid-stream harms neither the other nor the log', async () => {
  const c = await create('read go; seq 1 30000; echo end', { monitor: { openStdin: true } });
  const stdin = new PassThrough();
  const stays = await client(c, { stdin });
  const other = await client(c);
  // This one leaves at its first byte, while the monitor is still writing.
  const leaver = sink();
  const leaving = await attach(c.socket, { stdout: leaver.stream, stderr: new PassThrough(), tty: false });
  leaver.stream.once('data', () => leaving.close());
  runtime.start(c.id);
  stdin.write('go\n');
  const [a, b, l] = await Promise.all([stays.done, other.done, leaving.done]);
  const expected = Array.from({ length: 30000 }, (_, i) => `${i + 1}\n`).join('') + 'end\n';
  assert.ok(a && a !== 'detached' && a.status === 0);
  assert.deepEqual(b, a);
  assert.equal(l, 'detached');
  assert.equal(stays.out(), expected);
  assert.equal(other.out(), expected);
  const logged: string[] = [];
  for await (const e of readLog(c.log)) logged.push(e.log);
  assert.equal(logged.join(''), expected);
  await runtime.delete(c.id);
});

test('a client that stops reading is dropped, and neither the other clients nor the exit status wait for it', async () => {
  const c = await create('head -c 4000000 /dev/zero; echo done');
  const reading = await client(c);
  // Never finishes a write: the client stops reading its socket, as a stopped `attach` would.
  const stuck = new (await import('node:stream')).Writable({ highWaterMark: 1, write: () => {} });
  const stopped = await attach(c.socket, { stdout: stuck, stderr: stuck, tty: false });
  runtime.start(c.id);
  const exit = await reading.done;
  assert.ok(exit && exit !== 'detached' && exit.status === 0);
  assert.equal(reading.out().length, 4000000 + 5);
  assert.ok(runtime.state.exitInfo(c.id));
  stopped.close(); // it never reads again, so it would never see the monitor go
  assert.equal(await stopped.done, 'detached');
  await runtime.delete(c.id);
});

test('ctrl-p ctrl-q detaches and leaves the container running; a ctrl-p alone reaches it', async () => {
  const c = await create('cat', { monitor: { openStdin: true } });
  runtime.start(c.id);
  const watcher = await client(c);
  const stdin = new PassThrough();
  const typing = await client(c, { stdin });
  stdin.write(Buffer.from('a\x10b\n'));
  await until('the lone ctrl-p went through', () => watcher.out() === 'a\x10b\n');
  stdin.write(Buffer.from('c\x10'));
  stdin.write(Buffer.from('\x11never sent\n'));
  assert.equal(await typing.done, 'detached');
  assert.equal(runtime.status(runtime.state.load(c.id)), 'running');
  // What came before the keys in the same write went in; nothing after them.
  const again = new PassThrough();
  const next = await client(c, { stdin: again });
  again.write('d\n');
  await until('the container still reads', () => watcher.out() === 'a\x10b\ncd\n');
  next.close();
  runtime.kill(c.id, 'SIGKILL');
  await watcher.done;
  await runtime.delete(c.id);
});

test('at most 16 clients at once; one more is closed at once, and a slot that frees up is taken again', async () => {
  const c = await create('read x; echo "$x"', { monitor: { openStdin: true } });
  const sessions = [];
  for (let i = 0; i < 16; i++) sessions.push(await client(c));
  const refused = await client(c);
  assert.equal(await refused.done, undefined, 'closed without an exit frame');
  sessions.pop()!.close();
  runtime.start(c.id);
  // Only a client the monitor took has its stdin reach the container: one
  // that came before the freed slot was seen is closed, and tries again.
  let exit: ExitInfo | 'detached' | undefined;
  let tries = 0;
  while (exit === undefined) {
    assert.ok(++tries < 1000, 'the freed slot is never taken');
    const stdin = new PassThrough();
    const late = await client(c, { stdin });
    stdin.write('hello\n');
    exit = await late.done;
  }
  assert.ok(exit !== 'detached' && exit.status === 0);
  const exits = await Promise.all(sessions.map((s) => s.done));
  for (const e of exits) assert.deepEqual(e, exit);
  for (const s of sessions) assert.equal(s.out(), 'hello\n');
  await runtime.delete(c.id);
});

test('the exit command runs detached once the exit file exists', async () => {
  const id = nextId();
  const copy = join(root, `${id}-exit-copy`);
  const exitFile = join(runtime.state.dir(id), 'exit');
  const script = 'cp "$0" "$1" && o=$(readlink /proc/$$/fd/1) && echo "$o" > "$1.stdout" && cut -d" " -f6 /proc/$$/stat > "$1.sid" && echo $$ >> "$1.sid"';
  const c = await create('exit 5', { id, monitor: { exitCommand: ['/bin/sh', '-c', script, exitFile, copy] } });
  runtime.start(c.id);
  await until('the exit command has run', () => existsSync(`${copy}.sid`) && readFileSync(`${copy}.sid`, 'utf8').trim().split('\n').length === 2);
  assert.match(readFileSync(copy, 'utf8'), /^exited 5 \d+\n$/);
  assert.equal(readFileSync(copy, 'utf8'), readFileSync(exitFile, 'utf8'));
  assert.equal(readFileSync(`${copy}.stdout`, 'utf8').trim(), '/dev/null');
  const [sid, pid] = readFileSync(`${copy}.sid`, 'utf8').trim().split('\n');
  assert.equal(sid, pid, 'it leads a session of its own');
  await runtime.delete(c.id);
});

test('the container outlives the Node process that created it, and keeps logging', async () => {
  const id = nextId();
  const shared = join(root, `${id}-shared`);
  mkdirSync(shared);
  const bundle = makeBundle(join(root, id), (s) => {
    s.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind'] });
  }, { args: ['/bin/sh', '-c', 'echo before; while [ ! -e /shared/go ]; do sleep 0.05; done; echo after >&2'] });
  const log = join(root, `${id}.log`);
  const creator = `
    import { Runtime } from ${JSON.stringify(join(PROJECT, 'src/runtime/container.ts'))};
    const runtime = new Runtime(${JSON.stringify(join(root, 'state'))});
    await runtime.create({ id: ${JSON.stringify(id)}, bundle: ${JSON.stringify(bundle)}, warn: () => {}, monitor: { logFile: ${JSON.stringify(log)} } });
    runtime.start(${JSON.stringify(id)});
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', creator], { cwd: PROJECT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  // It ends on its own: nothing of the monitor keeps it alive.
  const code = await new Promise((r) => child.once('close', r));
  assert.equal(code, 0, stderr);
  assert.equal(runtime.status(runtime.state.load(id)), 'running');
  monitors.push(runtime.state.load(id).monitorPid);
  await until('the first line is logged', () => existsSync(log) && readFileSync(log, 'utf8').includes('before'));
  writeFileSync(join(shared, 'go'), '');
  await until('the container ends', () => runtime.status(runtime.state.load(id)) === 'stopped');
  const entries: LogEntry[] = [];
  for await (const e of readLog(log)) entries.push(e);
  assert.deepEqual(entries.map((e) => [e.stream, e.log]), [['stdout', 'before\n'], ['stderr', 'after\n']]);
  assert.equal((statSync(log).mode & 0o777).toString(8), '640');
  await runtime.delete(id);
});

test('attaching where no monitor listens is a clear error', async () => {
  await assert.rejects(attach(join(root, 'no-such.sock'), { stdout: new PassThrough(), stderr: new PassThrough(), tty: false }),
    (err: unknown) => err instanceof BerthError && err.kind === 'notFound' && /does not exist/.test(err.message));
  // A socket file whose listener died without removing it.
  const stale = join(root, 'stale.sock');
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(existsSync(stale));
  await assert.rejects(attach(stale, { stdout: new PassThrough(), stderr: new PassThrough(), tty: false }),
    (err: unknown) => err instanceof BerthError && err.kind === 'conflict' && /nothing listens/.test(err.message));
});

test('monitor options that cannot work are refused before anything runs, and leave nothing', async () => {
  const cases: [MonitorOptions, RegExp][] = [
    [{ openStdin: true }, /needs monitor.attachSocket/],
    [{ logFile: 'relative.log' }, /must be an absolute path/],
    [{ attachSocket: '/' + 'x'.repeat(120) }, /too long for a unix socket/],
    [{ exitCommand: ['berth', 'internal'] }, /absolute program path/],
    [{ exitCommand: [] }, /absolute program path/],
    [{ healthcheck: { command: ['true'], intervalNs: 0, timeoutNs: 1, startPeriodNs: 0, startIntervalNs: 1, retries: 1, resultsFile: '/r', hook: ['/bin/true'] } }, /monitor.healthcheck.intervalNs: 0 is not a positive whole number/],
    [{ healthcheck: { command: ['true'], intervalNs: 1, timeoutNs: 1, startPeriodNs: 0, startIntervalNs: 1, retries: 1, resultsFile: '/r', hook: ['berth'] } }, /absolute program path/],
  ];
  for (const [monitor, message] of cases) {
    const id = nextId();
    const bundle = makeBundle(join(root, id), () => {}, { args: ['/bin/true'] });
    await assert.rejects(runtime.create({ id, bundle, warn: () => {}, monitor }),
      (err: unknown) => err instanceof BerthError && err.kind === 'invalid' && message.test(err.message), JSON.stringify(monitor));
    assert.equal(existsSync(runtime.state.dir(id)), false);
  }
});

test('a log file the monitor cannot open fails the create with the path in the message', async () => {
  const id = nextId();
  const bundle = makeBundle(join(root, id), () => {}, { args: ['/bin/true'] });
  await assert.rejects(runtime.create({ id, bundle, warn: () => {}, monitor: { logFile: join(root, 'no-such-dir', 'json.log') } }),
    (err: unknown) => err instanceof BerthError && /MONITOR_LOG_FILE/.test(err.message) && /no-such-dir/.test(err.message));
  assert.equal(existsSync(runtime.state.dir(id)), false);
});
