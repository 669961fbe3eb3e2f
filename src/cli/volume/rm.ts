import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { removeVolume } from '../../engine/index.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { sayOnStderr } from '../say.js';

export function registerVolumeRm(parent: Command, ctx: CliContext): Command {
  return parent.command('rm').alias('remove')
    .description('remove volumes (never one a container uses)')
    .argument('<volumes...>', 'volume names')
    .option('-f, --force', 'no error for a volume that does not exist')
    .action((names: string[], opts: { force?: boolean }) => {
      let failed = false;
      for (const name of names) {
        try {
          removeVolume(ctx.engine(), name, { force: opts.force ?? false });
          process.stdout.write(`${name}\n`);
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          sayOnStderr('Error response from daemon: ', err.message);
          failed = true;
        }
      }
      if (failed) throw new ExitStatus(1);
    });
}
