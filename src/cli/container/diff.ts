import type { Command } from 'commander';
import { containerChanges } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { failAsDocker } from './lookup.js';

export function registerDiff(parent: Command, ctx: CliContext): Command {
  return parent.command('diff')
    .description('list what a container changed in its filesystem: A added, C changed, D deleted')
    .argument('<container>', 'name or ID')
    .action(async (container: string) => {
      try {
        const changes = await containerChanges(ctx.engine(), container);
        process.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
      } catch (err) {
        failAsDocker(err);
      }
    });
}
