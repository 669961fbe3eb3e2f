// A container's filesystem from outside, through the CLI on real containers:
// cp in both directions with Docker's archive rules, owners and modes;
// symlinks planted in a container that point at the host's paths; diff,
// commit (and running what it made), export; and every error path.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, utimesSync, writeFileSync, chownSync, chmodSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import tar from 'tar-stream';
import { CLI, PROJECT, berth, busyboxRootfs, cleanup, imageRoot, leftovers } from '../support.js';

const { root, dataRoot, runRoot, b, removeAll } = imageRoot('container-fs');
const host = join(root, 'host');

after(() => {
  removeAll();
  cleanup(root);
});
afterEach(() => {
  removeAll();
  cleanup(host);
  assert.deepEqual(leftovers(root), [], 'the test left something on the host');
});

const ok = (r: ReturnType<typeof b>) => {
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const fails = (r: ReturnType<typeof b>, message: RegExp) => {
  assert.notEqual(r.status, 0, `expected a failure, got: ${r.stdout}`);
  assert.match(r.stderr, message);
};
/** The CLI with bytes on stdin, and stdout as bytes (a tar). */
const bRaw = (args: string[], input?: Buffer) => spawnSync(CLI[0]!, [...CLI.slice(1), '--root', dataRoot, '--run-root', runRoot, ...args], {
  cwd: PROJECT, input: input ?? Buffer.alloc(0), maxBuffer: 64 << 20,
});
const idOf = (name: string) => ok(b('inspect', '-f', '{{.Id}}', name)).trim();
const upperOf = (name: string) => join(dataRoot, 'containers', idOf(name), 'upper');
const status = (name: string) => ok(b('inspect', '-f', '{{.State.Status}}', name)).trim();

async function tarEntries(bytes: Buffer): Promise<Map<string, { header: tar.Header; body: string }>> {
  const out = new Map<string, { header: tar.Header; body: string }>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.set(entry.header.name.replace(/\/$/, ''), { header: entry.header, body: Buffer.concat(chunks).toString() });
    }
  })();
  extract.end(bytes);
  await done;
  return out;
}

