import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { eachContainer } from './each.js';

export function registerWait(parent: Command, ctx: CliContext): Command {
  return parent.command('wait')
    .description('block until containers stop, then print their exit codes')
    .argument('<containers...>', 'names or IDs')
    .action(async (names: string[]) => {
      const engine = ctx.engine();
      await eachContainer(names, async (n) => String(await engine.waitContainer(n)));
    });
}
