// Docker's way with verbs over several containers (`stop a b c`): each is
// tried, each success prints the name as given, each failure prints
// "Error response from daemon: …", and any failure makes the exit status 1.
import { BerthError } from '../../util/errors.js';
import { ExitStatus } from '../exit.js';

export async function eachContainer(names: string[], fn: (name: string) => Promise<string | void>, print = true): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      const out = await fn(name);
      if (print) process.stdout.write(`${out ?? name}\n`);
    } catch (err) {
      if (!(err instanceof BerthError)) throw err;
      process.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  if (failed) throw new ExitStatus(1);
}
