import type { Command } from 'commander';
import { conflict } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { attachTerminal } from './attach-terminal.js';
import { asDaemon } from './each.js';

export function registerAttach(parent: Command, ctx: CliContext): Command {
  return parent.command('attach')
    .description('attach this terminal to a running container\'s input and output (ctrl-p ctrl-q detaches)')
    .argument('<container>', 'name or ID')
    .option('--no-stdin', 'do not attach stdin')
    .option('--sig-proxy', 'pass signals to the container (default true)', true)
    .action(async (name: string, opts: { stdin: boolean; sigProxy: boolean }) => {
      const engine = ctx.engine();
      const info = await asDaemon(async () => {
        const c = await engine.container(name);
        if (!c.state.Running) throw conflict('NotRunning', 'You cannot attach to a stopped container, start it first');
        if (c.state.Paused) throw conflict('Paused', 'You cannot attach to a paused container, unpause it first');
        return c;
      });
      const attached = await attachTerminal(engine, info, { stdin: opts.stdin && (info.body.OpenStdin ?? false), sigProxy: opts.sigProxy });
      const end = await attached.done;
      if (end === 'detached') {
        process.stderr.write('read escape sequence\n');
        return;
      }
      await engine.waitStopped(info.id, 10_000);
      const status = end?.status ?? (await engine.container(info.id)).state.ExitCode;
      if (status !== 0) throw new ExitStatus(status);
    });
}
