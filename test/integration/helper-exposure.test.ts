// The helper out of a container's reach (CVE-2019-5736, CVE-2024-21626), as a
// container would attack it. A watcher (helper-exposure-watcher.c, compiled
// static here) runs as a container's init and races for /proc/PID/exe,
// /proc/PID/fd/*, cwd and root of every process berth starts into it: the
// helper's child before its execve during `exec`, and during `run` of
// containers that share its pid namespace. Every one of those runs an entry
// point `#!/proc/self/exe`, which makes the kernel run the helper itself as
// the container's program. Each scenario runs with the helper file unchanged,
// then after it was replaced on disk (a new inode renamed over it) while the
// watcher's container runs on the old one: then no running process protects
// the new inode with ETXTBSY once an exec has ended.
//
// The helper is a copy in this test's root (BERTH_HELPER), never
// native/berth-helper itself: a failure here writes into the copy.
import { test, before, after, afterEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, linkSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime/container.js';
import { NS_PROC_NAME } from '../../src/runtime/namespaces.js';
import { makeBundle, tempRoot, leftovers, cleanup, PROJECT } from '../support.js';

const TRIES = 200;
const root = tempRoot('exposure');
const runtime = new Runtime(join(root, 'state'));
const ids: string[] = [];
const helperCopy = join(root, 'bin', 'berth-helper');
/** Every version the copy has had, each kept by a hard link of its own. */
const versions: { path: string; sha256: string; dev: number; ino: number }[] = [];
const marker = join(root, 'HOST-MARKER');
const watcherOut = join(root, 'watcher.out');
const previousHelper = process.env.BERTH_HELPER;
const previousCwd = process.cwd();
const WATCHER = 'watcher';
let watcherPid = 0;
/** "dev ino" of every file in the watcher's root filesystem: the container's own. */
const containerFiles = new Set<string>();
let outOffset = 0;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Put a new version of the helper at helperCopy (a new inode, renamed over), as an upgrade does. */
function installHelperCopy(source: string): void {
  const staged = `${helperCopy}.new`;
  copyFileSync(source, staged);
  chmodSync(staged, 0o755);
  const kept = `${helperCopy}.v${versions.length + 1}`;
  linkSync(staged, kept);
  renameSync(staged, helperCopy);
  const st = statSync(kept);
  versions.push({ path: kept, sha256: sha256(kept), dev: st.dev, ino: st.ino });
}

/** What the watcher has said since the last call. */
function watcherLines(): string[] {
  const all = readFileSync(watcherOut, 'utf8');
  const fresh = all.slice(outOffset);
  outOffset = all.length;
  return fresh.split('\n').filter(Boolean);
}

/** Wait until the watcher has done two more rounds of scans (and of reopening what it keeps). */
async function watcherSettled(): Promise<void> {
  const ticks = () => readFileSync(watcherOut, 'utf8').split('\n').filter((l) => l.startsWith('tick ')).length;
  const start = ticks();
  while (ticks() < start + 2) await new Promise((r) => setTimeout(r, 20));
}

function assertHeld(lines: string[], scenario: string): string {
  const helperInode = (dev: string, ino: string) => versions.some((v) => String(v.dev) === dev && String(v.ino) === ino);
  const onHelper = lines.filter((l) => {
    const m = /^(open|reopen) (?:\d+ \S+ )?(\d+) (\d+)$/.exec(l);
    return m && helperInode(m[2]!, m[3]!);
  });
  // The container may write its own files (a kept fd onto its /bin/busybox, say); nothing else.
  const wrote = lines.filter((l) => {
    const m = /^wrote \d+ \S+ (\d+) (\d+)$/.exec(l);
    return l.startsWith('wrote ') && (!m || !containerFiles.has(`${m[1]} ${m[2]}`));
  });
  const hostDirs = lines.filter((l) => l.startsWith('hostdir '));
  const changed = versions.filter((v) => sha256(v.path) !== v.sha256);
  const seen = lines.filter((l) => l.startsWith('seen ')).length;
  const denied = lines.filter((l) => l.startsWith('denied ')).length;
  const summary = `${scenario}: the watcher reached ${seen} exe links, was denied ${denied}`;
  assert.deepEqual(changed.map((v) => v.path), [], `${summary}; a host copy of the helper was changed`);
  assert.deepEqual(wrote, [], `${summary}; it wrote through what it opened`);
  assert.deepEqual(onHelper.slice(0, 5), [], `${summary}; it held ${onHelper.length} fds onto the host's helper file`);
  assert.deepEqual(hostDirs, [], `${summary}; it reached a host directory`);
  // It did race: it saw berth's processes come and go.
  assert.ok(seen + denied > 0, `${summary}: it saw no process at all`);
  return summary;
}

const exec = async () => {
  const r = await (await runtime.exec({ id: WATCHER, args: ['/selfexe'], stdio: ['ignore', 'ignore', 'ignore'] })).wait();
  // The helper run as the container's program has no plan to read.
  assert.equal(r.status, 125);
};

let runBundle = '';
let runs = 0;
const run = async () => {
  const id = `exposure-run-${process.pid}-${++runs}`;
  ids.push(id);
  const r = await runtime.run({ id, bundle: runBundle, stdio: ['ignore', 'ignore', 'ignore'], forwardSignals: false, warn: () => {} });
  assert.equal(r.status, 125);
};

describe('the helper out of a container\'s reach', { timeout: 600_000 }, () => {
  before(async () => {
    execFileSync('mkdir', ['-p', join(root, 'bin')]);
    installHelperCopy(previousHelper ?? join(PROJECT, 'native', 'berth-helper'));
    process.env.BERTH_HELPER = helperCopy;
    // The helper starts in this directory: a host directory the container must not reach.
    writeFileSync(marker, '');
    process.chdir(root);

    const bundle = makeBundle(join(root, WATCHER), (s) => {
      s.process!.args = ['/watcher', marker.slice(1), 'HOST-MARKER'];
    }, { copyRootfs: true });
    const rootfs = join(bundle, 'rootfs');
    execFileSync('cc', ['-static', '-O2', '-o', join(rootfs, 'watcher'), join(PROJECT, 'test', 'integration', 'helper-exposure-watcher.c')]);
    writeFileSync(join(rootfs, 'selfexe'), '#!/proc/self/exe\n', { mode: 0o755 });
    for (const entry of readdirSync(rootfs, { recursive: true })) {
      const st = lstatSync(join(rootfs, String(entry)));
      if (st.isFile()) containerFiles.add(`${st.dev} ${st.ino}`);
    }

    const out = openSync(watcherOut, 'w');
    try {
      ids.push(WATCHER);
      const record = await runtime.create({ id: WATCHER, bundle, stdio: ['ignore', out, out], warn: () => {} });
      runtime.start(WATCHER);
      watcherPid = record.pid;
    } finally {
      closeSync(out);
    }
    await watcherSettled();

    // `run`: containers born in the watcher's pid namespace, on the same root filesystem.
    runBundle = makeBundle(join(root, 'run-bundle'), (s) => {
      s.process!.args = ['/selfexe'];
      s.root.path = rootfs;
      s.root.readonly = true;
      s.linux!.namespaces = s.linux!.namespaces!.map((ns) => (ns.type === 'pid' ? { type: 'pid', path: `/proc/${watcherPid}/ns/${NS_PROC_NAME.pid}` } : ns));
    });
    watcherLines();
  });

  after(async () => {
    try {
      await runtime.delete(WATCHER, true);
    } finally {
      process.chdir(previousCwd);
      if (previousHelper === undefined) delete process.env.BERTH_HELPER;
      else process.env.BERTH_HELPER = previousHelper;
      assert.deepEqual(leftovers(root, ids), [], 'the test left something on the host');
      cleanup(root);
    }
  });

  afterEach(async () => {
    await watcherSettled();
  });

  test('only the stdio crosses into the container, in run and in exec', async () => {
    const listing = join(root, 'fds.out');
    const list = ['/bin/ls', '-l', '/proc/self/fd'];
    const fdBundle = makeBundle(join(root, 'fd-bundle'), (s) => {
      s.process!.args = list;
      s.root.path = join(root, WATCHER, 'rootfs');
    });
    const seen: string[][] = [];
    for (const start of [
      (out: number) => runtime.run({ id: `exposure-fds-${process.pid}`, bundle: fdBundle, stdio: ['ignore', out, 'ignore'], forwardSignals: false, warn: () => {} }),
      async (out: number) => (await runtime.exec({ id: WATCHER, args: list, stdio: ['ignore', out, 'ignore'] })).wait(),
    ]) {
      const out = openSync(listing, 'w');
      try {
        assert.equal((await start(out)).status, 0, readFileSync(listing, 'utf8'));
      } finally {
        closeSync(out);
      }
      // "lrwx------ 1 root root 64 Dec  2 04:30 1 -> /tmp/…/fds.out": each fd and its target
      seen.push(readFileSync(listing, 'utf8').split('\n').filter(Boolean).slice(1).map((l) => l.replace(/^.*:\d\d (\d+)/, '$1')));
    }
    ids.push(`exposure-fds-${process.pid}`);
    for (const fds of seen) {
      // 0-2 as given; ls's own fd onto the directory it lists may still show (or dangle).
      const others = fds.filter((l) => !/^3( -> \/proc\/\d+\/fd)?$/.test(l));
      assert.deepEqual(others, ['0 -> /dev/null', `1 -> ${listing}`, '2 -> /dev/null'], fds.join('\n'));
    }
    watcherLines();
  });

  const scenarios: [string, () => Promise<void>][] = [['exec', exec], ['run', run]];
  for (const replaced of [false, true]) {
    for (const [name, attempt] of scenarios) {
      const scenario = `${name}, helper ${replaced ? 'replaced on disk' : 'unchanged'}`;
      test(`${scenario}: ${TRIES} tries never give the container a way to the host's helper`, async (t) => {
        if (replaced && versions.length === 1) installHelperCopy(versions[0]!.path);
        for (let i = 0; i < TRIES; i++) await attempt();
        await watcherSettled();
        t.diagnostic(assertHeld(watcherLines(), scenario));
      });
    }
  }
});
