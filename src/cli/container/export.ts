import type { Command } from 'commander';
import { errnoCode, invalid } from '../../util/errors.js';
import { exportContainer } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { writeOutputFile } from '../output-file.js';
import { failAsDocker } from './lookup.js';

export function registerExport(parent: Command, ctx: CliContext): Command {
  return parent.command('export')
    .description('write a container\'s whole filesystem as a tar archive')
    .argument('<container>', 'name or ID')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (container: string, opts: { output?: string }) => {
      try {
        if (!opts.output) {
          if (process.stdout.isTTY) throw invalid('StdoutIsTerminal', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
          await exportContainer(ctx.engine(), container, process.stdout);
          return;
        }
        await writeOutputFile(opts.output, (out) => exportContainer(ctx.engine(), container, out));
      } catch (err) {
        // A reader that went away (`berth export c | head`) ends the command quietly.
        if (errnoCode(err) === 'EPIPE' || errnoCode((err as Error).cause) === 'EPIPE') return;
        failAsDocker(err);
      }
    });
}
