import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { imageInspect } from '../../engine/index.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { renderObject } from '../format.js';
import { sayOnStderr } from '../say.js';

export function registerImageInspect(parent: Command, ctx: CliContext): Command {
  return parent.command('inspect')
    .description('show low-level information about images, as JSON')
    .argument('<images...>', 'names or IDs')
    .option('-f, --format <template>', 'Go template, e.g. {{.Id}} or {{json .Config}}')
    .action((names: string[], opts: { format?: string }) => {
      const engine = ctx.engine();
      const found: Record<string, unknown>[] = [];
      let failed = false;
      for (const name of names) {
        try {
          found.push(imageInspect(engine, name));
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          sayOnStderr('Error: ', err.message);
          failed = true;
        }
      }
      if (opts.format) {
        process.stdout.write(found.map((f) => renderObject(opts.format!, f)).join(''));
      } else {
        process.stdout.write(JSON.stringify(found, null, 4) + '\n');
      }
      if (failed) throw new ExitStatus(1);
    });
}
