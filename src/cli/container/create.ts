import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addCreateFlags, createFromCli, type CreateFlags } from './create-common.js';
import type { ParsedFlags } from './flags.js';

export function registerCreate(parent: Command, ctx: CliContext): Command {
  return addCreateFlags(parent.command('create').description('create a new container from an image, without starting it'))
    .action(async (image: string, command: string[], opts: CreateFlags & ParsedFlags) => {
      // As Docker's create: attached to stdout and stderr at start -a; -i attaches stdin too, once.
      const { id } = await createFromCli(ctx, image, command, opts, { attached: true, startNow: false });
      process.stdout.write(`${id}\n`);
    });
}
