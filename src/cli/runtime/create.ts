import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import type { RuntimeContext } from './index.js';

export function registerCreate(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('create')
    .description('create a container from a bundle; its process waits for `start`')
    .argument('<id>', 'container id')
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .option('--pid-file <file>', 'write the container process pid here')
    .option('--console-socket <path>', 'unix socket that receives the terminal master (process.terminal)')
    .option('--no-new-keyring', 'accepted as runc\'s: berth never makes a session keyring')
    .option('--no-pivot', 'refused: berth always uses pivot_root')
    .option('--preserve-fds <n>', 'pass n fds after stdio to the container (only 0 is supported)', '0')
    .action(async (id: string, opts: { bundle: string; pidFile?: string; consoleSocket?: string; pivot: boolean; preserveFds: string }) => {
      if (!opts.pivot) throw invalid('NoPivotUnsupported', '--no-pivot: berth always uses pivot_root (a rootfs on ramfs cannot be pivoted from); drop the option');
      if (opts.preserveFds !== '0') throw invalid('PreserveFdsUnsupported', `--preserve-fds ${opts.preserveFds}: berth passes the container only its stdio`);
      // As runc: the container's process is left to the caller's subreaper.
      await ctx.runtime().create({ id, bundle: opts.bundle, pidFile: opts.pidFile, consoleSocket: opts.consoleSocket, handOff: true });
    });
}
