import type { Command } from 'commander';
import type { RuntimeContext } from './index.js';

export function registerPauseResume(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('pause')
    .description('freeze every process of a running container (cgroup freezer)')
    .argument('<id>', 'container id')
    .action((id: string) => ctx.runtime().pause(id));
  cmd.command('resume')
    .description('thaw a paused container')
    .argument('<id>', 'container id')
    .action((id: string) => ctx.runtime().resume(id));
}
