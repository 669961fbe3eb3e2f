import type { Command } from 'commander';
import { BerthError } from '../util/errors.js';
import { ExitStatus } from './exit.js';
import type { CliContext } from './context.js';

export function registerRm(program: Command, ctx: CliContext): void {
  program.command('rm')
    .description('remove stopped containers')
    .argument('<containers...>', 'names or IDs')
    .action(async (names: string[]) => {
      let failed = false;
      for (const name of names) {
        try {
          await ctx.engine().removeContainer(name);
          process.stdout.write(`${name}\n`);
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          process.stderr.write(`Error response from daemon: ${err.message}\n`);
          failed = true;
        }
      }
      if (failed) throw new ExitStatus(1);
    });
}
