import type { Command } from 'commander';
import type { RuntimeContext } from './index.js';
import { table } from '../format.js';

export function registerList(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('list')
    .alias('ls')
    .description('list containers')
    .option('-q, --quiet', 'only ids')
    .option('-f, --format <format>', 'table or json', 'table')
    .action((opts: { quiet?: boolean; format: string }) => {
      const states = ctx.runtime().list();
      if (opts.quiet) {
        for (const s of states) process.stdout.write(`${s.id}\n`);
      } else if (opts.format === 'json') {
        process.stdout.write(JSON.stringify(states) + '\n');
      } else {
        process.stdout.write(table(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED'], states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created])));
      }
    });
}
