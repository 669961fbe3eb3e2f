// The container commands, at the top level (`berth run`) and under
// `berth container` (`berth container run`, `container ls`), as Docker has both.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerCreate } from './create.js';
import { registerRun } from './run.js';
import { registerStart } from './start.js';
import { registerStop } from './stop.js';
import { registerKill } from './kill.js';
import { registerPause } from './pause.js';
import { registerWait } from './wait.js';
import { registerRm } from './rm.js';
import { registerPs } from './ps.js';
import { registerInspect } from './inspect.js';
import { registerRename } from './rename.js';
import { registerPort } from './port.js';
import { registerLogs } from './logs.js';
import { registerAttach } from './attach.js';
import { registerExec } from './exec.js';
import { registerContainerPrune } from './prune.js';
import { registerTop } from './top.js';
import { registerStats } from './stats.js';

function registerVerbs(parent: Command, ctx: CliContext): void {
  registerCreate(parent, ctx);
  registerRun(parent, ctx);
  registerStart(parent, ctx);
  registerStop(parent, ctx, 'stop');
  registerStop(parent, ctx, 'restart');
  registerKill(parent, ctx);
  registerPause(parent, ctx, 'pause');
  registerPause(parent, ctx, 'unpause');
  registerWait(parent, ctx);
  registerRename(parent, ctx);
  registerPort(parent, ctx);
  registerLogs(parent, ctx);
  registerAttach(parent, ctx);
  registerExec(parent, ctx);
  registerTop(parent, ctx);
  registerStats(parent, ctx);
}

export function registerContainerCommands(program: Command, ctx: CliContext): void {
  registerVerbs(program, ctx);
  registerPs(program, ctx);
  registerRm(program, ctx);
  registerInspect(program, ctx);

  const container = program.command('container').description('manage containers');
  registerVerbs(container, ctx);
  registerPs(container, ctx, 'ls').alias('list').alias('ps');
  registerRm(container, ctx).alias('remove');
  registerInspect(container, ctx, true);
  registerContainerPrune(container, ctx);
}
