import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { CliContext } from '../context.js';

export function registerContainerPrune(parent: Command, ctx: CliContext): Command {
  return parent.command('prune')
    .description('remove every stopped container')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (opts: { force?: boolean }) => {
      if (!opts.force) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) return;
      }
      const removed = await ctx.engine().pruneContainers();
      process.stdout.write(removed.length ? `Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n` : '');
      process.stdout.write('Total reclaimed space: 0B\n');
    });
}