function tarOf(entries: (Partial<tar.Header> & { name: string; body?: string })[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry(h, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => { chunks.push(c as Buffer); });
  return new Promise<Buffer>((resolve) => pack.on('end', () => resolve(Buffer.concat(chunks))));
}

/** A stopped container with a known tree: /data/sub/f (0640, 1000:1000, 2020), /data/link -> sub/f, /data/empty/. */
function sourceContainer(name: string): void {
  ok(b('run', '--name', name, 'busybox', 'sh', '-c', [
    'mkdir -p /data/sub /data/empty', 'echo hello > /data/sub/f', 'chmod 0640 /data/sub/f', 'chown 1000:1000 /data/sub/f',
    'touch -d "2020-01-02 03:04:05" /data/sub/f', 'ln -s sub/f /data/link',
  ].join(' && ')));
}

test('cp out: a file to a new file, into a directory, and a directory with its modes and times', () => {
  sourceContainer('src');
  mkdirSync(join(host, 'into'), { recursive: true });
  ok(b('cp', 'src:/data/sub/f', join(host, 'copy')));
  assert.equal(readFileSync(join(host, 'copy'), 'utf8'), 'hello\n');
  const st = statSync(join(host, 'copy'));
  assert.equal(st.mode & 0o7777, 0o640);
  assert.equal(st.mtime.toISOString().slice(0, 10), '2020-01-02');
  // Without -a, files copied out belong to whoever copies them.
  assert.equal(st.uid, process.getuid!());
  ok(b('cp', 'src:/data/sub/f', join(host, 'into')));
  assert.equal(readFileSync(join(host, 'into', 'f'), 'utf8'), 'hello\n');
  // A file over an existing file replaces it.
  writeFileSync(join(host, 'old'), 'old contents that are longer');
  ok(b('cp', 'src:/data/sub/f', join(host, 'old')));
  assert.equal(readFileSync(join(host, 'old'), 'utf8'), 'hello\n');
  // A directory to a missing path becomes that path; into an existing one, it goes inside.
  ok(b('cp', 'src:/data', join(host, 'tree')));
  assert.deepEqual(readdirSync(join(host, 'tree')).sort(), ['empty', 'link', 'sub']);
  ok(b('cp', 'src:/data', join(host, 'into')));
  assert.equal(readFileSync(join(host, 'into', 'data', 'sub', 'f'), 'utf8'), 'hello\n');
  // SRC/. copies the contents only.
  mkdirSync(join(host, 'contents'));
  ok(b('cp', 'src:/data/.', join(host, 'contents')));
  assert.deepEqual(readdirSync(join(host, 'contents')).sort(), ['empty', 'link', 'sub']);
  // -a keeps the container's owners.
  ok(b('cp', '-a', 'src:/data/sub/f', join(host, 'owned')));
  assert.equal(statSync(join(host, 'owned')).uid, 1000);
});

test('cp out: a symlink is copied as a link, followed with -L or a trailing /', () => {
  ok(b('run', '--name', 'links', 'busybox', 'sh', '-c', 'mkdir /d && echo x > /d/file && ln -s /d/file /flink && ln -s /d /dlink'));
  mkdirSync(host, { recursive: true });
  ok(b('cp', 'links:/flink', join(host, 'asLink')));
  assert.equal(readlinkSync(join(host, 'asLink')), '/d/file');
  ok(b('cp', '-L', 'links:/flink', join(host, 'followed')));
  assert.equal(readFileSync(join(host, 'followed'), 'utf8'), 'x\n');
  ok(b('cp', 'links:/dlink/', join(host, 'dir')));
  assert.ok(lstatSync(join(host, 'dir')).isDirectory());
  assert.equal(readFileSync(join(host, 'dir', 'file'), 'utf8'), 'x\n');
});

test('cp out to -: a tar on stdout with the container\'s owners and modes', async () => {
  sourceContainer('src');
  const r = bRaw(['cp', 'src:/data', '-']);
  assert.equal(r.status, 0, r.stderr.toString());
  const entries = await tarEntries(r.stdout);
  assert.deepEqual([...entries.keys()].sort(), ['data', 'data/empty', 'data/link', 'data/sub', 'data/sub/f']);
  const f = entries.get('data/sub/f')!;
  assert.equal(f.body, 'hello\n');
  assert.equal(f.header.uid, 1000);
  assert.equal(f.header.mode! & 0o7777, 0o640);
  assert.equal(entries.get('data/link')!.header.linkname, 'sub/f');
});

test('cp in: files belong to the container\'s root, with -a to their owner on the host; Docker\'s destination rules', () => {
  ok(b('run', '--name', 'dst', 'busybox', 'sh', '-c', 'mkdir /target && echo old > /existing'));
  mkdirSync(join(host, 'dir', 'sub'), { recursive: true });
  writeFileSync(join(host, 'dir', 'sub', 'f'), 'from host\n');
  chownSync(join(host, 'dir', 'sub', 'f'), 1234, 2345);
  chmodSync(join(host, 'dir', 'sub', 'f'), 0o751);
  utimesSync(join(host, 'dir', 'sub', 'f'), new Date('2021-05-06T07:08:09Z'), new Date('2021-05-06T07:08:09Z'));
  writeFileSync(join(host, 'file'), 'plain\n');
  ok(b('cp', join(host, 'dir'), 'dst:/target'));
  ok(b('cp', '-a', join(host, 'dir'), 'dst:/kept'));
  ok(b('cp', join(host, 'file'), 'dst:/existing'));
  ok(b('cp', join(host, 'file'), 'dst:/target/'));
  ok(b('cp', `${join(host, 'dir')}/.`, 'dst:/target'));
  const upper = upperOf('dst');
  const copied = lstatSync(join(upper, 'target', 'dir', 'sub', 'f'));
  assert.deepEqual([copied.uid, copied.gid, copied.mode & 0o7777], [0, 0, 0o751]);
  assert.equal(copied.mtime.toISOString(), '2021-05-06T07:08:09.000Z');
  const kept = lstatSync(join(upper, 'kept', 'sub', 'f'));
  assert.deepEqual([kept.uid, kept.gid], [1234, 2345]);
  assert.equal(readFileSync(join(upper, 'existing'), 'utf8'), 'plain\n');
  assert.equal(readFileSync(join(upper, 'target', 'file'), 'utf8'), 'plain\n');
  assert.equal(readFileSync(join(upper, 'target', 'sub', 'f'), 'utf8'), 'from host\n');
  // The container sees what was copied in (commit, then run).
  ok(b('commit', 'dst', 'copied:1'));
  assert.equal(ok(b('run', '--rm', 'copied:1', 'sh', '-c', 'cat /kept/sub/f; stat -c "%u %a" /target/dir/sub/f')), 'from host\n0 751\n');
});

test('cp in from -: a tar from stdin is unpacked into a directory', async () => {
  ok(b('run', '--name', 'dst', 'busybox', 'true'));
  const archive = await tarOf([
    { name: 'made', type: 'directory', mode: 0o700 },
    { name: 'made/file', mode: 0o600, uid: 42, gid: 43, body: 'streamed\n' },
    { name: 'made/link', type: 'symlink', linkname: 'file' },
  ]);
  const r = bRaw(['cp', '-a', '-', 'dst:/tmp'], archive);
  assert.equal(r.status, 0, r.stderr.toString());
  const upper = upperOf('dst');
  assert.equal(readFileSync(join(upper, 'tmp', 'made', 'file'), 'utf8'), 'streamed\n');
  assert.deepEqual([lstatSync(join(upper, 'tmp', 'made', 'file')).uid, lstatSync(join(upper, 'tmp', 'made')).mode & 0o777], [42, 0o700]);
  assert.equal(readlinkSync(join(upper, 'tmp', 'made', 'link')), 'file');
  // DEST must be an existing directory.
  let e = bRaw(['cp', '-', 'dst:/etc/passwd'], archive);
  assert.equal(e.status, 1);
  assert.match(e.stderr.toString(), /must be a directory/);
  e = bRaw(['cp', '-', 'dst:/nowhere'], archive);
  assert.match(e.stderr.toString(), /Could not find the file \/nowhere in container dst/);
  // An entry climbing out of the destination refuses the archive.
  e = bRaw(['cp', '-', 'dst:/tmp'], await tarOf([{ name: '../../escaped', body: 'x' }]));
  assert.equal(e.status, 1);
  assert.match(e.stderr.toString(), /refusing archive entry "\.\.\/\.\.\/escaped"/);
});

test('hostile symlinks in a container never reach the host: reading, writing, and tars through them', async () => {
  const marker = `berth-cp-${randomBytes(6).toString('hex')}`;
  ok(b('run', '--name', 'evil', 'busybox', 'sh', '-c', `ln -s / /root-link && ln -s ../../../../../.. /up && ln -s /tmp/${marker} /abs-file && echo inside > /tmp/secret && ln -s /etc /etc-link`));
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'payload'), 'payload\n');
  // Reading through links resolves inside the container: its passwd, not the host's.
  ok(b('cp', 'evil:/root-link/etc/passwd', join(host, 'passwd')));
  assert.equal(readFileSync(join(host, 'passwd'), 'utf8'), readFileSync(join(busyboxRootfs(), 'etc', 'passwd'), 'utf8'));
  ok(b('cp', 'evil:/up/tmp/secret', join(host, 'secret')));
  assert.equal(readFileSync(join(host, 'secret'), 'utf8'), 'inside\n');
  // Writing through them lands inside the container.
  ok(b('cp', join(host, 'payload'), `evil:/root-link/tmp/${marker}`));
  ok(b('cp', join(host, 'payload'), `evil:/up/tmp/${marker}-2`));
  ok(b('cp', join(host, 'payload'), 'evil:/abs-file'));
  const upper = upperOf('evil');
  for (const name of [marker, `${marker}-2`]) {
    assert.ok(!existsSync(join('/tmp', name)), `/tmp/${name} was written on the host`);
    assert.equal(readFileSync(join(upper, 'tmp', name), 'utf8'), 'payload\n');
  }
  // A tar that plants a link and then writes through it.
  const archive = await tarOf([
    { name: 'hop', type: 'symlink', linkname: '/tmp' },
    { name: `hop/${marker}-3`, body: 'through the link\n' },
    { name: 'climb', type: 'symlink', linkname: '../../../../../../../tmp' },
    { name: `climb/${marker}-4`, body: 'through the climb\n' },
  ]);
  const r = bRaw(['cp', '-', 'evil:/'], archive);
  assert.equal(r.status, 0, r.stderr.toString());
  for (const name of [`${marker}-3`, `${marker}-4`]) {
    assert.ok(!existsSync(join('/tmp', name)), `/tmp/${name} was written on the host`);
    assert.ok(existsSync(join(upper, 'tmp', name)));
  }
  // A link loop is an error, not a hang.
  ok(b('run', '--name', 'loop', 'busybox', 'sh', '-c', 'ln -s /a /b && ln -s /b /a'));
  fails(b('cp', 'loop:/a/x', join(host, 'x')), /too many levels of symbolic links/);
});

