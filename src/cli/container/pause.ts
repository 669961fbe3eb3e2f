import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { eachContainer } from './each.js';

/** `pause` and `unpause`: every process of the container frozen or thawed through the cgroup freezer. */
export function registerPause(parent: Command, ctx: CliContext, verb: 'pause' | 'unpause'): Command {
  return parent.command(verb)
    .description(verb === 'pause' ? 'freeze every process of running containers (cgroup freezer)' : 'thaw paused containers')
    .argument('<containers...>', 'names or IDs')
    .action(async (names: string[]) => {
      const engine = ctx.engine();
      await eachContainer(names, (n) => (verb === 'pause' ? engine.pauseContainer(n) : engine.unpauseContainer(n)));
    });
}
