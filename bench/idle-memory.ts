// The memory an engine keeps per idle container: 100 detached containers
// running `sleep 3600` in each of berth, docker and podman (the identical
// busybox layer, --network none), then the resident (RSS) and proportional
// (PSS, /proc/<pid>/smaps_rollup: shared pages split among their users)
// memory of the process each engine keeps beside each container — the
// parent of the container's init: berth's berth-helper monitor, docker's
// containerd-shim-runc-v2, podman's conmon. Daemons (dockerd, containerd)
// are shown apart: they are there whether 1 or 100 containers run.
//
//   node --import tsx bench/idle-memory.ts [count]     (default 100)
//
// berth uses `berth run -d` when the CLI has it; until then `berth runtime
// create` + `start` of one bundle per container on build/rootfs, marked as
// an interim figure. All containers are removed at the end, on failure too.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, PROJECT, processesMentioning, run, setUpEngines, type EngineCli } from './engines.js';

const count = Number(process.argv[2] ?? 100);
if (!Number.isInteger(count) || count < 1) throw new Error(`count: "${process.argv[2]}" is not a positive number`);
/** Containers started at once: enough to be quick, few enough not to measure a start storm. */
const PARALLEL = 4;

interface Kept {
  pid: number;
  comm: string;
  rssKiB: number;
  pssKiB: number;
}

function memoryOf(pid: number): Kept {
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return { pid, comm, rssKiB: Number(rss?.[1] ?? 0), pssKiB: Number(pss?.[1] ?? 0) };
}

/** The container's cgroup directory, from its init's /proc/<pid>/cgroup (v1 memory controller, else v2). */
function cgroupDirOf(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (v1) return join('/sys/fs/cgroup/memory', v1.split(':')[2]!);
  return join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3));
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * Run a command to its exit. Its stderr goes through a file, not a pipe: a
 * detached container (and its monitor) keeps the streams it was given, and
 * a pipe would not close until the container ends.
 */
function spawnChecked(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const errFile = join(engines.work, `stderr-${stderrFiles++}`);
  return new Promise((done, fail) => {
    const err = openSync(errFile, 'w');
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', err], env });
    closeSync(err);
    child.on('error', fail);
    child.on('exit', (status) => (status === 0 ? done() : fail(new Error(`${cmd} ${args.join(' ')} exited ${status}:\n${readFileSync(errFile, 'utf8')}`))));
  });
}

async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** How one engine starts, finds and removes its idle containers. */
interface Contender {
  label: string;
  command: string;
  expected: string;
  start(name: string): Promise<void>;
  /** The pid of the container's init. */
  initPid(name: string): number;
  removeAll(names: string[]): void;
  started: string[];
  kept: Kept[];
  cgroups: string[];
  daemons?: Kept[];
}

function dockerLike(e: EngineCli, expected: string): Contender {
  const [cmd, ...global] = e.argv as [string, ...string[]];
  const runArgs = ['run', '-d', '--network', 'none', '--pull', 'never', 'busybox', 'sleep', '3600'];
  return {
    label: e.name, expected, command: `${e.name} run -d --name <name> ${runArgs.slice(2).join(' ')}`, started: [], kept: [], cgroups: [],
    start: async (name) => { await spawnChecked(cmd, [...global, runArgs[0]!, runArgs[1]!, '--name', name, ...runArgs.slice(2)], e.env); },
    initPid: (name) => Number(run(cmd, [...global, 'inspect', '-f', '{{.State.Pid}}', name], e.env).trim()),
    removeAll: (names) => {
      for (let i = 0; i < names.length; i += 25) {
        spawnSync(cmd, [...global, 'rm', '-f', ...(e.name === 'podman' ? ['-t', '0'] : []), ...names.slice(i, i + 25)], { stdio: 'ignore', env: e.env });
      }
    },
  };
}

function berthHasDetach(e: EngineCli): boolean {
  const help = spawnSync(e.argv[0]!, [...e.argv.slice(1), 'run', '--help'], { encoding: 'utf8' }).stdout;
  return /-d, --detach/.test(help);
}

function berthRunDetached(e: EngineCli): Contender {
  const [cmd, ...global] = e.argv as [string, ...string[]];
  return {
    label: 'berth', expected: 'berth-helper', command: 'berth run -d --name <name> --pull never busybox sleep 3600', started: [], kept: [], cgroups: [],
    start: async (name) => { await spawnChecked(cmd, [...global, 'run', '-d', '--name', name, '--pull', 'never', 'busybox', 'sleep', '3600'], e.env); },
    initPid: (name) => (JSON.parse(run(cmd, [...global, 'inspect', name], e.env)) as { State: { Pid: number } }[])[0]!.State.Pid,
    removeAll: (names) => {
      for (let i = 0; i < names.length; i += 25) spawnSync(cmd, [...global, 'rm', '-f', ...names.slice(i, i + 25)], { stdio: 'ignore', env: e.env });
    },
  };
}

