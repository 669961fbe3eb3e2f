import type { Command } from 'commander';
import type { RuntimeContext } from './index.js';

export function registerState(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('state')
    .description("print a container's state (runtime-spec state JSON)")
    .argument('<id>', 'container id')
    .action((id: string) => {
      process.stdout.write(JSON.stringify(ctx.runtime().stateOf(id), null, 2) + '\n');
    });
}
