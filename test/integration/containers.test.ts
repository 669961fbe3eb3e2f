// The container lifecycle through the CLI, as a Docker user drives it, on
// real containers: detached containers that outlive their command, logs,
// stop/kill/restart/pause, restart policies, exec and attach, ps and
// inspect, and a store that survives many commands at once and commands
// killed half-way.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { CLI, PROJECT, berth, imageRoot, leftovers, cleanup, eventually } from '../support.js';
import { openDatabase } from '../../src/util/db.js';

const { root, dataRoot, runRoot, b, removeAll } = imageRoot('containers');

after(() => {
  removeAll();
  cleanup(root);
});
afterEach(() => {
  removeAll();
  assert.deepEqual(leftovers(root), [], 'the test left something on the host');
});

const ok = (r: ReturnType<typeof b>) => {
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
};
/** The fields of `inspect` these tests read. */
interface Inspected {
  Id: string; Name: string; Path: string; Args: string[]; Image: string; LogPath: string; RestartCount: number;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string; StartedAt: string };
  Config: { Labels: Record<string, string>; Env: string[]; WorkingDir: string; Image: string; StopTimeout?: number };
  HostConfig: { RestartPolicy: { Name: string } };
  Namespaces: { Type: string; SharedWithHost: boolean }[];
  Cgroup: { Path: string; Exists: boolean };
}
const inspect = (name: string) => (JSON.parse(ok(b('inspect', name))) as Inspected[])[0]!;
const status = (name: string) => ok(b('inspect', '-f', '{{.State.Status}}', name));

