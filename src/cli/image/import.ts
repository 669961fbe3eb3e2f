import type { Command } from 'commander';
import { importImage } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';

export function registerImport(parent: Command, ctx: CliContext): Command {
  return parent.command('import')
    .description('make an image from a root filesystem tarball (file, or - for stdin)')
    .argument('<file>', 'tarball, or - to read stdin')
    .argument('[reference]', 'REPOSITORY[:TAG]')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, …)', collect, [] as string[])
    .option('-m, --message <message>', 'commit message')
    .option('--epoch', 'creation time 1970-01-01 (reproducible image digests)')
    .action(async (file: string, reference: string | undefined, opts: { change: string[]; message?: string; epoch?: boolean }) => {
      const image = await importImage(ctx.engine(), file === '-' ? process.stdin : file, {
        ...(reference ? { reference } : {}),
        changes: opts.change,
        ...(opts.message ? { message: opts.message } : {}),
        ...(opts.epoch ? { created: '1970-01-01T00:00:00Z' } : {}),
      });
      process.stdout.write(`${image.configDigest}\n`);
    });
}