test('cp and export on a running container: both ways, through its own view, and it keeps running', async () => {
  ok(b('run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo made-inside > /tmp/out; ln -s / /tmp/root; sleep 1000'));
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'in'), 'copied in\n');
  ok(b('cp', join(host, 'in'), 'live:/tmp/root/in'));
  assert.equal(ok(b('exec', 'live', 'cat', '/in')), 'copied in\n');
  assert.ok(!existsSync('/in'));
  for (let i = 0; i < 50 && !existsSync(join(upperOf('live'), 'tmp', 'out')); i++) execFileSync('sleep', ['0.1']);
  ok(b('cp', 'live:/tmp/out', join(host, 'out')));
  assert.equal(readFileSync(join(host, 'out'), 'utf8'), 'made-inside\n');
  // The freeze during the copy is undone.
  assert.equal(status('live'), 'running');
  fails(b('cp', 'live:/proc/1/status', join(host, 'status')), /cannot copy from a kernel filesystem/);
  const exported = bRaw(['export', 'live']);
  assert.equal(exported.status, 0, exported.stderr.toString());
  const entries = await tarEntries(exported.stdout);
  assert.equal(entries.get('tmp/out')?.body, 'made-inside\n');
  assert.equal(entries.get('in')?.body, 'copied in\n');
  // A paused container stays paused.
  ok(b('pause', 'live'));
  ok(b('cp', 'live:/tmp/out', join(host, 'out2')));
  assert.equal(status('live'), 'paused');
  ok(b('unpause', 'live'));
});