test('run -d: the container outlives the command, and a new command sees it running and logging', async () => {
  const id = ok(b('run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; while true; do echo tick; sleep 0.2; done'));
  assert.match(id, /^[a-f0-9]{64}$/);
  // The CLI that started it has exited; another one finds it up.
  const ps = ok(b('ps'));
  assert.match(ps, /CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
  assert.match(ps, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c echo started;…"\\s+(\\d+ seconds?|Less than a second) ago\\s+Up .*\\s+web$`, 'm'));
  await eventually(() => ok(b('logs', 'web')).split('\n').filter((l) => l === 'tick').length >= 3, 10_000, 'three ticks in the log');
  const log = ok(b('logs', 'web')).split('\n');
  assert.equal(log[0], 'started');
  // Docker's json-file format, next to the container.
  const file = inspect('web').LogPath;
  const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!);
  assert.deepEqual(Object.keys(first).sort(), ['log', 'stream', 'time']);
  assert.equal(first.log, 'started\n');
  assert.equal(first.stream, 'stdout');
  assert.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(ok(b('logs', '--tail', '1', 'web')), 'tick');
  assert.match(ok(b('logs', '-t', '--tail', '1', 'web')), /^\d{4}-\d\d-\d\dT[\d:.]+Z tick$/);
  assert.equal(ok(b('logs', '--until', '2000-01-01T00:00:00Z', 'web')), '');
  assert.equal(ok(b('logs', '--since', '1h', 'web')).split('\n')[0], 'started');
  const insp = inspect('web');
  assert.equal(insp.State.Status, 'running');
  assert.equal(insp.State.Running, true);
  assert.ok(insp.State.Pid > 0);
  assert.equal(insp.Name, '/web');
  assert.equal(insp.Id, id);
});

test('logs -f ends when the container stops; stdout and stderr stay apart', async () => {
  ok(b('run', '-d', '--name', 'brief', 'busybox', 'sh', '-c', 'echo out; echo err >&2; sleep 1; echo last'));
  const r = b('logs', '-f', 'brief');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'out\nlast\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(status('brief'), 'exited');
});

test('create, start, wait, and start -a with the exit status', () => {
  const id = ok(b('create', '--name', 'later', 'busybox', 'sh', '-c', 'echo ran; exit 3'));
  assert.match(ok(b('ps', '-a')), /later/);
  assert.match(ok(b('ps', '-a', '--filter', 'status=created', '--format', '{{.Names}} {{.Status}}')), /^later Created$/);
  assert.equal(ok(b('start', 'later')), 'later');
  assert.equal(ok(b('wait', 'later')), '3');
  assert.equal(inspect(id).State.ExitCode, 3);
  const r = b('start', '-a', 'later');
  assert.equal(r.status, 3);
  assert.equal(r.stdout, 'ran\n');
  assert.equal(ok(b('logs', 'later')), 'ran\nran');
});

test('run attached: output, stdin with -i, the exit status, --rm removes it', () => {
  let r = b('run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 5');
  assert.equal(r.status, 5);
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  assert.match(ok(b('ps', '-a', '--format', '{{.Names}} {{.Status}}')), /fg Exited \(5\)/);
  assert.equal(ok(b('logs', 'fg')), 'to-out');
  r = b('run', '--rm', '-i', 'busybox', 'tr', 'a-z', 'A-Z');
  assert.equal(r.status, 0);
  r = b('run', '--rm', 'busybox', 'true');
  assert.equal(r.status, 0);
  assert.doesNotMatch(ok(b('ps', '-a', '--format', '{{.Image}} {{.Command}}')), /"true"/);
});

test('stop: the stop signal, then SIGKILL after the timeout; a stopped container is not restarted', async () => {
  ok(b('run', '-d', '--name', 'polite', '--restart', 'always', 'busybox', 'sh', '-c', "trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"));
  assert.equal(ok(b('stop', 'polite')), 'polite');
  let insp = inspect('polite');
  assert.equal(insp.State.Status, 'exited');
  assert.equal(insp.State.ExitCode, 0);
  assert.match(ok(b('logs', 'polite')), /bye/);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(status('polite'), 'exited', 'always does not undo an explicit stop');
  // PID 1 without a handler ignores SIGTERM: SIGKILL after -t.
  ok(b('run', '-d', '--name', 'stubborn', 'busybox', 'sleep', '60'));
  ok(b('stop', '-t', '1', 'stubborn'));
  insp = inspect('stubborn');
  assert.equal(insp.State.ExitCode, 137);
  // --stop-signal is the container's own.
  ok(b('run', '-d', '--name', 'usr1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', "trap 'exit 7' USR1; while true; do sleep 0.1; done"));
  ok(b('stop', 'usr1'));
  assert.equal(inspect('usr1').State.ExitCode, 7);
});

test('kill sends a signal; restart starts it again; pause and unpause freeze it', async () => {
  ok(b('run', '-d', '--name', 'sig', 'busybox', 'sh', '-c', "trap 'echo got-usr1' USR1; while true; do sleep 0.1; done"));
  ok(b('kill', '-s', 'USR1', 'sig'));
  await eventually(() => ok(b('logs', 'sig')).includes('got-usr1'), 5000, 'the trap to run');
  assert.equal(status('sig'), 'running');
  const started = inspect('sig').State.StartedAt;
  ok(b('restart', '-t', '0', 'sig'));
  assert.equal(status('sig'), 'running');
  assert.notEqual(inspect('sig').State.StartedAt, started);
  ok(b('pause', 'sig'));
  assert.equal(status('sig'), 'paused');
  assert.match(ok(b('ps', '--format', '{{.Status}}')), /\(Paused\)/);
  let r = b('pause', 'sig');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already paused/);
  r = b('exec', 'sig', 'true');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^Error response from daemon: .*paused/);
  ok(b('unpause', 'sig'));
  assert.equal(status('sig'), 'running');
  ok(b('kill', 'sig'));
  await eventually(() => status('sig') === 'exited', 5000, 'the container to exit');
  assert.equal(inspect('sig').State.ExitCode, 137);
  r = b('kill', 'sig');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is not running/);
  r = b('kill', '-s', 'FOO', 'sig');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid signal "FOO"/, 'a bad signal is reported before the state');
});

