import type { Command } from 'commander';
import { familiarString } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { progressView } from './progress.js';

export function registerPush(parent: Command, ctx: CliContext): Command {
  return parent.command('push')
    .description('upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'no progress')
    .action(async (name: string, opts: { quiet?: boolean }) => {
      const view = progressView(process.stdout, opts.quiet ?? false);
      try {
        const result = await ctx.engine().push(name, undefined, { onProgress: (p) => view.update(p) });
        view.stop();
        process.stdout.write(`${result.ref.tag ?? familiarString(result.ref)}: digest: ${result.digest} size: ${result.size}\n`);
      } finally {
        view.stop();
      }
    });
}
