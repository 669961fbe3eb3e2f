import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { invalid, errnoCode } from '../../util/errors.js';
import { parseResources } from '../../runtime/spec.js';
import type { RuntimeContext } from './index.js';

function readResources(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw invalid('ResourcesNotFound', `--resources ${file}: no such file`);
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid('InvalidResources', `--resources ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

export function registerUpdate(cmd: Command, ctx: RuntimeContext): void {
  cmd.command('update')
    .description("change a container's cgroup limits from an OCI linux.resources object, as runc update does")
    .argument('<id>', 'container id')
    .requiredOption('-r, --resources <file>', 'the linux.resources JSON, or - for stdin')
    .action((id: string, opts: { resources: string }) => {
      const resources = parseResources(readResources(opts.resources), `--resources ${opts.resources}`);
      for (const w of ctx.runtime().update(id, resources)) process.stderr.write(`berth: warning: ${w}\n`);
    });
}
