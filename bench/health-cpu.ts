// What a healthcheck costs while a container runs: one `--health-interval
// 1s` container (`--health-cmd true`, so that the probe's own work is
// nothing) over a window (default 60 s), the CPU time of its monitor, of
// every process the monitor starts (probes' helpers, Node hooks) and of the
// probes inside the container, as a percentage of one core. Goal: under 2%.
//
//   node --import tsx bench/health-cpu.ts [seconds] [--cli main.js]…
//
// With several --cli (e.g. main's dist/bundle/cli/main.js, then this
// checkout's), one container of each runs over the same window, each
// berth in a cgroup of its own. See cpu-support.ts for how time is counted.
import { setTimeout as sleep } from 'node:timers/promises';
import { benchBerth, clisFromArgs, containerCpuSeconds, countFromArgs, type BenchBerth } from './cpu-support.js';

const seconds = countFromArgs(process.argv.slice(2), 60);
const berths: BenchBerth[] = [];
try {
  for (const cli of clisFromArgs(process.argv)) berths.push(benchBerth(cli));
  const ids = berths.map((b) => b.run('run', '-d', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '3600').trim());
  // Past the first probe and the change to healthy, which happen once.
  await sleep(3000);
  const used = () => berths.map((b, i) => b.cgroup.seconds() + containerCpuSeconds(ids[i]!));
  const [cpu0, t0] = [used(), performance.now()];
  await sleep(seconds * 1000);
  const [cpu1, t1] = [used(), performance.now()];
  const wall = (t1 - t0) / 1000;
  console.log(`a --health-interval 1s container (--health-cmd true) over ${wall.toFixed(1)} s; CPU of its monitor, hooks, probes`);
  const shares = berths.map((b, i) => {
    const cpu = cpu1[i]! - cpu0[i]!;
    const status = JSON.parse(b.run('inspect', '-f', '{{json .State.Health.Status}}', ids[i]!)) as string;
    console.log(`  ${b.cli}: ${cpu.toFixed(3)} s = ${(cpu / wall * 100).toFixed(2)}% of one core (goal: < 2%), ${(cpu / wall * 1000).toFixed(1)} ms per second; ${status}`);
    return cpu;
  });
  if (shares.length === 2) console.log(`  second/first: ${(shares[1]! / shares[0]!).toFixed(3)}`);
} finally {
  for (const b of berths) b.close();
}
