// How soon `berth wait` returns after its container ends: the time from the
// exit (State.FinishedAt, which the container's monitor takes when it reaps
// the process) to the moment `wait`'s exit code reaches us, over N runs;
// median and p95. The goal on a quiet host is under 50 ms.
//
//   node --import tsx bench/wait-latency.ts [runs]        (default 20)
//   BERTH_BIN=/other/bin/berth node --import tsx bench/wait-latency.ts   another build, to compare
//
// Each run starts `run -d busybox sleep 3`, then `berth wait` at once (it is
// waiting long before the three seconds are up, unless the host is so busy
// that starting Node takes that long: the load average is printed too), on a
// fresh temporary root with the built-in busybox image.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { BERTH, PROJECT, median, percentile, run, removeTree } from './engines.js';

const runs = Number(process.argv[2] ?? 20);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs: "${process.argv[2]}" is not a positive number`);
const bin = process.env.BERTH_BIN ?? BERTH;

const root = mkdtempSync('/tmp/berth-wait-latency-');
const flags = ['--root', join(root, 'data'), '--run-root', join(root, 'run')];
const berth = (...args: string[]) => run(bin, [...flags, ...args]).trim();

/** `berth wait id`: resolves with the time its output arrived. */
function waitFor(id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...flags, 'wait', id], { stdio: ['ignore', 'pipe', 'inherit'] });
    let at: number | undefined;
    child.stdout.on('data', () => { at ??= Date.now(); });
    child.on('close', (code) => (code === 0 && at !== undefined ? resolve(at) : reject(new Error(`wait exited ${code}`))));
  });
}

try {
  const tarball = join(root, 'busybox.tar');
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', join(PROJECT, 'build', 'busybox-bundle', 'rootfs'), '-cf', tarball, '.']);
  berth('import', '--change', 'CMD ["sh"]', tarball, 'busybox:latest');
  const latencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = berth('run', '-d', 'busybox', 'sleep', '3');
    const returned = await waitFor(id);
    const finished = Date.parse(berth('inspect', '-f', '{{.State.FinishedAt}}', id));
    latencies.push(returned - finished);
    berth('rm', id);
  }
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  process.stdout.write(`berth wait, container exit → wait returns, ${runs} runs (${bin}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}):\n`);
  process.stdout.write(`  median ${fmt(median(latencies))}, p95 ${fmt(percentile(latencies, 95))}, min ${fmt(Math.min(...latencies))}, max ${fmt(Math.max(...latencies))}\n`);
  process.stdout.write(`  each: ${latencies.map((l) => l.toFixed(0)).join(' ')}\n`);
} finally {
  spawnSync(bin, [...flags, 'rm', '-f', ...spawnSync(bin, [...flags, 'ps', '-aq'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)]);
  removeTree(root);
}