test('diff: A, C and D from the upper dir, parents as C, in Docker\'s order', () => {
  ok(b('run', '--name', 'changed', 'busybox', 'sh', '-c', [
    'echo hi > /new', 'rm /bin/ls', 'echo x >> /etc/passwd', 'mkdir -p /a/b', 'touch /a/b/c', 'rm -rf /home',
  ].join(' && ')));
  assert.equal(ok(b('diff', 'changed')), [
    'A /a', 'A /a/b', 'A /a/b/c', 'C /bin', 'D /bin/ls', 'C /etc/passwd', 'D /home', 'A /new', '',
  ].join('\n'));
  ok(b('run', '--name', 'same', 'busybox', 'true'));
  assert.equal(ok(b('diff', 'same')), '');
});

test('diff: a directory deleted and made again shows what it lost', () => {
  ok(b('run', '--name', 'base', 'busybox', 'sh', '-c', 'mkdir -p /opt/app && echo 1 > /opt/app/one && echo 2 > /opt/app/two'));
  ok(b('commit', 'base', 'withapp:1'));
  // A layer keeps whole-second times, and Docker's rule calls a directory of the
  // same size, mode and second unchanged: change /opt in a later second.
  ok(b('run', '--name', 'redo', 'withapp:1', 'sh', '-c', 'sleep 1 && rm -rf /opt/app && mkdir /opt/app && echo new > /opt/app/one && echo 3 > /opt/app/three'));
  assert.equal(ok(b('diff', 'redo')), ['C /opt', 'C /opt/app', 'C /opt/app/one', 'A /opt/app/three', 'D /opt/app/two', ''].join('\n'));
});

