// CPU time, not wall time: what `berth run --rm busybox true` costs in all,
// the CLI and every process it leads to (the helper, the monitor, the exit
// hook, wherever they are reparented), per run; and what 20 containers
// that exit at the same moment cost in their exit hooks.
//
//   node --import tsx bench/run-cpu.ts [runs] [--cli path/to/main.js]     (default 20 runs)
//
// --cli measures another build (e.g. main's dist/bundle/cli/main.js, with
// its own native/berth-helper) against this one. See cpu-support.ts for how
// the time is counted. The containers' own processes (/bin/true, cat) are in
// their own cgroups and not counted.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { median, percentile } from './engines.js';
import { benchBerth, cliFromArgs, waitEmpty } from './cpu-support.js';

const runs = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 20);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs: "${process.argv[2]}" is not a positive number`);
const EXITING = 20;
const berth = benchBerth(cliFromArgs(process.argv));
try {
  // run --rm busybox true: from the CLI's start until its hook, too, is over.
  berth.run('run', '--rm', 'busybox', 'true'); // untimed: cold caches
  waitEmpty(berth.cgroup, 30_000);
  const perRun: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = berth.cgroup.seconds();
    berth.run('run', '--rm', 'busybox', 'true');
    waitEmpty(berth.cgroup, 30_000);
    perRun.push(berth.cgroup.seconds() - before);
  }

  // 20 detached containers blocked opening one FIFO for reading; one open
  // for writing and its close let them all read EOF and exit together.
  const shared = join(berth.work, 'shared');
  mkdirSync(shared);
  spawnSync('mkfifo', [join(shared, 'go')]);
  for (let i = 0; i < EXITING; i++) berth.run('run', '-d', '-v', `${shared}:/shared`, 'busybox', 'cat', '/shared/go');
  // Only the monitors are left in the cgroup, idle.
  const before = berth.cgroup.seconds();
  closeSync(openSync(join(shared, 'go'), 'w'));
  waitEmpty(berth.cgroup, 120_000);
  const hooks = berth.cgroup.seconds() - before;
  const exited = berth.run('ps', '-a', '--filter', 'status=exited', '-q').split('\n').filter(Boolean).length;

  console.log(`CPU seconds (user+sys) in a cgroup of their own; ${berth.cli}`);
  console.log(`run --rm busybox true, ${runs} runs, CLI + helper + monitor + exit hook:`);
  console.log(`  median ${median(perRun).toFixed(3)} s, p90 ${percentile(perRun, 90).toFixed(3)} s, min ${Math.min(...perRun).toFixed(3)} s`);
  console.log(`${EXITING} containers exiting at once (${exited} exited): monitors' ends and exit hooks`);
  console.log(`  ${hooks.toFixed(3)} s in all, ${(hooks / EXITING).toFixed(3)} s per container`);
} finally {
  berth.close();
}
