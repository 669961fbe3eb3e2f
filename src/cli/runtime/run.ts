import type { Command } from 'commander';
import { ExitStatus } from '../exit.js';
import type { RuntimeContext } from './index.js';

export function registerRun(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('run')
    .description('create and start a container, attached: stdin and signals are forwarded and its exit status returned')
    .argument('<id>', 'container id')
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .option('--keep', 'do not delete the container when it exits')
    .action(async (id: string, opts: { bundle: string; keep?: boolean }) => {
      const result = await ctx.runtime().run({ id, bundle: opts.bundle, keep: opts.keep });
      if (result.oomKilled) process.stderr.write(`berth: container "${id}" was killed by the OOM killer (memory limit reached)\n`);
      if (result.status !== 0) throw new ExitStatus(result.status);
    });
}
