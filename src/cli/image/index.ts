// The image commands, at the top level (`berth pull`) and under `berth image`
// (`berth image pull`), as Docker has both.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerPull } from './pull.js';
import { registerPush } from './push.js';
import { registerImages } from './images.js';
import { registerTag } from './tag.js';
import { registerRmi } from './rmi.js';
import { registerImageInspect } from './inspect.js';
import { registerHistory } from './history.js';
import { registerImagePrune } from './prune.js';
import { registerImport } from './import.js';
import { registerLogin } from './login.js';
import { registerSaveLoad } from './save.js';

export function registerImageCommands(program: Command, ctx: CliContext): void {
  registerPull(program, ctx);
  registerPush(program, ctx);
  registerImages(program, ctx);
  registerTag(program, ctx);
  registerRmi(program, ctx);
  registerHistory(program, ctx);
  registerImport(program, ctx);
  registerLogin(program);
  registerSaveLoad(program, ctx);

  const image = program.command('image').description('manage images');
  registerPull(image, ctx);
  registerPush(image, ctx);
  registerImages(image, ctx, 'ls').alias('list');
  registerTag(image, ctx);
  registerRmi(image, ctx, 'rm').alias('remove');
  registerImageInspect(image, ctx);
  registerHistory(image, ctx);
  registerImagePrune(image, ctx);
  registerImport(image, ctx);
  registerSaveLoad(image, ctx);
}
