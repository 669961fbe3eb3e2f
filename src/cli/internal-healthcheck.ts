// `berth internal healthcheck <id>`: one tick of a container's healthcheck,
// forked by its monitor every interval (see src/engine/health.ts). It probes
// only when a probe is due, and says nothing: the result goes to the store,
// where `ps` and `inspect` read it.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { runHealthcheck } from '../engine/index.js';

/** Add `healthcheck` to the hidden `internal` command group. */
export function registerInternalHealthcheck(internal: Command, ctx: CliContext): Command {
  return internal.command('healthcheck')
    .description('one tick of a container\'s healthcheck: probe if due, record the result')
    .argument('<id>', 'container ID')
    .option('--force', 'probe now, due or not')
    .action(async (id: string, opts: { force?: boolean }) => {
      await runHealthcheck(ctx.engine(), id, { force: opts.force ?? false });
    });
}
