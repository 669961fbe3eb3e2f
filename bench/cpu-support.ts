// What the CPU benchmarks (run-cpu.ts, health-cpu.ts) share: a berth on a
// fresh temporary root with busybox imported from build/rootfs (nothing of
// the default roots is touched), and a cpuacct cgroup of their own that
// every berth command runs in. A command's descendants stay in it whatever
// their parent does (the detached monitor, the hooks it forks, whoever reaps
// them), so its usage counts them all; the container's own processes are in
// the container's cgroup, and so are not counted here unless asked.
//
// The CLI is dist/bundle/cli/main.js of this checkout, or the ones given
// with --cli (e.g. main's and this one's, for a before/after measured in the
// same run, interleaved): each bundle's native/berth-helper is the one
// beside it, as berth finds it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT, removeTree } from './engines.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

export interface CpuCgroup {
  dir: string;
  /** CPU time used by every process that ever ran in it, in seconds. */
  seconds(): number;
  /** Processes in it now. */
  pids(): number[];
  remove(): void;
}

/** A cgroup to count CPU in: cpuacct on cgroup v1, the unified hierarchy on v2. */
export function cpuCgroup(name: string): CpuCgroup {
  const v1 = existsSync(join(CGROUP_ROOT, 'cpuacct', 'cpuacct.usage'));
  const dir = v1 ? join(CGROUP_ROOT, 'cpuacct', name) : join(CGROUP_ROOT, name);
  mkdirSync(dir);
  return {
    dir,
    seconds: () => v1
      ? Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e9
      : Number(/usage_usec (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))![1]) / 1e6,
    pids: () => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number),
    remove: () => rmdirSync(dir),
  };
}

/** CPU seconds of a container's own cgroup (cpuacct, v1 or v2), by its id. */
export function containerCpuSeconds(id: string): number {
  const v1 = join(CGROUP_ROOT, 'cpuacct', 'berth', id, 'cpuacct.usage');
  if (existsSync(v1)) return Number(readFileSync(v1, 'utf8')) / 1e9;
  return Number(/usage_usec (\d+)/.exec(readFileSync(join(CGROUP_ROOT, 'berth', id, 'cpu.stat'), 'utf8'))![1]) / 1e6;
}

export interface BenchBerth {
  work: string;
  cli: string;
  /** Run berth in the cgroup and wait for it; its stdout, or an error with its stderr. */
  run(...args: string[]): string;
  /** Start berth in the cgroup without waiting. */
  start(...args: string[]): Promise<number>;
  cgroup: CpuCgroup;
  close(): void;
}

/** The CLIs named by --cli (each once), or this checkout's bundle (made if missing). */
export function clisFromArgs(argv: string[]): string[] {
  const clis = argv.flatMap((a, i) => (a === '--cli' && argv[i + 1] ? [resolve(argv[i + 1]!)] : []));
  if (clis.length) return clis;
  const bundle = join(PROJECT, 'dist', 'bundle', 'cli', 'main.js');
  if (!existsSync(bundle)) execFileSync(process.execPath, [join(PROJECT, 'scripts', 'bundle.mjs')], { stdio: 'inherit' });
  return [bundle];
}

/** The first argument, when it is not a flag, as a positive number; else `fallback`. */
export function countFromArgs(argv: string[], fallback: number): number {
  const n = Number(argv[0] && !argv[0].startsWith('--') ? argv[0] : fallback);
  if (!(n > 0)) throw new Error(`"${argv[0]}" is not a positive number`);
  return n;
}

let instances = 0;

export function benchBerth(cli: string): BenchBerth {
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-cpu-'));
  const global = ['--root', join(work, 'root'), '--run-root', join(work, 'run')];
  const cgroup = cpuCgroup(`berth-bench-cpu-${process.pid}-${++instances}`);
  // The shell moves itself into the cgroup, then becomes berth: nothing berth starts is outside it.
  const inCgroup = (args: string[]) => ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup.dir, process.execPath, cli, ...global, ...args];
  const run = (...args: string[]) => {
    const r = spawnSync('sh', inCgroup(args), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
    return r.stdout;
  };
  const start = (...args: string[]) => new Promise<number>((done, fail) => {
    const child = spawn('sh', inCgroup(args), { stdio: 'ignore' });
    child.once('error', fail).once('exit', (code) => done(code ?? -1));
  });
  const tarball = join(work, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', join(PROJECT, 'build', 'rootfs'), '-cf', tarball, '.']);
  run('import', '--epoch', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
  const close = () => {
    const ids = run('ps', '-a', '-q', '--no-trunc').split('\n').filter(Boolean);
    if (ids.length) run('rm', '-f', '-v', ...ids);
    waitEmpty(cgroup, 30_000);
    cgroup.remove();
    removeTree(work);
  };
  return { work, cli, run, start, cgroup, close };
}

/** Wait until no process is left in the cgroup (hooks still running count). */
export function waitEmpty(cgroup: CpuCgroup, ms: number): void {
  const until = Date.now() + ms;
  while (cgroup.pids().length > 0) {
    if (Date.now() > until) throw new Error(`processes still in ${cgroup.dir} after ${ms} ms: ${cgroup.pids().join(' ')}`);
    spawnSync('sleep', ['0.02']);
  }
}

