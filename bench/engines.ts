// The engines berth is measured against, each set up so that it touches
// nothing of the host it keeps and no network beyond loopback: Debian's
// dockerd on its own socket, data root and exec root, with no bridge,
// iptables or IP forwarding; podman on a temporary storage root with its
// own containers.conf; berth on a temporary --root/--run-root. All three get
// busybox:latest from `berth save` of berth's built-in image, so every engine
// runs the identical layer. Everything they start is stopped and everything
// they mount or create is removed at the end, on failure too.
//
// Install the engines with scripts/bench-setup.sh.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const PROJECT = resolve(import.meta.dirname, '..');
export const BERTH = join(PROJECT, 'bin', 'berth');
/** Debian's docker CLI by its full path: another `docker` may come first in PATH. */
export const DOCKER = '/usr/bin/docker';
export const DOCKERD = '/usr/sbin/dockerd';
export const IMAGE = 'busybox:latest';

// ---- small helpers shared by the benchmarks ------------------------------------

export const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}

/** The lower middle one for an even count: always one of the measurements. */
export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** Unmount whatever a tool left mounted under `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

export function removeTree(dir: string): void {
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Processes whose command line names `dir` (shims, conmon, containerd of ours): none should outlive the benchmark. */
export function processesMentioning(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

export function killProcessesMentioning(dir: string): void {
  for (const pid of processesMentioning(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup directories named `name` at the top of each hierarchy (v1 controllers and v2). */
function cgroupDirs(name: string): string[] {
  const dirs: string[] = [];
  const top = join(CGROUP_ROOT, name);
  if (existsSync(join(top, 'cgroup.procs'))) dirs.push(top);
  for (const h of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, h, name);
    if (existsSync(join(dir, 'cgroup.procs'))) dirs.push(dir);
  }
  return dirs;
}

/** Remove the (empty) cgroup trees named `name`, children first. */
export function removeCgroups(name: string): void {
  for (const dir of cgroupDirs(name)) {
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
      try {
        rmdirSync(d);
      } catch { /* still has processes: reported by the caller's check */ }
    };
    walk(dir);
  }
}

function cgroupsExist(name: string): boolean {
  return cgroupDirs(name).length > 0;
}

/**
 * podman's blob-info cache, kept in /var/lib/containers/cache whatever
 * --root says; removed at the end when the run made it (and its parent
 * when that is left empty: another user's podman storage there stays).
 */
const PODMAN_CACHE = '/var/lib/containers/cache';
/** Top-level cgroups the engines create under cgroupfs management. */
const ENGINE_CGROUPS = ['berth-bench-docker', 'libpod_parent'];

// ---- the engines ------------------------------------------------------------------

export interface EngineCli {
  name: string;
  /** The command a user types, before the verb: ['docker', '-H', …]. */
  argv: string[];
  env: NodeJS.ProcessEnv;
}

export interface Engines {
  work: string;
  berth: EngineCli;
  docker?: EngineCli;
  podman?: EngineCli;
  /** runc and the bundle on the same busybox tree, for a floor under every engine. */
  runc?: { root: string; bundle: string };
  /** What is missing, as install hints. */
  missing: string[];
  close(): Promise<void>;
}

/** The same busybox:latest in all three engines, from berth's own built-in image. */
export async function setUpEngines(opts: { runcBundle?: boolean; berthOnly?: boolean } = {}): Promise<Engines> {
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-engines-'));
  chmodSync(work, 0o755);
  const podmanCacheBefore = existsSync(PODMAN_CACHE);
  const cgroupsBefore = new Set(ENGINE_CGROUPS.filter(cgroupsExist));
  let dockerd: Dockerd | undefined;
  const close = async (): Promise<void> => {
    await dockerd?.stop();
    killProcessesMentioning(work);
    removeTree(work);
    if (!podmanCacheBefore && existsSync(PODMAN_CACHE)) {
      rmSync(PODMAN_CACHE, { recursive: true, force: true });
      try {
        rmdirSync(dirname(PODMAN_CACHE));
      } catch { /* not empty: not ours alone */ }
    }
    for (const name of ENGINE_CGROUPS) if (!cgroupsBefore.has(name)) removeCgroups(name);
  };
  try {
    const missing: string[] = [];
    const archive = join(work, 'busybox.tar');
    run(BERTH, ['save', '-o', archive, IMAGE]);

    const berthRoot = join(work, 'berth');
    const berth: EngineCli = { name: 'berth', argv: [BERTH, '--root', join(berthRoot, 'root'), '--run-root', join(berthRoot, 'run')], env: process.env };
    run(berth.argv[0]!, [...berth.argv.slice(1), 'load', '-q', '-i', archive]);

    let docker: EngineCli | undefined;
    if (opts.berthOnly) {
      // berth alone
    } else if (existsSync(DOCKERD) && existsSync(DOCKER)) {
      dockerd = await startDockerd(join(work, 'docker'));
      docker = { name: 'docker', argv: [DOCKER, '-H', `unix://${dockerd.socket}`], env: { ...process.env, DOCKER_CONFIG: join(work, 'docker', 'client') } };
      run(docker.argv[0]!, [...docker.argv.slice(1), 'load', '-q', '-i', archive], docker.env);
    } else {
      missing.push('docker: not installed (scripts/bench-setup.sh, or apt-get install docker.io)');
    }

    let podman: EngineCli | undefined;
    if (opts.berthOnly) {
      // berth alone
    } else if (have('podman')) {
      podman = podmanCli(join(work, 'podman'));
      run(podman.argv[0]!, [...podman.argv.slice(1), 'load', '-q', '-i', archive], podman.env);
    } else {
      missing.push('podman: not installed (scripts/bench-setup.sh, or apt-get install podman)');
    }

    let runc: Engines['runc'];
    if (opts.runcBundle && have('runc')) runc = runcBundle(join(work, 'runc'));
    else if (opts.runcBundle) missing.push('runc: not installed (apt-get install runc)');
    return { work, berth, docker, podman, runc, missing, close };
  } catch (err) {
    await close();
    throw err;
  }
}