test('restart policies: on-failure:N counts, always restarts, unless-stopped and no', async () => {
  ok(b('run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo try; exit 1'));
  await eventually(() => inspect('flaky').RestartCount === 2 && status('flaky') === 'exited', 60_000, 'two restarts');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(inspect('flaky').RestartCount, 2);
  assert.equal(ok(b('logs', 'flaky')), 'try\ntry\ntry');
  ok(b('run', '-d', '--name', 'fine', '--restart', 'on-failure', 'busybox', 'true'));
  await eventually(() => status('fine') === 'exited', 5000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(inspect('fine').RestartCount, 0, 'on-failure leaves a clean exit alone');
  ok(b('run', '-d', '--name', 'forever', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 0'));
  await eventually(() => inspect('forever').RestartCount >= 2, 60_000, 'always to restart');
  assert.equal(inspect('forever').HostConfig.RestartPolicy.Name, 'always');
  ok(b('run', '-d', '--name', 'unless', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'sleep 0.2; exit 1'));
  await eventually(() => inspect('unless').RestartCount >= 1, 60_000, 'unless-stopped to restart');
  ok(b('stop', 'unless'));
  const count = inspect('unless').RestartCount;
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(status('unless'), 'exited');
  assert.equal(inspect('unless').RestartCount, count);
  let r = b('run', '-d', '--restart', 'sometimes', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /invalid restart policy/);
  r = b('run', '--rm', '--restart', 'always', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /Conflicting options: --restart and --rm/);
});

test('exec: environment, user, working directory, exit status, detached', async () => {
  ok(b('run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '60'));
  assert.equal(ok(b('exec', '-e', 'X=42', 'box', 'sh', '-c', 'echo $X $FROM_RUN $(id -u) $(pwd)')), '42 1 0 /');
  assert.equal(ok(b('exec', '-u', 'nobody', '-w', '/tmp', 'box', 'sh', '-c', 'echo $(id -un) $(pwd)')), 'nobody /tmp');
  assert.equal(b('exec', 'box', 'sh', '-c', 'exit 4').status, 4);
  assert.equal(b('exec', 'box', 'nosuchcommand').status, 127);
  ok(b('exec', '-d', 'box', 'sh', '-c', 'echo detached > /tmp/mark'));
  await eventually(() => b('exec', 'box', 'cat', '/tmp/mark').stdout === 'detached\n', 5000, 'the detached exec');
  // The exec'd process is inside the container's PID namespace.
  assert.match(ok(b('exec', 'box', 'ps')), /^\s*1 .*sleep 60/m);
  // A signal to the exec command reaches the process inside.
  const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot,
    'exec', 'box', 'sh', '-c', "trap 'echo caught; exit 9' TERM; echo ready; while true; do sleep 0.1; done"], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await eventually(() => out.includes('ready'), 10_000, 'the exec to start');
  child.kill('SIGTERM');
  assert.equal(await exited, 9);
  assert.match(out, /caught/);
  let r = b('exec', '-u', 'ghost', 'box', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unable to find user ghost/);
  ok(b('kill', 'box'));
  await eventually(() => status('box') === 'exited', 5000);
  r = b('exec', 'box', 'true');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^Error response from daemon: container [a-f0-9]+ is not running/);
});

test('attach: a second client sees the output and feeds stdin', async () => {
  ok(b('run', '-d', '-i', '--name', 'echoer', 'busybox', 'sh', '-c', 'while read line; do echo "got $line"; done'));
  const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot, 'attach', 'echoer'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: PROJECT });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise((r) => setTimeout(r, 1000));
  child.stdin.write('hello\n');
  await eventually(() => out.includes('got hello'), 10_000, 'the echo through attach');
  // Ending the attached stream does not end the container (-i without --rm keeps stdin open).
  ok(b('stop', '-t', '0', 'echoer'));
  assert.equal(await exited, 137);
  assert.match(ok(b('logs', 'echoer')), /got hello/);
  const r = b('attach', 'echoer');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /You cannot attach to a stopped container/);
});

