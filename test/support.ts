// Shared by the integration tests: a temporary root per test file, bundles on
// the busybox root filesystem, the CLI as a user runs it, and a check that a
// test left nothing behind on the host.
import { chmodSync, openSync, closeSync, mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, rmSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DB_FILE } from '../src/util/db-file.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES } from '../src/runtime/defaults.js';
import { dockerDefaultSeccomp } from '../src/runtime/seccomp/docker-default.js';
import type { Spec } from '../src/runtime/spec.js';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The busybox root filesystem that setup made (made here if missing). */
export function busyboxRootfs(): string {
  const rootfs = join(PROJECT, 'build', 'rootfs');
  if (!existsSync(join(rootfs, 'bin', 'busybox'))) {
    mkdirSync(join(PROJECT, 'build'), { recursive: true });
    execFileSync(join(PROJECT, 'scripts', 'make-busybox-rootfs.sh'), [rootfs], { stdio: 'inherit' });
  }
  return rootfs;
}

export function tempRoot(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-test-${name}-`));
  // Readable by the mapped root of a user namespace, which is not the host's root.
  chmodSync(dir, 0o755);
  return dir;
}

/** A bundle whose rootfs is the shared busybox tree (read-only use) or a private copy. */
export function makeBundle(dir: string, patch: (s: Spec) => void = () => {}, opts: { args?: string[]; copyRootfs?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  if (opts.copyRootfs) {
    execFileSync('cp', ['-a', busyboxRootfs(), join(dir, 'rootfs')]);
  } else {
    symlinkSync(busyboxRootfs(), join(dir, 'rootfs'));
  }
  const spec = defaultSpec({ args: opts.args ?? ['/bin/true'], seccomp: dockerDefaultSeccomp(DOCKER_DEFAULT_CAPABILITIES) });
  if (!opts.copyRootfs) {
    // The shared tree stays pristine: read-only root, scratch space in a tmpfs.
    spec.root.readonly = true;
    spec.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  }
  patch(spec);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/**
 * The berth CLI as tests start it: the one-file bundle that bin/berth runs
 * (about 0.17 s a call against 0.7 s through tsx's loader, and the exit hooks
 * the monitors start are the bundle too). It is rebuilt first when any source
 * file is newer, so a test never runs yesterday's CLI.
 */
export const CLI: readonly string[] = [process.execPath, '--', freshBundle()];

function freshBundle(): string {
  const bundle = join(PROJECT, 'dist', 'bundle', 'cli', 'main.js');
  const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (
    e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  if (built < newest(join(PROJECT, 'src'))) {
    execFileSync(process.execPath, [join(PROJECT, 'scripts', 'bundle.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (!existsSync(bundle)) throw new Error('scripts/bundle.mjs made no bundle');
  }
  return bundle;
}

/**
 * Run the berth CLI, as a user would run bin/berth. Output goes
 * through files, not pipes: a detached container keeps the streams it was
 * given open, and a pipe would make us wait for the container to end.
 */
export function berth(args: string[], opts: { input?: string; timeout?: number; env?: Record<string, string> } = {}): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  const out = openSync(join(dir, 'out'), 'w+');
  const err = openSync(join(dir, 'err'), 'w+');
  try {
    const r = spawnSync(CLI[0]!, [...CLI.slice(1), ...args], {
      input: opts.input ?? '', stdio: ['pipe', out, err], timeout: opts.timeout ?? 60_000, cwd: PROJECT,
      env: { ...process.env, ...opts.env },
    });
    return { status: r.status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same, without blocking this process: needed when the test itself serves the CLI (a proxy, a registry). */
export function berthAsync(args: string[], opts: { env?: Record<string, string> } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], cwd: PROJECT, env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => resolveRun({ status, stdout, stderr }));
  });
}

/** What a container test may leave behind: mounts, cgroups and processes naming its root. */
export function leftovers(root: string, ids: string[] = []): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(root)) found.push(`mount: ${line}`);
  // Tests run one file at a time: any container cgroup under berth/ was left
  // behind, and so was any monitor still alive. While several people test on
  // one host at once (BERTH_TEST_SHARED_HOST=1), only this test's own mounts
  // and cgroups are its to check.
  const shared = process.env.BERTH_TEST_SHARED_HOST === '1';
  for (const hierarchy of shared ? [] : safeList('/sys/fs/cgroup')) {
    const parent = join('/sys/fs/cgroup', hierarchy, 'berth');
    for (const name of safeList(parent)) {
      if (existsSync(join(parent, name, 'cgroup.procs'))) found.push(`cgroup: ${join(parent, name)}`);
    }
    for (const id of ids) {
      const path = join('/sys/fs/cgroup', hierarchy, 'berth', id);
      if (existsSync(path) && !found.includes(`cgroup: ${path}`)) found.push(`cgroup: ${path}`);
    }
  }
  for (const id of shared ? ids : []) {
    for (const hierarchy of safeList('/sys/fs/cgroup')) {
      const path = join('/sys/fs/cgroup', hierarchy, 'berth', id);
      if (existsSync(path)) found.push(`cgroup: ${path}`);
    }
  }
  for (const pid of shared ? [] : safeList('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // A zombie has exited; only the host's init has yet to reap it.
      if (stat.includes('(berth-helper)') && !/\) Z /.test(stat)) found.push(`process: berth-helper ${pid}`);
    } catch { /* gone */ }
  }
  found.push(...networkLeftoversOf(root));
  return found;
}

/** networkLeftovers, of the berth roots under `dir` only while others test on this host too. */
export function networkLeftoversOf(dir: string): string[] {
  return networkLeftovers(process.env.BERTH_TEST_SHARED_HOST === '1' ? bridgesOf(dir) : undefined);
}

/** The bridges the berth roots under `dir` have used (their stores name them). */
function bridgesOf(dir: string): string[] {
  const bridges: string[] = [];
  for (const sub of ['', ...safeList(dir)]) {
    const file = join(dir, sub, DB_FILE);
    if (!existsSync(file)) continue;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'networks'`).get();
      if (hasTable) bridges.push(...(db.prepare('SELECT bridge FROM networks WHERE bridge IS NOT NULL').all() as { bridge: string }[]).map((r) => r.bridge));
    } finally {
      db.close();
    }
  }
  return bridges;
}

