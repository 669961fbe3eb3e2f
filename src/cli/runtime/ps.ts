import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { invalid } from '../../util/errors.js';
import type { RuntimeContext } from './index.js';
import { table } from '../format.js';

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

export function registerPs(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('ps')
    .description("list the processes in a container's cgroup (host pids)")
    .argument('<id>', 'container id')
    .option('-f, --format <format>', 'table or json (a JSON array of pids, as runc gives containerd)', 'table')
    .action((id: string, opts: { format: string }) => {
      if (opts.format !== 'table' && opts.format !== 'json') throw invalid('InvalidFormat', `--format "${opts.format}": expected table or json`);
      const pids = ctx.runtime().pids(id);
      if (opts.format === 'json') process.stdout.write(JSON.stringify(pids) + '\n');
      else process.stdout.write(table(['PID', 'CMD'], pids.map((p) => [String(p), commandLine(p)])));
    });
}