test('ps: -a, -q, -l, -n, --filter, --format, --no-trunc, -s', () => {
  const a = ok(b('run', '-d', '--name', 'one', '--label', 'tier=front', 'busybox', 'sleep', '600'));
  const c = ok(b('create', '--name', 'two', 'busybox', 'true'));
  assert.equal(b('run', '--name', 'three', 'busybox', 'sh', '-c', 'exit 2').status, 2);
  assert.deepEqual(ok(b('ps', '-q')).split('\n'), [a.slice(0, 12)]);
  assert.deepEqual(ok(b('ps', '-a', '-q', '--no-trunc')).split('\n').sort(), [a, c, inspect('three').Id].sort());
  assert.equal(ok(b('ps', '-l', '--format', '{{.Names}}')), 'three');
  assert.deepEqual(ok(b('ps', '-n', '2', '--format', '{{.Names}}')).split('\n'), ['three', 'two']);
  assert.equal(ok(b('ps', '-a', '--filter', 'label=tier=front', '--format', '{{.Names}}')), 'one');
  assert.equal(ok(b('ps', '-a', '--filter', 'exited=2', '--format', '{{.Names}}')), 'three');
  assert.equal(ok(b('ps', '-a', '--filter', 'name=^tw', '--format', '{{.Names}}')), 'two');
  assert.equal(ok(b('ps', '--filter', 'status=running', '--format', '{{.ID}}')), a.slice(0, 12));
  assert.equal(JSON.parse(ok(b('ps', '--format', 'json'))).Names, 'one');
  assert.match(ok(b('ps', '-s')), /SIZE\n.*\s[\d.]+k?B \(virtual [\d.]+[kM]B\)$/);
  assert.match(ok(b('ps', '--format', 'table {{.Names}}\t{{.State}}')), /^NAMES\s+STATE\none\s+running$/);
  let r = b('ps', '--filter', 'colour=red');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid filter 'colour'/);
  r = b('ps', '--filter', 'name=[');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid filter 'name=\['/);
});

