import type { Command } from 'commander';
import { BerthError, invalid } from '../../util/errors.js';
import { inspectContainer, imageInspect, containerSizes } from '../../engine/index.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { renderObject } from '../format.js';

/** `inspect` (containers, then images, as Docker) and `container inspect`. */
export function registerInspect(parent: Command, ctx: CliContext, onlyContainers = false): Command {
  return parent.command('inspect')
    .description(onlyContainers ? 'show low-level information about containers, as JSON' : 'show low-level information about containers or images, as JSON (containers include their namespaces and cgroup)')
    .argument('<names...>', 'names or IDs')
    .option('-f, --format <template>', 'Go template, e.g. {{.State.Status}} or {{json .Namespaces}}')
    .option('-s, --size', 'include the container\'s sizes')
    .option('--type <type>', 'container or image')
    .action(async (names: string[], opts: { format?: string; size?: boolean; type?: string }) => {
      if (opts.type && !['container', 'image'].includes(opts.type)) throw invalid('InvalidFlag', `"${opts.type}" is not a valid value for --type`);
      const type = onlyContainers ? 'container' : opts.type;
      const engine = ctx.engine();
      const found: unknown[] = [];
      let failed = false;
      for (const name of names) {
        try {
          if (type !== 'image') {
            try {
              const info = await engine.container(name);
              found.push(inspectContainer(engine, info, opts.size ? { size: containerSizes(engine, info) } : {}));
              continue;
            } catch (err) {
              if (!(err instanceof BerthError && err.kind === 'notFound') || type === 'container') throw err;
            }
          }
          found.push(imageInspect(engine, name));
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          process.stderr.write(`Error: No such ${type ?? 'object'}: ${name}\n`);
          failed = true;
        }
      }
      if (opts.format) process.stdout.write(found.map((f) => renderObject(opts.format!, f)).join(''));
      else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
      if (failed) throw new ExitStatus(1);
    });
}
