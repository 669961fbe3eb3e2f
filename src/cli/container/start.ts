import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { eachContainer } from './each.js';
import { attachTerminal, type Attached } from './attach-terminal.js';

export function registerStart(parent: Command, ctx: CliContext): Command {
  return parent.command('start')
    .description('start one or more stopped containers')
    .argument('<containers...>', 'names or IDs')
    .option('-a, --attach', 'attach stdout and stderr, and pass on signals')
    .option('-i, --interactive', 'attach stdin')
    .action(async (names: string[], opts: { attach?: boolean; interactive?: boolean }) => {
      const engine = ctx.engine();
      if (!opts.attach && !opts.interactive) {
        await eachContainer(names, async (n) => { await engine.startContainer(n); });
        return;
      }
      if (names.length > 1) throw invalid('InvalidFlag', 'you cannot start and attach multiple containers at once');
      let attached: Attached | undefined;
      const info = await engine.startContainer(names[0]!, {
        beforeStart: async (c) => { attached = await attachTerminal(engine, c, { stdin: opts.interactive ?? false, sigProxy: true }); },
      });
      if (!attached) attached = await attachTerminal(engine, info, { stdin: opts.interactive ?? false, sigProxy: true });
      const end = await attached.done;
      if (end === 'detached') return;
      await engine.waitStopped(info.id, 10_000);
      const status = end?.status ?? (await engine.container(info.id)).state.ExitCode;
      if (status !== 0) throw new ExitStatus(status);
    });
}
