import type { Command } from 'commander';
import { parsePlatform, familiarString, formatReference } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { progressView } from './progress.js';

export function registerPull(parent: Command, ctx: CliContext): Command {
  return parent.command('pull')
    .description('download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <os/arch[/variant]>', 'platform to pull (default: this host)')
    .option('-q, --quiet', 'print only the image name')
    .action(async (name: string, opts: { platform?: string; quiet?: boolean }) => {
      const view = progressView(process.stdout, opts.quiet ?? false);
      try {
        const result = await ctx.engine().pull(name, {
          ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}),
          onStart: (ref) => {
            if (!opts.quiet) process.stdout.write(`${ref.tag ?? ref.digest}: Pulling from ${ref.repository}\n`);
          },
          onProgress: (p) => view.update(p),
        });
        view.stop();
        const shown = familiarString(result.ref);
        if (!opts.quiet) {
          process.stdout.write(`Digest: ${result.digest}\n`);
          process.stdout.write(result.changed ? `Status: Downloaded newer image for ${shown}\n` : `Status: Image is up to date for ${shown}\n`);
        }
        process.stdout.write(`${formatReference(result.ref)}\n`);
      } finally {
        view.stop();
      }
    });
}
