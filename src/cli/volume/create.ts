import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { createVolume } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { labelsOf } from './labels.js';

export function registerVolumeCreate(parent: Command, ctx: CliContext): Command {
  return parent.command('create')
    .description('create a volume (a random 64-hex name when none is given)')
    .argument('[name]', 'volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+')
    .option('-d, --driver <driver>', 'volume driver (only "local")', 'local')
    .option('--name <name>', 'volume name (the same as the argument)')
    .option('-l, --label <key=value>', 'set a label', collect, [] as string[])
    .option('-o, --opt <key=value>', 'driver option (berth\'s local driver takes none)', collect, [] as string[])
    .action((arg: string | undefined, opts: { driver: string; name?: string; label: string[]; opt: string[] }) => {
      if (arg !== undefined && opts.name !== undefined && arg !== opts.name) {
        throw invalid('ConflictingOptions', 'conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      }
      const name = arg ?? opts.name;
      const v = createVolume(ctx.engine(), {
        ...(name !== undefined ? { name } : {}), driver: opts.driver, labels: labelsOf(opts.label), options: labelsOf(opts.opt),
      });
      process.stdout.write(`${v.name}\n`);
    });
}
