import type { Command } from 'commander';
import type { RuntimeContext } from './index.js';

export function registerCreate(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('create')
    .description('create a container from a bundle; its process waits for `start`')
    .argument('<id>', 'container id')
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .option('--pid-file <file>', 'write the container process pid here')
    .option('--console-socket <path>', 'unix socket that receives the terminal master (process.terminal)')
    .action(async (id: string, opts: { bundle: string; pidFile?: string; consoleSocket?: string }) => {
      // As runc: the container's process is left to the caller's subreaper.
      await ctx.runtime().create({ id, bundle: opts.bundle, pidFile: opts.pidFile, consoleSocket: opts.consoleSocket, handOff: true });
    });
}
