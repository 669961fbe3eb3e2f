import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { dockerVolume, volume } from '../../engine/index.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { renderObject } from '../format.js';
import { sayOnStderr } from '../say.js';

export function registerVolumeInspect(parent: Command, ctx: CliContext): Command {
  return parent.command('inspect')
    .description('show volumes as JSON')
    .argument('<volumes...>', 'volume names')
    .option('-f, --format <template>', 'Go template, e.g. {{.Mountpoint}} or {{json .Labels}}')
    .action((names: string[], opts: { format?: string }) => {
      const found: Record<string, unknown>[] = [];
      let failed = false;
      for (const name of names) {
        try {
          found.push(dockerVolume(volume(ctx.engine(), name)));
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          sayOnStderr('Error response from daemon: ', err.message);
          failed = true;
        }
      }
      const format = opts.format;
      process.stdout.write(format ? found.map((f) => renderObject(format, f)).join('') : `${JSON.stringify(found, null, 4)}\n`);
      if (failed) throw new ExitStatus(1);
    });
}
