// What a healthcheck costs while a container runs: one `--health-interval
// 1s` container (`--health-cmd true`, so that the probe's own work is
// nothing) over a window (default 60 s), the CPU time of its monitor, of
// every process the monitor starts (probes' helpers, Node hooks) and of the
// probes inside the container, as a percentage of one core. Goal: under 2%.
//
//   node --import tsx bench/health-cpu.ts [seconds] [--cli path/to/main.js]
//
// --cli measures another build (e.g. main's dist/bundle/cli/main.js, with
// its own native/berth-helper) against this one. See cpu-support.ts for how
// the time is counted.
import { setTimeout as sleep } from 'node:timers/promises';
import { benchBerth, cliFromArgs, containerCpuSeconds } from './cpu-support.js';

const seconds = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 60);
if (!(seconds > 0)) throw new Error(`seconds: "${process.argv[2]}" is not a positive number`);
const berth = benchBerth(cliFromArgs(process.argv));
try {
  const id = berth.run('run', '-d', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '3600').trim();
  // Past the first probe and the change to healthy, which run once.
  await sleep(3000);
  const used = () => berth.cgroup.seconds() + containerCpuSeconds(id);
  const health = () => JSON.parse(berth.run('inspect', '-f', '{{json .State.Health}}', id)) as { Status: string; Log: { Start: string }[] };
  const before = health();
  const [cpu0, t0] = [used(), performance.now()];
  await sleep(seconds * 1000);
  const [cpu1, t1] = [used(), performance.now()];
  const after = health();
  const wall = (t1 - t0) / 1000;
  const probes = after.Log.filter((e) => !before.Log.some((b) => b.Start === e.Start)).length;
  console.log(`a --health-interval 1s container over ${wall.toFixed(1)} s (${berth.cli})`);
  console.log(`  status ${after.Status}; at least ${probes} probes in the window (the log keeps 5)`);
  console.log(`  CPU: ${(cpu1 - cpu0).toFixed(3)} s = ${((cpu1 - cpu0) / wall * 100).toFixed(2)}% of one core (goal: < 2%)`);
  console.log(`  per second: ${((cpu1 - cpu0) / wall * 1000).toFixed(1)} ms of CPU (about one probe)`);
} finally {
  berth.close();
}
