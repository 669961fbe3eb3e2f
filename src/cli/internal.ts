// `berth internal …`: commands that berth's own parts run, not people —
// hidden from help. A container's monitor runs `internal exited <id>` when
// the container ends (the engine settles the record, removes a --rm
// container, applies the restart policy).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE } from '../util/db.js';
import { forgetExitClaim } from '../util/exit-claims.js';
import { ExitStatus } from './exit.js';
import type { CliContext } from './context.js';
import { registerInternalHealthcheck } from './internal-healthcheck.js';

export function registerInternal(program: Command, ctx: CliContext): Command {
  const internal = program.command('internal', { hidden: true }).description('commands berth runs itself')
    // A hook that comes after its root was removed (a test's temporary
    // root, a wiped /var/lib/berth) has nothing to do, and must not make
    // the root again by opening its store.
    .hook('preAction', () => {
      if (!existsSync(join(ctx.engine().root, DB_FILE))) throw new ExitStatus(0);
    });
  internal.command('exited')
    .description('the exit hook: a container has ended')
    .argument('<id>', 'container ID')
    .argument('[token]', 'the run it is about (each start has its own)')
    .action(async (id: string, token?: string) => {
      const engine = ctx.engine();
      await engine.containerExited(id, token);
      // No one comes after the hook for its run: its claim goes.
      if (token !== undefined) forgetExitClaim(engine.runRoot, id, token);
    });
  registerInternalHealthcheck(internal, ctx);
  return internal;
}
