// Where the wall time of `berth run --rm busybox true` goes: every program
// it starts (mount, umount, the helper, the container's /bin/true, the
// monitor's exit hook) on a timeline, from strace's execve and exit_group
// events, the median over N runs; then `node -e 0` and `berth --version`
// for what starting Node and loading berth's modules cost alone.
//
//   node --import tsx bench/run-phases.ts [runs]       (default 10)
//
// strace (--seccomp-bpf: only the traced calls stop) adds little; compare
// the untraced total printed last. berth runs from dist/bundle when there
// is one (else bin/berth) on a fresh temporary root with busybox loaded
// from `berth save`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BERTH, PROJECT, have, median, setUpEngines } from './engines.js';

const runs = Number(process.argv[2] ?? 10);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs: "${process.argv[2]}" is not a positive number`);
if (!have('strace')) throw new Error('strace: not installed (apt-get install strace)');

interface Event {
  label: string;
  ms: number;
}

/** One traced run: its events in time order, labelled by program and occurrence (mount#1, mount#2…). */
function tracedRun(argv: string[], out: string): Event[] {
  const r = spawnSync('strace', ['--seccomp-bpf', '-f', '-qq', '-s', '512', '-tt', '-e', 'trace=execve,exit_group', '-e', 'signal=none', '-o', out, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const lines = readFileSync(out, 'utf8').split('\n');
  rmSync(out);
  const at = (time: string) => {
    const [h, m, s] = time.split(':').map(Number) as [number, number, number];
    return ((h * 60 + m) * 60 + s) * 1000;
  };
  const programOf = new Map<string, string>();
  const seen = new Map<string, number>();
  const events: Event[] = [];
  let t0: number | undefined;
  let cli: string | undefined;
  const push = (what: string, time: number) => {
    const n = (seen.get(what) ?? 0) + 1;
    seen.set(what, n);
    events.push({ label: n === 1 ? what : `${what}#${n}`, ms: time - t0! });
  };
  for (const line of lines) {
    const m = /^(\d+)\s+(\d\d:\d\d:\d\d\.\d+) (execve|exit_group)\((.*)/.exec(line);
    if (!m) continue;
    const [, pid, time, call, rest] = m as unknown as [string, string, string, string, string];
    if (call === 'execve') {
      if (/= -1 /.test(rest)) continue;
      const args = JSON.parse(`[${/\[(.*?)\]/.exec(rest)?.[1] ?? ''}]`.replace(/"\.\.\./g, '"')) as string[];
      t0 ??= at(time);
      cli ??= pid;
      let program = basename(/^"([^"]*)"/.exec(rest)![1]!);
      if (program === 'node' && args.includes('internal')) program = `node (hook: ${args.slice(args.indexOf('internal') + 1, args.indexOf('internal') + 2).join(' ')})`;
      else if (pid === cli) program = program === 'berth' ? 'berth' : 'node (CLI)';
      if (pid === cli && programOf.has(pid)) {
        // The CLI's own re-exec (env -S node): the same process, a new program.
        programOf.set(pid, program);
        push(`exec ${program}`, at(time));
        continue;
      }
      programOf.set(pid, program);
      push(`exec ${program}`, at(time));
    } else if (programOf.has(pid)) {
      push(`exit ${programOf.get(pid)!}`, at(time));
      programOf.delete(pid);
    }
  }
  return events;
}

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

const engines = await setUpEngines({ berthOnly: true });
try {
  // The bundle when there is one (as bin/berth would pick after `npm run build`), named outright.
  const bundle = join(PROJECT, 'dist', 'bundle', 'cli', 'main.js');
  const cli = existsSync(bundle) ? [process.execPath, bundle] : [BERTH];
  const argv = [...cli, ...engines.berth.argv.slice(1), 'run', '--rm', '--pull', 'never', 'busybox', 'true'];
  tracedRun(argv, join(engines.work, 'warmup.strace'));
  const all: Event[][] = [];
  const plain: number[] = [];
  const node: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < runs; i++) {
    all.push(tracedRun(argv, join(engines.work, `run-${i}.strace`)));
    plain.push(timed(argv[0]!, argv.slice(1)));
    node.push(timed(process.execPath, ['-e', '0']));
    version.push(timed(cli[0]!, [...cli.slice(1), '--version']));
  }
  // The events every run had, at their median times.
  const labels = all[0]!.map((e) => e.label).filter((l) => all.every((run) => run.some((e) => e.label === l)));
  const timeline = labels.map((label) => ({ label, ms: median(all.map((run) => run.find((e) => e.label === label)!.ms)) })).sort((a, b) => a.ms - b.ms);
  console.log(`berth run --rm busybox true, ${runs} traced runs; median time of each event since the CLI's exec, ms`);
  console.log(`  ${argv.join(' ')}`);
  let previous = 0;
  for (const e of timeline) {
    console.log(`${e.ms.toFixed(0).padStart(7)}  (+${(e.ms - previous).toFixed(0).padStart(4)})  ${e.label}`);
    previous = e.ms;
  }
  console.log(`untraced, median of ${runs}:`);
  console.log(`  node -e 0:                           ${median(node).toFixed(0).padStart(5)} ms`);
  console.log(`  berth --version (node + modules):    ${median(version).toFixed(0).padStart(5)} ms`);
  console.log(`  berth run --rm busybox true:         ${median(plain).toFixed(0).padStart(5)} ms`);
} finally {
  await engines.close();
}
