import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { addCreateFlags, createFromCli, type CreateFlags } from './create-common.js';
import type { ParsedFlags } from './flags.js';
import { attachTerminal, type Attached } from './attach-terminal.js';
import { warn } from '../say.js';

interface RunFlags extends CreateFlags { detach?: boolean; sigProxy: boolean; rm?: boolean }

export function registerRun(parent: Command, ctx: CliContext): Command {
  return addCreateFlags(parent.command('run').description('create and start a container from an image (attached, or -d in the background)'))
    .option('-d, --detach', 'run in the background and print the container ID')
    .option('--no-sig-proxy', 'do not pass signals to the container')
    .action(async (image: string, command: string[], opts: RunFlags & ParsedFlags) => {
      if (opts.tty && opts.interactive && !opts.detach && !process.stdin.isTTY) throw new BerthError('usage', 'NotATerminal', 'the input device is not a TTY');
      const engine = ctx.engine();
      const created = await createFromCli(ctx, image, command, { ...opts, quiet: opts.quiet ?? false }, { attached: !opts.detach, startNow: true });
      if (opts.detach) {
        await engine.startContainer(created.id, { warn });
        process.stdout.write(`${created.id}\n`);
        return;
      }
      // Attached: connect while the process waits to start, so nothing it writes is missed.
      let attached: Attached | undefined;
      try {
        await engine.startContainer(created.id, {
          warn,
          beforeStart: async (info) => { attached = await attachTerminal(engine, info, { stdin: opts.interactive ?? false, sigProxy: opts.sigProxy }); },
        });
      } catch (err) {
        attached?.session.close();
        if (opts.rm) await engine.removeContainer(created.id, { force: true, volumes: true }).catch(() => {});
        throw err;
      }
      const end = await attached!.done;
      if (end === 'detached') return;
      // Docker's run waits for --rm to finish before it returns.
      await engine.waitStopped(created.id, 10_000);
      const info = await engine.container(created.id).catch(() => undefined);
      const status = end?.status ?? info?.state.ExitCode ?? 125;
      if (opts.rm) {
        await engine.settleOwnExit(created.id);
        await engine.removeContainer(created.id, { force: true, volumes: true }).catch(() => {});
      }
      if (status !== 0) throw new ExitStatus(status);
    });
}