interface Dockerd {
  socket: string;
  stop(): Promise<void>;
}

/**
 * dockerd with everything of its own under `dir`: data root, exec root (its
 * managed containerd lives there too), socket, pid file, and an empty
 * daemon.json so that the host's /etc/docker/daemon.json plays no part. No
 * bridge, no iptables, no forwarding: containers run with --network none.
 */
async function startDockerd(dir: string): Promise<Dockerd> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'docker.sock');
  const config = join(dir, 'daemon.json');
  writeFileSync(config, '{}\n');
  const log = openSync(join(dir, 'dockerd.log'), 'w');
  const child: ChildProcess = spawn(DOCKERD, [
    '--config-file', config,
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'),
    '-H', `unix://${socket}`,
    '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none', '--userland-proxy=false',
    '--storage-driver', 'overlay2', '--exec-opt', 'native.cgroupdriver=cgroupfs', '--cgroup-parent', 'berth-bench-docker',
  ], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 30_000).unref());
      if (await Promise.race([exited, timeout]) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    }
    // Its containerd and any shim left behind carry the exec root in their command lines.
    killProcessesMentioning(dir);
  };
  const deadline = Date.now() + 60_000;
  while (!(await ping(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`dockerd did not come up on ${socket}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { socket, stop };
}

function ping(socket: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * podman on storage under `dir`, configured through its own containers.conf.
 * runc, not Debian's default crun: crun 1.8 refuses this host's hybrid
 * cgroup layout. Explicit ulimits: as root podman raises nofile and nproc
 * to 1048576 unless told otherwise, which a host without CAP_SYS_RESOURCE
 * refuses; docker's containers inherit the daemon's limits instead.
 */
function podmanCli(dir: string): EngineCli {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'containers.conf');
  const nofile = hardLimit('Max open files');
  writeFileSync(conf, [
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]`,
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `tmp_dir = "${join(dir, 'libpod-tmp')}"`,
    '[network]',
    // Its CNI lock file goes here rather than into the host's /etc/cni/net.d.
    `network_config_dir = "${join(dir, 'net.d')}"`,
    '',
  ].join('\n'));
  return {
    name: 'podman',
    argv: ['podman', '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'overlay'],
    // Its downloads and layer temporaries go to TMPDIR (default /var/tmp): into the temp dir too.
    env: { ...process.env, CONTAINERS_CONF: conf, TMPDIR: join(dir, 'tmp') },
  };
}

function hardLimit(name: string): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name))!;
  return Number(line.slice(name.length).trim().split(/\s+/)[1]);
}

/** An OCI bundle on build/rootfs (absolute: runc refuses a symlinked rootfs), running /bin/true. */
function runcBundle(dir: string): { root: string; bundle: string } {
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle, { recursive: true });
  run('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean }; root: { path: string; readonly: boolean } };
  spec.process.args = ['/bin/true'];
  spec.process.terminal = false;
  spec.root = { path: join(PROJECT, 'build', 'rootfs'), readonly: true };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return { root: join(dir, 'state'), bundle };
}
