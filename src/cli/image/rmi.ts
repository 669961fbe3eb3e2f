import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { familiarString, parseReference, removeImage } from '../../engine/index.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { sayOnStderr } from '../say.js';

export function registerRmi(parent: Command, ctx: CliContext, name = 'rmi'): Command {
  return parent.command(name)
    .description('remove images')
    .argument('<images...>', 'names or IDs')
    .option('-f, --force', 'remove even if a container uses it or it has several names')
    .action((names: string[], opts: { force?: boolean }) => {
      let failed = false;
      for (const text of names) {
        try {
          const report = removeImage(ctx.engine(), text, opts.force ?? false);
          for (const u of report.untagged) process.stdout.write(`Untagged: ${familiarString(parseReference(u))}\n`);
          for (const d of report.deleted) process.stdout.write(`Deleted: ${d}\n`);
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          sayOnStderr('Error response from daemon: ', err.message);
          failed = true;
        }
      }
      if (failed) throw new ExitStatus(1);
    });
}
