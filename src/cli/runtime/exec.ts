import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import type { RuntimeContext } from './index.js';
import { collect } from '../context.js';

function parseUser(text: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw invalid('InvalidUser', `--user "${text}": expected UID[:GID]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

export function registerExec(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('exec')
    .description('run another process inside a running container')
    .argument('<id>', 'container id')
    .argument('<command...>', 'program and arguments')
    .option('-t, --tty', 'allocate a terminal')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [] as string[])
    .option('--cwd <dir>', 'working directory')
    .option('-u, --user <uid[:gid]>', 'run as this user')
    .passThroughOptions()
    .action(async (id: string, command: string[], opts: { tty?: boolean; env: string[]; cwd?: string; user?: string }) => {
      for (const e of opts.env) if (!e.includes('=')) throw invalid('InvalidEnv', `--env "${e}": expected KEY=VALUE`);
      const exec = await ctx.runtime().exec({
        id, args: command, env: opts.env, cwd: opts.cwd, tty: opts.tty, user: opts.user ? parseUser(opts.user) : undefined,
      });
      const result = await exec.wait();
      if (result.status !== 0) throw new ExitStatus(result.status);
    });
}
