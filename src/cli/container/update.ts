import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import type { CliContext } from '../context.js';
import { updateContainer, type UpdateRequest, validateHostConfig } from '../../engine/index.js';
import { addResourceFlags, resourcesFromFlags } from './flags-host.js';
import { parseRestartPolicy } from './flags-process.js';
import { eachContainer } from './each.js';
import { warn } from '../say.js';

/** `update`: new resource limits (and restart policy) for containers, applied live to running ones. */
export function registerUpdate(program: Command, ctx: CliContext): Command {
  return addResourceFlags(program.command('update'))
    .description('update the resources of one or more containers (live, through their cgroups)')
    .argument('<containers...>', 'names or IDs')
    .option('--restart <policy>', 'no, on-failure[:max-retries], always or unless-stopped')
    .action(async (names: string[], opts: Record<string, unknown>) => {
      const req: UpdateRequest = resourcesFromFlags(opts);
      if (typeof opts.restart === 'string') req.RestartPolicy = parseRestartPolicy(opts.restart);
      if (Object.keys(req).length === 0) throw invalid('NoUpdateFlags', 'You must provide one or more flags when using this command.');
      // A bad value is the command line's fault (125), not any one container's.
      validateHostConfig(req, { update: true });
      const engine = ctx.engine();
      await eachContainer(names, (name) => updateContainer(engine, name, req, warn));
    });
}
