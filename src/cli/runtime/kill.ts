import type { Command } from 'commander';
import { signalNumber } from '../../runtime/signals.js';
import type { RuntimeContext } from './index.js';

export function registerKill(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('kill')
    .description("send a signal to a container's process (default SIGTERM)")
    .argument('<id>', 'container id')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'signal every process in the container')
    .action((id: string, signal: string, opts: { all?: boolean }) => {
      ctx.runtime().kill(id, signalNumber(signal), opts.all ?? false);
    });
}
