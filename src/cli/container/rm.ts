import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { eachContainer } from './each.js';

export function registerRm(parent: Command, ctx: CliContext, name = 'rm'): Command {
  return parent.command(name)
    .description('remove containers')
    .argument('<containers...>', 'names or IDs')
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'remove its anonymous volumes too')
    .action(async (names: string[], opts: { force?: boolean; volumes?: boolean }) => {
      const engine = ctx.engine();
      await eachContainer(names, async (n) => { await engine.removeContainer(n, { force: opts.force ?? false, volumes: opts.volumes ?? false }); });
    });
}
