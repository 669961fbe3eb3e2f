// `berth internal healthcheck <id> <status>`: a container's monitor, which
// runs its healthcheck itself (native/health.c), runs this when the health
// status has changed, to record it in the store (see src/engine/health.ts).
// It says nothing: `ps` and `inspect` read the store and the monitor's
// results file.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { HEALTH_STATUSES, recordHealthChange, type HealthStatus } from '../engine/index.js';
import { invalid } from '../util/errors.js';

/** Add `healthcheck` to the hidden `internal` command group. */
export function registerInternalHealthcheck(internal: Command, ctx: CliContext): Command {
  return internal.command('healthcheck')
    .description('a container\'s health status changed: record it')
    .argument('<id>', 'container ID')
    .argument('<status>', `the new status (${HEALTH_STATUSES.join(', ')})`)
    .action((id: string, status: string) => {
      if (!HEALTH_STATUSES.includes(status as HealthStatus)) throw invalid('InvalidHealthStatus', `"${status}" is not a health status (${HEALTH_STATUSES.join(', ')})`);
      recordHealthChange(ctx.engine(), id, status as HealthStatus);
    });
}
