import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { asDaemon } from './each.js';

interface ExecFlags { detach?: boolean; interactive?: boolean; tty?: boolean; env: string[]; user?: string; workdir?: string }

export function registerExec(parent: Command, ctx: CliContext): Command {
  return parent.command('exec')
    .description('run a command in a running container (in all of its namespaces and its cgroup)')
    .argument('<container>', 'name or ID')
    .argument('<command...>', 'command and arguments')
    .helpOption('--help', 'display help for command')
    .option('-d, --detach', 'run in the background')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a terminal')
    .option('-e, --env <K=V>', 'set an environment variable', collect, [] as string[])
    .option('-u, --user <user[:group]>', 'user name or uid, and group')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .passThroughOptions()
    .action(async (container: string, command: string[], opts: ExecFlags) => {
      if (opts.tty && opts.interactive && !opts.detach && !process.stdin.isTTY) throw new BerthError('usage', 'NotATerminal', 'the input device is not a TTY');
      const env = opts.env.map((e) => (e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : undefined)).filter((e): e is string => e !== undefined);
      const exec = await asDaemon(() => ctx.engine().execInContainer(container, {
        cmd: command, env, tty: opts.tty ?? false, detach: opts.detach ?? false, openStdin: opts.interactive ?? false,
        ...(opts.user !== undefined ? { user: opts.user } : {}),
        ...(opts.workdir !== undefined ? { workdir: opts.workdir } : {}),
        stdio: opts.detach ? ['ignore', 'ignore', 'ignore'] : [opts.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      }));
      if (opts.detach) return;
      const { status } = await asDaemon(() => exec.wait());
      if (status !== 0) throw new ExitStatus(status);
    });
}
