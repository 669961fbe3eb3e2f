// CPU time, not wall time: what `berth run --rm busybox true` costs in all,
// the CLI and every process it leads to (the helper, the monitor, the exit
// hook, wherever they are reparented), per run; and what 20 containers
// that exit at the same moment cost in their exit hooks.
//
//   node --import tsx bench/run-cpu.ts [runs] [--cli main.js]…     (default 20 runs)
//
// With several --cli (e.g. main's dist/bundle/cli/main.js, then this
// checkout's), the runs alternate between them and the ratio is printed.
// See cpu-support.ts for how the time is counted. The containers' own processes (/bin/true, cat) are in
// their own cgroups and not counted.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { median, percentile } from './engines.js';
import { benchBerth, clisFromArgs, countFromArgs, waitEmpty, type BenchBerth } from './cpu-support.js';

const runs = countFromArgs(process.argv.slice(2), 20);
const EXITING = 20;
const berths: BenchBerth[] = [];

/** One `run --rm busybox true`, from the CLI's start until its hook, too, is over: CPU seconds. */
function runRm(b: BenchBerth): number {
  const before = b.cgroup.seconds();
  b.run('run', '--rm', 'busybox', 'true');
  waitEmpty(b.cgroup, 30_000);
  return b.cgroup.seconds() - before;
}

/**
 * 20 detached containers blocked opening one FIFO for reading; one open
 * for writing and its close let them all read EOF and exit together. CPU
 * seconds from then until every monitor and hook is gone.
 */
function exitingAtOnce(b: BenchBerth): number {
  const shared = join(b.work, 'shared');
  mkdirSync(shared);
  spawnSync('mkfifo', [join(shared, 'go')]);
  for (let i = 0; i < EXITING; i++) b.run('run', '-d', '-v', `${shared}:/shared`, 'busybox', 'cat', '/shared/go');
  // Only the monitors are left in the cgroup, idle.
  const before = b.cgroup.seconds();
  closeSync(openSync(join(shared, 'go'), 'w'));
  waitEmpty(b.cgroup, 120_000);
  const used = b.cgroup.seconds() - before;
  const exited = b.run('ps', '-a', '--filter', 'status=exited', '-q').split('\n').filter(Boolean).length;
  if (exited !== EXITING) throw new Error(`${b.cli}: ${exited} of ${EXITING} containers exited`);
  return used;
}

try {
  for (const cli of clisFromArgs(process.argv)) berths.push(benchBerth(cli));
  for (const b of berths) runRm(b); // untimed: cold caches
  const perRun = berths.map(() => [] as number[]);
  // Interleaved, so that each build sees the same host load.
  for (let i = 0; i < runs; i++) berths.forEach((b, j) => perRun[j]!.push(runRm(b)));
  const hooks = berths.map(exitingAtOnce);

  console.log('CPU seconds (user+sys), each berth in a cgroup of its own');
  berths.forEach((b, j) => {
    const xs = perRun[j]!;
    console.log(`${b.cli}`);
    console.log(`  run --rm busybox true (CLI, helper, monitor, exit hook), ${runs} runs: median ${median(xs).toFixed(3)} s, p90 ${percentile(xs, 90).toFixed(3)} s, min ${Math.min(...xs).toFixed(3)} s`);
    console.log(`  ${EXITING} containers exiting at once, monitors' ends and exit hooks: ${hooks[j]!.toFixed(3)} s, ${(hooks[j]! / EXITING).toFixed(3)} s per container`);
  });
  if (berths.length === 2) {
    console.log(`second/first: run --rm ${(median(perRun[1]!) / median(perRun[0]!)).toFixed(3)} (medians; goal <= 0.70), exit hooks ${(hooks[1]! / hooks[0]!).toFixed(3)} (goal <= 0.33)`);
  }
} finally {
  for (const b of berths) b.close();
}
