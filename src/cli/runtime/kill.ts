import type { Command } from 'commander';
import { constants } from 'node:os';
import { invalid } from '../../util/errors.js';
import type { RuntimeContext } from './index.js';

/** "KILL", "SIGKILL", "kill" or "9" → a signal Node accepts. */
export function parseSignal(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw invalid('InvalidSignal', `invalid signal "${text}"`);
    return n;
  }
  const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw invalid('InvalidSignal', `invalid signal "${text}"`);
  return name;
}

export function registerKill(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('kill')
    .description("send a signal to a container's process (default SIGTERM)")
    .argument('<id>', 'container id')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'signal every process in the container')
    .action((id: string, signal: string, opts: { all?: boolean }) => {
      ctx.runtime().kill(id, parseSignal(signal), opts.all ?? false);
    });
}
