// The contract of CgroupManager (src/runtime/cgroups/types.ts), as one suite
// that every driver's tests run, on a fake layout and on the real kernel, the
// way containerd's snapshotter testsuite is run by every snapshotter. A target
// says whether processes can really join; what needs the kernel (freezing,
// signalling, counting) runs only then. Also here: the process helpers the
// integration tests share.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join as joinPath } from 'node:path';
import { BerthError } from '../../src/util/errors.js';
import type { CgroupManager } from '../../src/runtime/cgroups/index.js';

export interface ConformanceTarget {
  /** A manager for a fresh path no other test uses (a fake target lays out that path's files first). */
  newManager(): CgroupManager;
  /** A manager whose cgroup does not exist (a fake layout lays out nothing for it). */
  absent(): CgroupManager;
  /** A real cgroup filesystem as root: processes join, freeze and die for real. */
  live: boolean;
}

/** A process that waits on stdin before running `script`, so it can be put in a cgroup first (as the native helper does). */
export interface Gated {
  child: ChildProcess;
  pid: number;
  /** Let it go on. */
  release(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function spawnGated(script: string): Gated {
  // On its own line, so that a `&` in the script cannot put the wait in the background.
  const child = spawn('sh', ['-c', `read _ || exit 99\n${script}`], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) throw new Error('spawn sh failed');
  return { child, pid: child.pid, release: () => child.stdin?.end('\n'), exited, stderr: () => err };
}

/** Write `pid` into every cgroup.procs the manager names: what the native helper does. */
export function join(m: CgroupManager, pid: number): void {
  for (const f of m.procsFiles()) writeFileSync(f, `${pid}\n`);
}

/** User plus system CPU ticks of a process (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function eventually(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

function dirsOf(m: CgroupManager): string[] {
  return m.procsFiles().map((f) => dirname(f));
}

export function cgroupConformance(name: string, target: ConformanceTarget): void {
  describe(`${name}: CgroupManager conformance`, () => {
    const cleanups: (() => void)[] = [];
    const manager = (): CgroupManager => {
      const m = target.newManager();
      cleanups.push(() => m.destroy());
      return m;
    };
    const processes: Gated[] = [];
    const gated = (script: string): Gated => {
      const p = spawnGated(script);
      processes.push(p);
      return p;
    };
    after(() => {
      for (const p of processes) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
      for (const c of cleanups) try { c(); } catch { /* reported by the test that failed */ }
    });

    test('create makes a directory per hierarchy; procsFiles are absolute cgroup.procs paths that exist', () => {
      const m = manager();
      assert.ok(m.version === 1 || m.version === 2);
      assert.match(m.path, /^\/[^/]/);
      m.create();
      const files = m.procsFiles();
      assert.ok(files.length >= 1);
      assert.equal(new Set(files).size, files.length, 'no hierarchy twice');
      for (const f of files) {
        assert.ok(isAbsolute(f) && f.endsWith(`${m.path}/cgroup.procs`), f);
        assert.ok(existsSync(f), `${f} exists`);
      }
      assert.deepEqual(m.pids(), []);
      assert.equal(m.oomKilled(), false);
      assert.equal(m.frozen(), false);
    });

    test('create on an existing empty cgroup is allowed; destroy removes every directory and is idempotent', () => {
      const m = manager();
      m.create();
      m.create();
      const dirs = dirsOf(m);
      m.destroy();
      for (const d of dirs) assert.ok(!existsSync(d), `${d} removed`);
      m.destroy();
      target.absent().destroy(); // never created: a no-op
    });

    test('update of a cgroup that does not exist is notFound', () => {
      const m = target.absent();
      assert.throws(() => m.update({ pids: { limit: 10 } }), (e: unknown) => e instanceof BerthError && e.kind === 'notFound');
    });

    test('describe names every directory, before create and after', () => {
      const m = manager();
      const before = m.describe({});
      m.create();
      const lines = m.describe();
      for (const d of dirsOf(m)) {
        assert.ok(lines.some((l) => l.includes(d)), `describe mentions ${d}:\n${lines.join('\n')}`);
        assert.ok(before.some((l) => l.includes(d)), `dry-run describe mentions ${d}`);
      }
    });

    test('a joined process is listed by pids(), and create refuses a cgroup holding one', async () => {
      const m = manager();
      m.create();
      const p = gated('exec sleep 30');
      join(m, p.pid);
      assert.deepEqual(m.pids(), [p.pid]);
      assert.throws(() => m.create(), (e: unknown) => e instanceof BerthError && e.kind === 'conflict');
      process.kill(p.pid, 'SIGKILL');
      await p.exited;
      if (!target.live) for (const f of m.procsFiles()) writeFileSync(f, '');
      await eventually('the process has left the cgroup', () => m.pids().length === 0);
    });

    test('destroy also removes cgroups the container made below its own', () => {
      const m = manager();
      m.create();
      for (const d of dirsOf(m)) mkdirSync(joinPath(d, 'inner', 'deeper'), { recursive: true });
      m.destroy();
      for (const d of dirsOf(m)) assert.ok(!existsSync(d));
    });

    if (!target.live) return;

    test('stats count the processes and their CPU time', async () => {
      const m = manager();
      m.create();
      const p = gated('sleep 30 & while :; do :; done');
      join(m, p.pid);
      p.release();
      await eventually('the forked child joined too', () => m.pids().length === 2);
      await eventually('CPU time is counted', () => m.stats().cpu.usageNs > 10_000_000);
      const s = m.stats();
      assert.ok(s.pids.current >= 2, `pids.current ${s.pids.current}`);
      assert.ok(s.memory.usage >= 0);
      m.kill('SIGKILL');
      await p.exited;
    });

    test('freeze stops every process, thaw lets them go on', async () => {
      const m = manager();
      m.create();
      const p = gated('while :; do :; done');
      join(m, p.pid);
      p.release();
      await eventually('it runs', () => cpuTicks(p.pid) > 0);
      m.freeze();
      assert.equal(m.frozen(), true);
      const t0 = cpuTicks(p.pid);
      await sleep(300);
      assert.equal(cpuTicks(p.pid), t0, 'no CPU time while frozen');
      m.thaw();
      assert.equal(m.frozen(), false);
      await eventually('it runs again', () => cpuTicks(p.pid) > t0);
      m.kill('SIGKILL');
      await p.exited;
    });

    test('kill reaches every process, even one forked inside; then destroy succeeds', async () => {
      const m = manager();
      m.create();
      const p = gated('sleep 300 & sleep 300 & wait');
      join(m, p.pid);
      p.release();
      await eventually('three processes', () => m.pids().length === 3);
      const all = m.pids();
      m.kill('SIGTERM');
      const { signal } = await p.exited;
      assert.equal(signal, 'SIGTERM');
      await eventually('every process is gone', () => m.pids().length === 0);
      assert.equal(all.length, 3);
      const dirs = dirsOf(m);
      m.destroy();
      for (const d of dirs) assert.ok(!existsSync(d), `${d} removed`);
    });

    test('destroy right after kill waits for the processes to drain', async () => {
      const m = manager();
      m.create();
      const p = gated('exec sleep 300');
      join(m, p.pid);
      p.release();
      m.kill(9);
      m.destroy();
      assert.ok(dirsOf(m).every((d) => !existsSync(d)));
      await p.exited;
    });

  });
}
