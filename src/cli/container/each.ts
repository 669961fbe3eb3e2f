// Docker's way with verbs over several containers (`stop a b c`): each is
// tried, each success prints the name as given, each failure prints
// "Error response from daemon: …", and any failure makes the exit status 1.
import { BerthError } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';
import { failAsDocker, sayAsDocker } from './lookup.js';

/**
 * A verb on one container, with Docker's exit for what the daemon would
 * refuse (no such container, wrong state): "Error response from daemon: …"
 * and status 1. A bad flag stays a usage error (125).
 */
export async function asDaemon<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BerthError && err.kind !== 'invalid' && err.kind !== 'cannotExecute' && err.kind !== 'commandNotFound') failAsDocker(err);
    throw err;
  }
}

export async function eachContainer(names: string[], fn: (name: string) => Promise<string | void>, print = true): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      const out = await fn(name);
      if (print) process.stdout.write(`${out ?? name}\n`);
    } catch (err) {
      if (!(err instanceof BerthError)) throw err;
      sayAsDocker(err);
      failed = true;
    }
  }
  if (failed) throw new ExitStatus(1);
}