/**
 * berth's network objects on the host: its bridges and the veths on them,
 * its nftables tables, its accept rules in iptables' FORWARD chain, and
 * port holders. Each lives only while a container uses it, so after a test
 * none is left. (Tests run one file at a time; no other berth root's
 * containers are on the bridge meanwhile.)
 */
export function networkLeftovers(onlyBridges?: string[]): string[] {
  const found: string[] = [];
  // While others test on this host too, only this test's own bridges are its to check.
  const mine = (bridge: string) => /^berth\d+$/.test(bridge) && (!onlyBridges || onlyBridges.includes(bridge));
  const tool = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  };
  for (const link of JSON.parse(tool('ip', ['-j', 'link', 'show']) || '[]') as { ifname: string; master?: string }[]) {
    if (mine(link.ifname) || mine(link.master ?? '')) found.push(`link: ${link.ifname}${link.master ? ` on ${link.master}` : ''}`);
  }
  for (const line of tool('nft', ['list', 'tables']).split('\n')) if (mine(/ berth_(\S+)/.exec(line)?.[1] ?? '')) found.push(`nft: ${line.trim()}`);
  for (const line of tool('iptables', ['-w', '-S', 'FORWARD']).split('\n')) if (mine(/ -[io] (\S+) /.exec(line)?.[1] ?? '')) found.push(`iptables: ${line.trim()}`);
  for (const pid of onlyBridges ? [] : safeList('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes('(berth-ports)') && !/\) Z /.test(stat)) found.push(`process: berth-ports ${pid}`);
    } catch { /* gone */ }
  }
  return found;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A berth root of its own with the built-in busybox image imported, and the
 * CLI bound to it: what every test of images' containers starts from.
 */
export function imageRoot(name: string): { root: string; dataRoot: string; runRoot: string; b: (...args: string[]) => ReturnType<typeof berth>; removeAll: () => void } {
  const root = tempRoot(name);
  const dataRoot = join(root, 'data');
  const runRoot = join(root, 'run');
  const b = (...args: string[]) => berth(['--root', dataRoot, '--run-root', runRoot, ...args]);
  const tarball = join(root, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', busyboxRootfs(), '-cf', tarball, '.']);
  const r = b('import', '--epoch', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
  if (r.status !== 0) throw new Error(`importing busybox failed: ${r.stderr}`);
  rmSync(tarball);
  const removeAll = () => {
    const ids = b('ps', '-a', '-q', '--no-trunc').stdout.split('\n').filter(Boolean);
    if (ids.length) b('rm', '-f', '-v', ...ids);
  };
  return { root, dataRoot, runRoot, b, removeAll };
}

/** Poll until `check` holds (or throw after `ms`): for states that another process brings about. */
export async function eventually<T>(check: () => T | undefined | false, ms = 10_000, what = 'the condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
