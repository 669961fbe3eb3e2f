import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { errnoCode, invalid } from '../../util/errors.js';
import { parseProcess, type SpecProcess } from '../../runtime/spec.js';
import { ExitStatus } from '../exit.js';
import type { RuntimeContext } from './index.js';
import { collect } from '../context.js';

function parseUser(text: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw invalid('InvalidUser', `--user "${text}": expected UID[:GID]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

function readProcess(file: string): SpecProcess {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw invalid('ProcessNotFound', `--process ${file}: no such file`);
    throw invalid('InvalidProcess', `--process ${file}: not valid JSON: ${(err as Error).message}`);
  }
  return parseProcess(value, `--process ${file}`);
}

export function registerExec(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('exec')
    .description('run another process inside a running container')
    .argument('<id>', 'container id')
    .argument('[command...]', 'program and arguments (or --process)')
    .option('-p, --process <file>', 'the whole process as an OCI process JSON (config.json\'s "process"), as runc takes it')
    .option('-d, --detach', 'start it and return, leaving it to the caller\'s subreaper, as runc does for engines')
    .option('--pid-file <file>', 'write the process\'s pid here')
    .option('--console-socket <path>', 'unix socket that receives the terminal master (with a terminal)')
    .option('-t, --tty', 'allocate a terminal')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [] as string[])
    .option('--cwd <dir>', 'working directory')
    .option('-u, --user <uid[:gid]>', 'run as this user')
    .passThroughOptions()
    .action(async (id: string, command: string[], opts: {
      tty?: boolean; env: string[]; cwd?: string; user?: string; process?: string; detach?: boolean; pidFile?: string; consoleSocket?: string;
    }) => {
      for (const e of opts.env) if (!e.includes('=')) throw invalid('InvalidEnv', `--env "${e}": expected KEY=VALUE`);
      const proc = opts.process ? readProcess(opts.process) : undefined;
      if (!proc && command.length === 0) throw invalid('MissingCommand', 'exec: give a command, or --process');
      const exec = await ctx.runtime().exec({
        id, args: proc?.args ?? command, env: opts.env, cwd: opts.cwd, tty: opts.tty, user: opts.user ? parseUser(opts.user) : undefined,
        process: proc, handOff: opts.detach, pidFile: opts.pidFile, consoleSocket: opts.consoleSocket,
      });
      if (opts.detach) return;
      const result = await exec.wait();
      if (result.status !== 0) throw new ExitStatus(result.status);
    });
}
