import type { Command } from 'commander';
import type { RuntimeContext } from './index.js';

export function registerDelete(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('delete')
    .description('delete a stopped container and everything it holds on the host')
    .argument('<id>', 'container id')
    .option('-f, --force', 'kill the container first if it is not stopped')
    .action(async (id: string, opts: { force?: boolean }) => {
      await ctx.runtime().delete(id, opts.force ?? false);
    });
}
