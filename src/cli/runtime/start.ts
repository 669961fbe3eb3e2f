import type { Command } from 'commander';
import type { RuntimeContext } from './index.js';

export function registerStart(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('start')
    .description('run the program of a created container')
    .argument('<id>', 'container id')
    .action((id: string) => ctx.runtime().start(id));
}