test('commit: the new image runs with the container\'s files, its --change, message and author', () => {
  ok(b('run', '--name', 'work', '-e', 'FROM_RUN=yes', '-w', '/srv', 'busybox', 'sh', '-c', 'echo made > /srv/file && rm /bin/ls'));
  const id = ok(b('commit', '-a', 'Jane Doe <jane@example.com>', '-m', 'the message', '-c', 'ENV A=1', '-c', 'LABEL team=fs', 'work', 'committed:v1')).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.equal(ok(b('run', '--rm', 'committed:v1', 'sh', '-c', 'cat file; echo $A $FROM_RUN; pwd; ls /bin/ls 2>/dev/null || echo no-ls')), 'made\n1 yes\n/srv\nno-ls\n');
  const [image] = JSON.parse(ok(b('image', 'inspect', 'committed:v1'))) as { Id: string; Author: string; Comment: string; Config: { Env: string[]; Labels: Record<string, string>; Cmd: string[] }; RootFS: { Layers: string[] } }[];
  assert.equal(image!.Id, id);
  assert.equal(image!.Author, 'Jane Doe <jane@example.com>');
  assert.equal(image!.Comment, 'the message');
  assert.ok(image!.Config.Env.includes('A=1') && image!.Config.Env.includes('FROM_RUN=yes'));
  assert.equal(image!.Config.Labels.team, 'fs');
  assert.deepEqual(image!.Config.Cmd, ['sh', '-c', 'echo made > /srv/file && rm /bin/ls']);
  assert.equal(image!.RootFS.Layers.length, 2);
  const history = ok(b('history', '--no-trunc', 'committed:v1'));
  assert.match(history.split('\n')[1]!, /sh -c echo made > \/srv\/file && rm \/bin\/ls .*the message/);
  // Without a name it is found by its ID.
  const bare = ok(b('commit', 'work')).trim();
  assert.equal(ok(b('run', '--rm', bare, 'cat', '/srv/file')), 'made\n');
});

test('commit of a running container: paused meanwhile, running after', () => {
  ok(b('run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'echo live > /live; sleep 1000'));
  for (let i = 0; i < 50 && !existsSync(join(upperOf('busy'), 'live')); i++) execFileSync('sleep', ['0.1']);
  ok(b('commit', 'busy', 'fromlive:1'));
  assert.equal(status('busy'), 'running');
  ok(b('commit', '--pause=false', 'busy', 'fromlive:2'));
  ok(b('commit', '-p', 'busy', 'fromlive:3'));
  for (const tag of ['1', '2', '3']) assert.equal(ok(b('run', '--rm', `fromlive:${tag}`, 'cat', '/live')), 'live\n');
});

test('export: the merged filesystem as a tar, to stdout or -o, never to a terminal', async () => {
  ok(b('run', '--name', 'exp', 'busybox', 'sh', '-c', 'echo exported > /new && rm /bin/ls'));
  const r = bRaw(['export', 'exp']);
  assert.equal(r.status, 0, r.stderr.toString());
  const entries = await tarEntries(r.stdout);
  assert.equal(entries.get('new')!.body, 'exported\n');
  assert.ok(entries.has('bin/sh') && entries.has('etc/passwd'));
  assert.ok(!entries.has('bin/ls'));
  assert.equal(entries.get('bin')!.header.type, 'directory');
  mkdirSync(host, { recursive: true });
  ok(b('export', '-o', join(host, 'out.tar'), 'exp'));
  assert.deepEqual(readFileSync(join(host, 'out.tar')), r.stdout);
  // A terminal on stdout is refused, as Docker does.
  const tty = spawnSync('script', ['-qec', `${CLI.join(' ')} --root ${dataRoot} --run-root ${runRoot} export exp`, '/dev/null'], { cwd: PROJECT });
  assert.match(tty.stdout.toString(), /cowardly refusing to save to a terminal/);
  // A failed export leaves no file.
  fails(b('export', '-o', join(host, 'none.tar'), 'nosuch'), /No such container: nosuch/);
  assert.deepEqual(readdirSync(host), ['out.tar']);
});

test('errors: no such container, no such path, missing destination, wrong directions and types', () => {
  sourceContainer('src');
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'file'), 'x');
  symlinkSync('file', join(host, 'link'));
  const cases: [string[], RegExp][] = [
    [['cp', 'nosuch:/x', host], /^Error response from daemon: No such container: nosuch$/m],
    [['cp', join(host, 'file'), 'nosuch:/x'], /No such container: nosuch/],
    [['cp', 'src:/nothing', host], /Could not find the file \/nothing in container src/],
    [['cp', join(host, 'missing'), 'src:/tmp'], /Could not find the file .*missing on the host/],
    [['cp', join(host, 'file'), 'src:/no/such/dir'], /Could not find the file \/no\/such in container src/],
    [['cp', 'src:/data/sub/f', join(host, 'no', 'such')], /invalid output path: directory .*\/no does not exist/],
    [['cp', 'src:/data/sub/f', join(host, 'nodir') + '/'], /the directory does not exist/],
    [['cp', 'src:/data', join(host, 'file')], /cannot copy a directory to a file/],
    [['cp', join(host, 'link') + '/', 'src:/tmp'], /is not a directory/],
    [['cp', 'src:/a', 'src:/b'], /copying between containers is not supported/],
    [['cp', join(host, 'file'), join(host, 'other')], /must specify at least one container source/],
    [['diff', 'nosuch'], /No such container: nosuch/],
    [['commit', 'nosuch'], /No such container: nosuch/],
    [['commit', '-c', 'FROM busybox', 'src'], /FROM is not supported/],
    [['commit'], /requires at least 1 argument/],
  ];
  const imagesBefore = ok(b('images', '-q'));
  for (const [args, message] of cases) fails(b(...args), message);
  assert.equal(ok(b('images', '-q')), imagesBefore, 'a failed commit added an image');
  // Nothing was made on the host by the failed copies.
  assert.deepEqual(readdirSync(host).sort(), ['file', 'link']);
  // The CLI's errors keep Docker's status: 1 for what the engine refuses.
  assert.equal(b('cp', 'nosuch:/x', host).status, 1);
  assert.equal(berth(['--root', dataRoot, '--run-root', runRoot, 'cp', '--bogus', 'a', 'b']).status, 125);
});

