// What every Docker-style command needs: the engine for the global --root and
// --run-root, and a way to say something on stderr.
import type { Command } from 'commander';
import { Engine } from '../engine/index.js';

export interface CliContext {
  engine(): Engine;
}

export function contextOf(program: Command): CliContext {
  let engine: Engine | undefined;
  return {
    engine: () => {
      const opts = program.opts<{ root?: string; runRoot?: string }>();
      engine ??= new Engine({ root: opts.root, runRoot: opts.runRoot, warn: (m) => process.stderr.write(`WARNING: ${m}\n`) });
      return engine;
    },
  };
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
