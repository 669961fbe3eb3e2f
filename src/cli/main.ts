// The berth command. This is the only place that ends the process: commands
// throw BerthErrors, and their kind decides the exit status here.
import { Command, CommanderError } from 'commander';
import { BerthError } from '../util/errors.js';
import { registerRuntime } from './runtime/index.js';
import { logRuntimeError } from './runtime/log.js';
import { ExitStatus } from './exit.js';
import { contextOf } from './context.js';
import { registerImageCommands } from './image/index.js';
import { registerContainerCommands } from './container/index.js';
import { registerInternal } from './internal.js';
import { registerNs } from './ns.js';
import { registerCgroups } from './cgroups.js';
import { registerVolumeCommands } from './volume/index.js';
import { registerUpdate } from './container/update.js';
import { registerCp } from './container/cp.js';
import { registerDiff } from './container/diff.js';
import { registerCommit } from './container/commit.js';
import { registerExport } from './container/export.js';
import { sayOnStderr } from './say.js';
import { registerEvents } from './events.js';


export function buildProgram(): Command {
  const program = new Command('berth')
    .description('A container engine: namespaces decide what a process sees, cgroups how much it gets.')
    .version('0.1.0')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ outputError: (str, write) => write(`berth: ${str.replace(/^error: /, '')}`) })
    .option('--root <dir>', 'where berth keeps images and containers (default: $BERTH_ROOT or /var/lib/berth)')
    .option('--run-root <dir>', 'where berth keeps runtime state (default: $BERTH_RUN_ROOT or /run/berth)');
  const ctx = contextOf(program);
  registerImageCommands(program, ctx);
  registerContainerCommands(program, ctx);
  // A container's filesystem: `berth cp` and `berth container cp`, and so on.
  for (const parent of [program, program.commands.find((c) => c.name() === 'container')!]) {
    registerCp(parent, ctx);
    registerDiff(parent, ctx);
    registerCommit(parent, ctx);
    registerExport(parent, ctx);
  }
  registerInternal(program, ctx);
  registerVolumeCommands(program, ctx);
  registerUpdate(program, ctx);
  registerNs(program, ctx);
  registerCgroups(program, ctx);
  registerEvents(program, ctx);
  registerRuntime(program);
  return program;
}

const ARGUMENT_COUNT_ERRORS = new Set(['commander.missingArgument', 'commander.excessArguments']);

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof ExitStatus) return err.status;
    if (err instanceof CommanderError) {
      // Help and version end with code 0. As in Docker's CLI, a flag it does
      // not know is 125 and a wrong number of arguments is 1.
      if (err.exitCode === 0) return 0;
      return ARGUMENT_COUNT_ERRORS.has(err.code) ? 1 : 125;
    }
    if (err instanceof BerthError) {
      sayOnStderr('berth: ', err.message);
      logRuntimeError(err.message);
      return err.exitStatus;
    }
    sayOnStderr('berth: ', err instanceof Error ? (err.stack ?? err.message) : String(err));
    logRuntimeError(err instanceof Error ? err.message : String(err));
    return 125;
  }
}

// A reader that went away (`berth logs c | head`) ends the command quietly, as in Docker.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv);