/** Interim, until `berth run -d` exists: the runtime CLI on one bundle per container. */
function berthRuntime(work: string): Contender {
  const root = join(work, 'berth-runtime');
  const runtime = [BERTH, 'runtime', '--root', join(root, 'state')];
  const spec = join(root, 'template');
  mkdirSync(spec, { recursive: true });
  run(BERTH, ['runtime', 'spec', '--bundle', spec, '--', 'sleep', '3600']);
  const config = JSON.parse(readFileSync(join(spec, 'config.json'), 'utf8')) as { root: { path: string; readonly: boolean } };
  config.root = { path: join(PROJECT, 'build', 'rootfs'), readonly: true };
  return {
    label: 'berth (interim: runtime create+start)', expected: 'berth-helper', started: [], kept: [], cgroups: [],
    command: 'berth runtime create --bundle <bundle> <id> && berth runtime start <id>  (bundle on build/rootfs, read-only)',
    start: async (name) => {
      const bundle = join(root, 'bundles', name);
      mkdirSync(bundle, { recursive: true });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
      await spawnChecked(runtime[0]!, [...runtime.slice(1), 'create', '--bundle', bundle, name], process.env);
      await spawnChecked(runtime[0]!, [...runtime.slice(1), 'start', name], process.env);
    },
    initPid: (name) => (JSON.parse(run(runtime[0]!, [...runtime.slice(1), 'state', name])) as { pid: number }).pid,
    removeAll: (names) => {
      for (const name of names) spawnSync(runtime[0]!, [...runtime.slice(1), 'delete', '--force', name], { stdio: 'ignore' });
    },
  };
}

let stderrFiles = 0;
const engines = await setUpEngines();

const kib = (n: number) => `${(n / 1024).toFixed(1)} MiB`;
const sum = (ks: Kept[], f: (k: Kept) => number) => ks.reduce((a, k) => a + f(k), 0);

const contenders: Contender[] = [];
try {
  contenders.push(berthHasDetach(engines.berth) ? berthRunDetached(engines.berth) : berthRuntime(engines.work));
  if (engines.docker) contenders.push(dockerLike(engines.docker, 'containerd-shim'));
  if (engines.podman) contenders.push(dockerLike(engines.podman, 'conmon'));
  const names = Array.from({ length: count }, (_, i) => `idle-${process.pid}-${i}`);
  for (const c of contenders) {
    process.stderr.write(`${c.label}: starting ${count} containers… `);
    const t0 = performance.now();
    await inParallel(names, async (name) => {
      c.started.push(name);
      await c.start(name);
    });
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  // Let start-up allocations settle (Go's runtime returns what it freed in the background).
  await new Promise((r) => setTimeout(r, 3000));
  for (const c of contenders) {
    for (const name of names) {
      const init = c.initPid(name);
      c.cgroups.push(cgroupDirOf(init));
      const kept = memoryOf(parentOf(init));
      if (!kept.comm.startsWith(c.expected.slice(0, 15))) throw new Error(`${c.label} ${name}: the parent of its init is ${kept.comm} (${kept.pid}), not ${c.expected}`);
      c.kept.push(kept);
    }
    if (new Set(c.kept.map((k) => k.pid)).size !== count) throw new Error(`${c.label}: ${count} containers share fewer processes beside them`);
  }
  const dockerDaemons = processesMentioning(join(engines.work, 'docker')).map(memoryOf).filter((k) => k.comm === 'dockerd' || k.comm === 'containerd');
  const docker = contenders.find((c) => c.label === 'docker');
  if (docker) docker.daemons = dockerDaemons;

  console.log(`${count} idle detached containers (sleep 3600, busybox, --network none) per engine; memory of the process kept beside each container`);
  for (const c of contenders) console.log(`  ${c.label}: ${c.command}`);
  console.log(`${'engine'.padEnd(40)} ${'process'.padEnd(16)} ${'RSS/ctr'.padStart(10)} ${'PSS/ctr'.padStart(10)} ${'RSS total'.padStart(11)} ${'PSS total'.padStart(11)}`);
  for (const c of contenders) {
    const rss = sum(c.kept, (k) => k.rssKiB);
    const pss = sum(c.kept, (k) => k.pssKiB);
    console.log(`${c.label.padEnd(40)} ${c.kept[0]!.comm.padEnd(16)} ${`${(rss / count).toFixed(0)} KiB`.padStart(10)} ${`${(pss / count).toFixed(0)} KiB`.padStart(10)} ${kib(rss).padStart(11)} ${kib(pss).padStart(11)}`);
    for (const d of c.daemons ?? []) console.log(`${'  + daemon, once'.padEnd(40)} ${d.comm.padEnd(16)} ${''.padStart(10)} ${''.padStart(10)} ${kib(d.rssKiB).padStart(11)} ${kib(d.pssKiB).padStart(11)}`);
  }
  const berth = contenders[0]!;
  for (const c of contenders.slice(1)) {
    const r = sum(berth.kept, (k) => k.rssKiB) / sum(c.kept, (k) => k.rssKiB);
    const p = sum(berth.kept, (k) => k.pssKiB) / sum(c.kept, (k) => k.pssKiB);
    console.log(`ratio berth/${c.label}: RSS ${r.toFixed(3)}, PSS ${p.toFixed(3)}  (goal: < 1)`);
  }
  for (const m of engines.missing) console.log(m);
} finally {
  const leftovers: string[] = [];
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const c of contenders) {
    c.removeAll(c.started);
    // Shims and monitors exit just after their container is removed.
    for (let i = 0; i < 50 && c.kept.some((k) => alive(k.pid)); i++) await new Promise((r) => setTimeout(r, 100));
    for (const k of c.kept) if (alive(k.pid)) leftovers.push(`${c.label}: ${k.comm} ${k.pid} still running`);
  }
  for (const c of contenders) {
    for (const dir of c.cgroups) if (existsSync(dir)) leftovers.push(`${c.label}: cgroup ${dir} left`);
  }
  await engines.close();
  if (leftovers.length) {
    console.error(`left behind:\n  ${leftovers.join('\n  ')}`);
    process.exitCode = 1;
  }
}
