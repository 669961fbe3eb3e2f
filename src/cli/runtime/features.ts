import type { Command } from 'commander';
import { runtimeFeatures } from '../../runtime/features.js';
import type { RuntimeContext } from './index.js';

export function registerFeatures(cmd: Command, _ctx: RuntimeContext): void {
  cmd.command('features')
    .description('print what this runtime implements (runtime-spec features.md)')
    .action(() => {
      process.stdout.write(JSON.stringify(runtimeFeatures(), null, 2) + '\n');
    });
}
