import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { eachContainer } from './each.js';

export function registerKill(parent: Command, ctx: CliContext): Command {
  return parent.command('kill')
    .description('send a signal (default SIGKILL) to running containers')
    .argument('<containers...>', 'names or IDs')
    .option('-s, --signal <signal>', 'signal name or number', 'SIGKILL')
    .action(async (names: string[], opts: { signal: string }) => {
      const engine = ctx.engine();
      await eachContainer(names, async (n) => { await engine.killContainer(n, opts.signal); });
    });
}
