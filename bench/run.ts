// `berth run --rm busybox true` against `docker run --rm` (Debian's
// docker.io, its own dockerd) and `podman run --rm` on the identical
// busybox layer, in the same run, interleaved: the wall time of the whole
// command as a user types it, from spawn to exit. Containers run with
// --network none (berth has no network yet: the same work for all three)
// and --pull never (nothing leaves the host). `runc run` of a bundle on the
// same tree is the floor: a runtime alone, no image, no store, no CLI.
//
//   node --import tsx bench/run.ts [runs]        (default 30 each)
//
// berth runs from bin/berth (dist/: run `npm run build` first) on
// a fresh temporary --root/--run-root with busybox loaded from `berth save`.
// bin/berth loads the CLI bundled into one file (dist/bundle, made by
// scripts/bundle.mjs) when it is newer than tsc's output: with a bundle,
// both are timed, "berth (one file)" and "berth (modules)" (tsc's ~300
// files), on the same root.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT, median, percentile, setUpEngines, type EngineCli } from './engines.js';

const runs = Number(process.argv[2] ?? 30);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs: "${process.argv[2]}" is not a positive number`);

interface Contender {
  label: string;
  command: string;
  once(): void;
  times: number[];
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): () => void {
  return () => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  };
}

function engineRun(e: EngineCli, label = `${e.name} run --rm`): Contender {
  const network = e.name === 'berth' ? [] : ['--network', 'none'];
  const args = [...e.argv.slice(1), 'run', '--rm', ...network, '--pull', 'never', 'busybox', 'true'];
  return { label, command: [e.argv[0], ...args].join(' '), once: timed(e.argv[0]!, args, e.env), times: [] };
}

const engines = await setUpEngines({ runcBundle: true });
try {
  const contenders: Contender[] = [];
  const bundle = join(PROJECT, 'dist', 'bundle', 'cli', 'main.js');
  if (existsSync(bundle)) {
    // Named apart rather than through bin/berth, which picks whichever of the two is newer: another tsc run must not switch it half-way.
    const from = (main: string): EngineCli => ({ ...engines.berth, argv: [process.execPath, main, ...engines.berth.argv.slice(1)] });
    contenders.push(engineRun(from(bundle), 'berth (one file)'));
    contenders.push(engineRun(from(join(PROJECT, 'dist', 'src', 'cli', 'main.js')), 'berth (modules)'));
  } else {
    contenders.push(engineRun(engines.berth));
    console.log('no dist/bundle: bin/berth runs tsc\'s modules (npm run build, or node scripts/bundle.mjs, makes the bundle)');
  }
  if (engines.docker) contenders.push(engineRun(engines.docker));
  if (engines.podman) contenders.push(engineRun(engines.podman));
  if (engines.runc) {
    const { root, bundle } = engines.runc;
    let n = 0;
    const args = (id = `bench-${process.pid}-${n++}`) => ['--root', root, 'run', '--bundle', bundle, id];
    contenders.push({ label: 'runc run (floor)', command: `runc ${args('<id>').join(' ')}`, once: () => timed('runc', args(), process.env)(), times: [] });
  }
  // Untimed: each engine's first container pays for cold caches.
  for (const c of contenders) c.once();
  for (let i = 0; i < runs; i++) {
    // Rotating the order, so that no engine always follows the same one.
    for (let j = 0; j < contenders.length; j++) {
      const c = contenders[(i + j) % contenders.length]!;
      const t0 = performance.now();
      c.once();
      c.times.push(performance.now() - t0);
    }
  }

  console.log(`${runs} runs of each, interleaved; wall time of the whole command, ms`);
  for (const c of contenders) console.log(`  ${c.command}`);
  console.log(`${'command'.padEnd(20)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'min'.padStart(8)}`);
  for (const c of contenders) {
    console.log(`${c.label.padEnd(20)} ${median(c.times).toFixed(0).padStart(8)} ${percentile(c.times, 90).toFixed(0).padStart(8)} ${Math.min(...c.times).toFixed(0).padStart(8)}`);
  }
  const ours = contenders.filter((c) => c.label.startsWith('berth'));
  const theirs = contenders.filter((c) => !c.label.startsWith('berth'));
  for (const b of ours) {
    for (const c of theirs) {
      const goal = c.label.startsWith('docker') ? '  (goal: <= 0.50)' : '';
      const name = c.label.replace(/ run.*/, '');
      console.log(`${b.label}/${name}: ${(median(b.times) / median(c.times)).toFixed(2)} (medians), ${(percentile(b.times, 90) / percentile(c.times, 90)).toFixed(2)} (p90)${goal}`);
    }
  }
  for (const m of engines.missing) console.log(m);
} finally {
  await engines.close();
}
