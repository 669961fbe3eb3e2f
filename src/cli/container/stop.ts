import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import type { CliContext } from '../context.js';
import { eachContainer } from './each.js';

function timeoutOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw invalid('InvalidFlag', `invalid argument "${text}" for "-t, --timeout" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

/** `stop` and `restart`: the same flags, one verb each. */
export function registerStop(parent: Command, ctx: CliContext, verb: 'stop' | 'restart'): Command {
  return parent.command(verb)
    .description(verb === 'stop' ? 'stop running containers: the stop signal, then SIGKILL after the timeout' : 'stop, then start again, one or more containers')
    .argument('<containers...>', 'names or IDs')
    .option('-t, --timeout <seconds>', 'seconds to wait before SIGKILL (default: the container\'s --stop-timeout, or 10; -1 waits for ever)')
    .option('-s, --signal <signal>', 'signal to send (default: the container\'s --stop-signal, or SIGTERM)')
    .action(async (names: string[], opts: { timeout?: string; signal?: string }) => {
      const engine = ctx.engine();
      const timeout = timeoutOf(opts.timeout);
      const o = { ...(timeout !== undefined ? { timeout } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
      await eachContainer(names, async (n) => { await (verb === 'stop' ? engine.stopContainer(n, o) : engine.restartContainer(n, o)); });
    });
}
