// `berth volume …`: Docker's volume commands, over the engine's volume store.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerVolumeCreate } from './create.js';
import { registerVolumeLs } from './ls.js';
import { registerVolumeInspect } from './inspect.js';
import { registerVolumeRm } from './rm.js';
import { registerVolumePrune } from './prune.js';

export function registerVolumeCommands(program: Command, ctx: CliContext): void {
  const volume = program.command('volume').description('manage volumes');
  registerVolumeCreate(volume, ctx);
  registerVolumeLs(volume, ctx);
  registerVolumeInspect(volume, ctx);
  registerVolumeRm(volume, ctx);
  registerVolumePrune(volume, ctx);
}

