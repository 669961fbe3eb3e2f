// Start-and-wait for 100 containers running /bin/true through berth's
// TypeScript API in one Node process, then 100 `runc run` on the same bundle,
// in the same run; print per-container times and the ratio. Then the
// resident memory of berth's monitor while a container sleeps.
//
//   node --import tsx bench/runtime-start.ts [count]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Runtime } from '../src/runtime/container.js';
import { defaultSpec, DOCKER_DEFAULT_CAPABILITIES } from '../src/runtime/defaults.js';
import { dockerDefaultSeccomp } from '../src/runtime/seccomp/docker-default.js';

const count = Number(process.argv[2] ?? 100);
const rootfs = resolve('build/rootfs');
const work = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const bundle = join(work, 'bundle');
spawnSync('mkdir', ['-p', bundle]);
// runc refuses a symlinked rootfs: both runtimes get the absolute path.
const spec = defaultSpec({ args: ['/bin/true'], rootfs, seccomp: dockerDefaultSeccomp(DOCKER_DEFAULT_CAPABILITIES) });
spec.root.readonly = true;
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
const stdio = ['ignore', 'ignore', 'inherit'] as ['ignore', 'ignore', 'inherit'];

async function timeBerth(): Promise<number> {
  const runtime = new Runtime(join(work, 'berth-root'));
  await runtime.run({ id: 'warmup', bundle, stdio });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const r = await runtime.run({ id: `bench-${i}`, bundle, stdio });
    if (r.status !== 0) throw new Error(`berth container ${i} exited ${r.status}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6 / count;
}

function timeRunc(): number | undefined {
  if (spawnSync('runc', ['--version']).status !== 0) return undefined;
  const root = join(work, 'runc-root');
  const run = (id: string) => spawnSync('runc', ['--root', root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  run('warmup');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const r = run(`bench-runc-${i}`);
    if (r.status !== 0) throw new Error(`runc container ${i} exited ${r.status}: ${r.stderr}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6 / count;
}

async function monitorRss(): Promise<number> {
  const runtime = new Runtime(join(work, 'berth-root'));
  const sleepBundle = join(work, 'sleep-bundle');
  spawnSync('mkdir', ['-p', sleepBundle]);
  writeFileSync(join(sleepBundle, 'config.json'), JSON.stringify({ ...spec, process: { ...spec.process, args: ['sleep', '30'] } }));
  const record = await runtime.create({ id: 'rss', bundle: sleepBundle, stdio });
  try {
    runtime.start('rss');
    await new Promise((r) => setTimeout(r, 300));
    const status = readFileSync(`/proc/${record.monitorPid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
  } finally {
    await runtime.delete('rss', true);
  }
}

try {
  const berth = await timeBerth();
  const runc = timeRunc();
  const rss = await monitorRss();
  console.log(`containers: ${count} x /bin/true, busybox bundle, Docker's default seccomp profile`);
  console.log(`berth (TypeScript API, one process): ${berth.toFixed(2)} ms per container`);
  if (runc !== undefined) {
    console.log(`runc run:                            ${runc.toFixed(2)} ms per container`);
    console.log(`ratio berth/runc:                    ${(berth / runc).toFixed(2)}  (goal: <= 1)`);
  } else {
    console.log('runc: not installed (apt-get install runc)');
  }
  console.log(`berth monitor resident memory while a container sleeps: ${rss} KiB (goal: < 1024)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