test('inspect: Docker\'s shape, -f templates, and the namespaces and cgroup of a running container', () => {
  ok(b('run', '-d', '--name', 'seen', '--label', 'a=b', '-e', 'K=V', '-w', '/tmp', 'busybox', 'sleep', '60'));
  const i = inspect('seen');
  assert.equal(i.Path, 'sleep');
  assert.deepEqual(i.Args, ['60']);
  assert.equal(i.Config.Labels.a, 'b');
  assert.ok(i.Config.Env.includes('K=V'));
  assert.equal(i.Config.WorkingDir, '/tmp');
  assert.equal(i.Config.Image, 'busybox');
  assert.match(i.Image, /^sha256:[a-f0-9]{64}$/);
  assert.equal(ok(b('inspect', '-f', '{{.Name}} {{.State.Running}} {{index .Config.Labels "a"}}', 'seen')), '/seen true b');
  const types = new Map(i.Namespaces.map((n) => [n.Type, n.SharedWithHost]));
  for (const t of ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup']) assert.equal(types.get(t), false, `${t} is the container's own`);
  assert.equal(i.Cgroup.Path, `/berth/${i.Id}`);
  assert.equal(i.Cgroup.Exists, true);
  // Images by the same command.
  assert.match(ok(b('inspect', '-f', '{{.Id}}', 'busybox')), /^sha256:/);
  const r = b('inspect', 'nothing-here');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /No such object: nothing-here/);
});

test('rm, rename, port and container prune; clear errors for what does not exist', () => {
  ok(b('run', '-d', '--name', 'alive', 'busybox', 'sleep', '60'));
  let r = b('rm', 'alive');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /stop the container before removing or force remove/);
  ok(b('rename', 'alive', 'renamed'));
  assert.equal(inspect('renamed').Name, '/renamed');
  r = b('run', '-d', '--name', 'renamed', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /The container name "\/renamed" is already in use/);
  r = b('run', '-d', '--name', 'bad name!', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /Invalid container name/);
  assert.equal(ok(b('port', 'renamed')), '');
  r = b('port', 'renamed', '80');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /No public port '80\/tcp' published for renamed/);
  assert.equal(ok(b('rm', '-f', 'renamed')), 'renamed');
  ok(b('create', '--name', 'idle', 'busybox', 'true'));
  ok(b('run', '--name', 'done', 'busybox', 'true'));
  assert.match(ok(b('container', 'prune', '-f')), /Deleted Containers:\n[a-f0-9]{64}\n[a-f0-9]{64}\n/);
  assert.equal(ok(b('ps', '-a', '-q')), '');
  for (const verb of ['start', 'stop', 'kill', 'rm', 'pause', 'wait', 'logs', 'restart']) {
    r = b(verb, 'ghost');
    assert.notEqual(r.status, 0, verb);
    assert.match(r.stderr, /No such container: ghost/, verb);
  }
  r = b('run', '--no-such-flag', 'busybox', 'true');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});

test('20 run -d at once: all 20 present, distinct and running', async () => {
  const runs = Array.from({ length: 20 }, (_, i) => new Promise<{ code: number | null; out: string; err: string }>((resolveRun) => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot, 'run', '-d', '--name', `many${i}`, 'busybox', 'sleep', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => resolveRun({ code, out, err }));
  }));
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(r.code, 0, r.err);
  const lines = ok(b('ps', '--format', '{{.Names}} {{.State}}')).split('\n').sort();
  assert.deepEqual(lines, Array.from({ length: 20 }, (_, i) => `many${i} running`).sort());
  assert.equal(new Set(results.map((r) => r.out.trim())).size, 20);
});

test('kill -9 of the CLI in the middle of run -d leaves a working container or none, never a broken record', async () => {
  // Without a network: a bring-up of the bridge cut by the kill can still leave
  // the bridge behind (a known gap of the network's crash handling), and this
  // test is about the container's record.
  for (let i = 0; i < 12; i++) {
    const child = spawn(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot, 'run', '-d', '--network', 'none', '--name', `cut${i}`, 'busybox', 'sleep', '60'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, 150 + i * 40));
    child.kill('SIGKILL');
    await exited;
  }
  const list = ok(b('ps', '-a', '--format', '{{.Names}} {{.State}}')).split('\n').filter(Boolean);
  for (const line of list) {
    const [name, state] = line.split(' ');
    assert.ok(state === 'running' || state === 'created', `${name} is ${state}`);
    if (state === 'created') {
      ok(b('start', name!));
      assert.equal(status(name!), 'running', `${name} starts`);
    }
    assert.equal(ok(b('exec', name!, 'echo', 'alive')), 'alive');
  }
});

test('a monitor that dies, or a host that restarts, is noticed: the container shows as exited with a reason', async () => {
  const id = ok(b('run', '-d', '--name', 'orphan', 'busybox', 'sleep', '60'));
  const state = JSON.parse(readFileSync(join(runRoot, 'runtime', id, 'state.json'), 'utf8')) as { monitorPid: number; pid: number };
  process.kill(state.monitorPid, 'SIGKILL');
  process.kill(state.pid, 'SIGKILL');
  await eventually(() => status('orphan') === 'exited', 5000, 'the dead monitor to be noticed');
  const i = inspect('orphan');
  assert.equal(i.State.ExitCode, 255);
  assert.match(i.State.Error, /monitor is gone/);

  ok(b('run', '-d', '--name', 'rebooted', 'busybox', 'sleep', '60'));
  const db = openDatabase(dataRoot);
  db.prepare(`UPDATE containers SET boot_id = 'another-boot' WHERE name = 'rebooted'`).run();
  assert.equal(status('rebooted'), 'exited');
  assert.match(inspect('rebooted').State.Error, /host restarted/);
});

test('run -d --rm: removed once it exits, or when it cannot start', async () => {
  const id = ok(b('run', '-d', '--rm', 'busybox', 'sh', '-c', 'sleep 0.3'));
  await eventually(() => !ok(b('ps', '-a', '-q', '--no-trunc')).includes(id), 10_000, 'the container to go');
  const r = b('run', '-d', '--rm', 'busybox', 'nosuchcommand');
  assert.equal(r.status, 127);
  assert.equal(ok(b('ps', '-a', '-q')), '');
  assert.deepEqual(readdirSync(join(dataRoot, 'containers')), []);
});

/** The CLI under a pseudo-terminal (util-linux's script), as a person at a terminal runs it. */
function underTerminal(args: string[]): { child: ReturnType<typeof spawn>; output: () => string; exited: Promise<number | null> } {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const cli = [...CLI, '--root', dataRoot, '--run-root', runRoot, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', `stty cols 101 rows 33; ${cli}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, output: () => out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

test('-t: a terminal inside, its size from ours, input and ctrl-p ctrl-q to detach', async () => {
  let t = underTerminal(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; stty size; exit 6']);
  assert.equal(await t.exited, 6);
  assert.match(t.output(), /\/dev\/pts\/\d+\r*\n/);
  assert.match(t.output(), /33 101/);
  t = underTerminal(['run', '-it', '--name', 'term', 'busybox', 'sh']);
  await new Promise((r) => setTimeout(r, 1500));
  t.child.stdin!.write('echo typed-$((6*7))\r');
  await eventually(() => t.output().includes('typed-42'), 10_000, 'the shell to answer');
  t.child.stdin!.write('\x10\x11');
  assert.equal(await t.exited, 0);
  assert.equal(status('term'), 'running', 'detaching leaves it running');
  assert.match(ok(b('logs', 'term')), /typed-42/);
  t = underTerminal(['exec', '-it', 'term', 'sh', '-c', 'tty; exit 3']);
  assert.equal(await t.exited, 3);
  assert.match(t.output(), /\/dev\/pts\/\d+/);
});

test('create flags: --hostname, --stop-timeout, --entrypoint, --env-file; start -i and exec -i take stdin', async () => {
  const envFile = join(root, 'env');
  writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
  ok(b('create', '-i', '--name', 'named', '--hostname', 'my-box', '--env-file', envFile, '--entrypoint', 'sh', 'busybox', '-c', 'echo $(hostname) $FROM_FILE; cat'));
  const r = berth(['--root', dataRoot, '--run-root', runRoot, 'start', '-a', '-i', 'named'], { input: 'fed through start -i\n' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'my-box yes\nfed through start -i\n');
  ok(b('run', '-d', '--name', 'slow', '--stop-timeout', '1', 'busybox', 'sleep', '60'));
  assert.equal(inspect('slow').Config.StopTimeout, 1);
  const started = Date.now();
  ok(b('stop', 'slow'));
  assert.equal(inspect('slow').State.ExitCode, 137);
  assert.ok(Date.now() - started < 9000, 'the container\'s own timeout, not the default 10 s, applied');
  ok(b('run', '-d', '--name', 'reader', 'busybox', 'sleep', '60'));
  const e = berth(['--root', dataRoot, '--run-root', runRoot, 'exec', '-i', 'reader', 'tr', 'a-z', 'A-Z'], { input: 'shout\n' });
  assert.equal(e.stdout, 'SHOUT\n');
  const bad = b('run', '--stop-timeout', 'soon', 'busybox', 'true');
  assert.equal(bad.status, 125);
  assert.match(bad.stderr, /invalid argument "soon" for "--stop-timeout"/);
});
