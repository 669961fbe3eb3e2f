// `berth internal …`: commands that berth's own parts run, not people —
// hidden from help. A container's monitor runs `internal exited <id>` when
// the container ends (the engine settles the record, removes a --rm
// container, applies the restart policy).
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerInternalHealthcheck } from './internal-healthcheck.js';

export function registerInternal(program: Command, ctx: CliContext): Command {
  const internal = program.command('internal', { hidden: true }).description('commands berth runs itself');
  internal.command('exited')
    .description('the exit hook: a container has ended')
    .argument('<id>', 'container ID')
    .action(async (id: string) => {
      await ctx.engine().containerExited(id);
    });
  registerInternalHealthcheck(internal, ctx);
  return internal;
}
