import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { asDaemon } from './each.js';

export function registerRename(parent: Command, ctx: CliContext): Command {
  return parent.command('rename')
    .description('rename a container')
    .argument('<container>', 'name or ID')
    .argument('<new-name>', 'its new name')
    .action(async (name: string, newName: string) => {
      await asDaemon(() => ctx.engine().renameContainer(name, newName));
    });
}
