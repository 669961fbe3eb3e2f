// `berth run --rm busybox true` against `docker run --rm` (Debian's
// docker.io, its own dockerd) and `podman run --rm` on the identical
// busybox layer, in the same run, interleaved: the wall time of the whole
// command as a user types it, from spawn to exit. Containers run with
// --network none (berth has no network yet: the same work for all three)
// and --pull never (nothing leaves the host). `runc run` of a bundle on the
// same tree is the floor: a runtime alone, no image, no store, no CLI.
//
//   sudo node --import tsx bench/run.ts [runs]        (default 30 each)
//
// berth runs from bin/berth (dist/: run `npx tsc -p tsconfig.json` first) on
// a fresh temporary --root/--run-root with busybox loaded from `berth save`.
import { spawnSync } from 'node:child_process';
import { median, percentile, setUpEngines, type EngineCli } from './engines.js';

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

function engineRun(e: EngineCli): Contender {
  const network = e.name === 'berth' ? [] : ['--network', 'none'];
  const args = [...e.argv.slice(1), 'run', '--rm', ...network, '--pull', 'never', 'busybox', 'true'];
  return { label: `${e.name} run --rm`, command: [e.argv[0], ...args].join(' '), once: timed(e.argv[0]!, args, e.env), times: [] };
}

const engines = await setUpEngines({ runcBundle: true });
try {
  const contenders: Contender[] = [engineRun(engines.berth)];
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
  const berth = median(contenders[0]!.times);
  for (const c of contenders.slice(1)) {
    const goal = c.label.startsWith('docker') ? '  (goal: <= 0.50)' : '';
    console.log(`ratio berth/${c.label.split(' ')[0]}: ${(berth / median(c.times)).toFixed(2)} (medians), ${(percentile(contenders[0]!.times, 90) / percentile(c.times, 90)).toFixed(2)} (p90)${goal}`);
  }
  for (const m of engines.missing) console.log(m);
} finally {
  await engines.close();
}
