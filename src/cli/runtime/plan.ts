import type { Command } from 'commander';
import { planText } from '../../runtime/container.js';
import type { RuntimeContext } from './index.js';

export function registerPlan(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('plan')
    .description('print, in plain words and in order, every step that would make this bundle a container, without running it')
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .argument('[id]', 'container id the plan is made for', '<id>')
    .action((id: string, opts: { bundle: string }) => {
      process.stdout.write(planText(opts.bundle, ctx.root(), id));
    });
}
