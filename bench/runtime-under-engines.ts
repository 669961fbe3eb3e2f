// berth as the runc of other engines, against runc itself, interleaved in one
// run: `ctr run --rm busybox true` through containerd with each as
// --runc-binary, and `berth runtime state` against `runc state` on a created
// container of the same bundle. containerd runs on its own socket and
// directories under a temporary root and is stopped at the end; the image is
// busybox:latest saved from berth's built-in one.
//
//   node --import tsx bench/runtime-under-engines.ts [count]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BERTH, median, run } from './engines.js';
import { defaultSpec } from '../src/runtime/defaults.js';
import { startContainerd } from '../test/containerd-support.js';

const count = Number(process.argv[2] ?? 10);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-engines-'));
const address = join(work, 'containerd.sock');
const cgroupParent = `berth-bench-${process.pid}`;
const hostDirsBefore = new Set(['/run/containerd/s', '/run/containerd'].filter((d) => existsSync(d)));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

const berthRunc = join(work, 'berth-runc');
writeFileSync(berthRunc, `#!/bin/sh\nexec '${BERTH}' runtime "$@"\n`);
chmodSync(berthRunc, 0o755);

const containerd = startContainerd({ configDir: work, dataDir: work, address });
const ctr = (...args: string[]) => spawnSync('ctr', ['--address', address, '--namespace', 'bench', ...args], { encoding: 'utf8' });

function ctrRun(binary: string, id: string): number {
  const t0 = process.hrtime.bigint();
  const r = ctr('run', '--rm', '--net-host', '--cgroup', `/${cgroupParent}/${id}`, '--fifo-dir', join(work, 'fifo'), '--runc-root', join(work, 'runc-root'),
    '--runc-binary', binary, 'docker.io/library/busybox:latest', id, 'true');
  if (r.status !== 0) throw new Error(`ctr run with ${binary}: ${r.stderr}`);
  return ms(t0);
}

function timeState(cmd: string[], id: string): number {
  const t0 = process.hrtime.bigint();
  run(cmd[0]!, [...cmd.slice(1), 'state', id]);
  return ms(t0);
}

try {
  for (let i = 0; i < 100 && ctr('version').status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const berthRoot = join(work, 'berth');
  const b = (...args: string[]) => run(BERTH, ['--root', join(berthRoot, 'data'), '--run-root', join(berthRoot, 'run'), ...args]);
  const tar = join(work, 'rootfs.tar');
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', resolve('build/rootfs'), '-cf', tar, '.']);
  b('import', '--epoch', '--change', 'CMD ["sh"]', tar, 'busybox:latest');
  b('save', '-o', join(work, 'image.tar'), 'busybox:latest');
  run('ctr', ['--address', address, '--namespace', 'bench', 'image', 'import', join(work, 'image.tar')]);

  const times = { berth: [] as number[], runc: [] as number[] };
  ctrRun(berthRunc, 'warm-berth');
  ctrRun('/usr/sbin/runc', 'warm-runc');
  for (let i = 0; i < count; i++) {
    times.berth.push(ctrRun(berthRunc, `b${i}`));
    times.runc.push(ctrRun('/usr/sbin/runc', `r${i}`));
  }
  const mb = median(times.berth);
  const mr = median(times.runc);
  console.log(`ctr run --rm busybox true, median of ${count}: berth ${mb.toFixed(0)} ms, runc ${mr.toFixed(0)} ms (${(mb / mr).toFixed(2)}x)`);

  // state on a created container of one bundle, each runtime on its own root.
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  // runc refuses a symlinked rootfs (build/ may be a link).
  const spec = defaultSpec({ args: ['/bin/true'], rootfs: realpathSync('build/rootfs') });
  spec.root.readonly = true;
  spec.linux!.cgroupsPath = `/${cgroupParent}/state`;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const berthRt = [BERTH, 'runtime', '--root', join(work, 'berth-state')];
  // A created container keeps the stdio it was given: none, so no pipe waits for it.
  const runcRt = ['/usr/sbin/runc', '--root', join(work, 'runc-state')];
  const create = (rt: string[]) => {
    const r = spawnSync(rt[0]!, [...rt.slice(1), 'create', '--bundle', bundle, 'st'], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${rt.join(' ')} create failed (${r.status ?? r.signal})`);
  };
  create(berthRt);
  spec.linux!.cgroupsPath = `/${cgroupParent}/state-runc`;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  create(runcRt);
  const state = { berth: [] as number[], runc: [] as number[] };
  for (let i = 0; i < count * 3; i++) {
    state.berth.push(timeState(berthRt, 'st'));
    state.runc.push(timeState(runcRt, 'st'));
  }
  const sb = median(state.berth);
  const sr = median(state.runc);
  console.log(`state of a created container, median of ${count * 3}: berth ${sb.toFixed(0)} ms, runc ${sr.toFixed(0)} ms (${(sb / sr).toFixed(1)}x)`);
} finally {
  spawnSync(BERTH, ['runtime', '--root', join(work, 'berth-state'), 'delete', '--force', 'st']);
  spawnSync('/usr/sbin/runc', ['--root', join(work, 'runc-state'), 'delete', '--force', 'st']);
  const exited = new Promise((r) => containerd.once('exit', r));
  containerd.kill('SIGTERM');
  await exited;
  for (const h of ['', ...readdirSync('/sys/fs/cgroup')]) {
    const dir = join('/sys/fs/cgroup', h, cgroupParent);
    if (!existsSync(dir)) continue;
    try {
      for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) rmdirSync(join(dir, child.name));
      rmdirSync(dir);
    } catch (err) {
      console.error(`left ${dir}: ${(err as Error).message}`);
    }
  }
  for (const dir of ['/run/containerd/s', '/run/containerd']) {
    if (!hostDirsBefore.has(dir) && existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  }
  rmSync(work, { recursive: true, force: true });
}