test('cp works on a container never started, and refuses a read-only root filesystem', () => {
  ok(b('create', '--name', 'fresh', 'busybox', 'cat', '/hello'));
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'hello'), 'before start\n');
  ok(b('cp', join(host, 'hello'), 'fresh:/hello'));
  ok(b('cp', 'fresh:/etc/passwd', join(host, 'passwd')));
  assert.equal(readFileSync(join(host, 'passwd'), 'utf8'), readFileSync(join(busyboxRootfs(), 'etc', 'passwd'), 'utf8'));
  assert.equal(ok(b('diff', 'fresh')), 'A /hello\n');
  assert.equal(ok(b('start', '-a', 'fresh')), 'before start\n');
  ok(b('create', '--name', 'sealed', '--read-only', 'busybox', 'true'));
  fails(b('cp', join(host, 'hello'), 'sealed:/hello'), /read-only/);
  assert.equal(ok(b('diff', 'sealed')), '');
});

test('cp on a stopped container reaches its volumes and bind mounts; a reader that goes away leaves no mount', () => {
  mkdirSync(join(host, 'bind'), { recursive: true });
  writeFileSync(join(host, 'bind', 'file'), 'bound\n');
  writeFileSync(join(host, 'x'), 'into the volume\n');
  ok(b('run', '--name', 'vols', '-v', 'fsvol:/vol', '-v', `${join(host, 'bind')}:/bind:ro`, 'busybox', 'sh', '-c', 'echo made > /vol/inside'));
  ok(b('cp', join(host, 'x'), 'vols:/vol/x'));
  assert.equal(ok(b('run', '--rm', '-v', 'fsvol:/vol', 'busybox', 'cat', '/vol/x')), 'into the volume\n');
  ok(b('cp', 'vols:/vol/inside', join(host, 'inside')));
  assert.equal(readFileSync(join(host, 'inside'), 'utf8'), 'made\n');
  ok(b('cp', 'vols:/bind/file', join(host, 'bound')));
  assert.equal(readFileSync(join(host, 'bound'), 'utf8'), 'bound\n');
  fails(b('cp', join(host, 'x'), 'vols:/bind/y'), /read-only file system/);
  assert.deepEqual(readdirSync(join(host, 'bind')), ['file']);
  // `export | head`: the CLI ends when its reader does, and takes its mounts with it.
  const cli = `${CLI.join(' ')} --root ${dataRoot} --run-root ${runRoot}`;
  for (const args of ['export vols', 'cp vols:/ -']) {
    execFileSync('sh', ['-c', `${cli} ${args} | head -c 1000 > /dev/null`], { cwd: PROJECT });
    assert.deepEqual(leftovers(root), [], `berth ${args} | head left something behind`);
  }
});
