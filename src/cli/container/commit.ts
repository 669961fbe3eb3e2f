import type { Command } from 'commander';
import { Option } from 'commander';
import { invalid } from '../../util/errors.js';
import { commitContainer } from '../../engine/index.js';
import { collect, type CliContext } from '../context.js';
import { failAsDocker } from './lookup.js';

export function registerCommit(parent: Command, ctx: CliContext): Command {
  return parent.command('commit')
    .description('make a new image from a container\'s changes')
    .usage('[options] CONTAINER [REPOSITORY[:TAG]]')
    .argument('[container]', 'name or ID')
    .argument('[reference]', 'REPOSITORY[:TAG] for the new image')
    .option('-a, --author <author>', 'author (e.g. "Jane Doe <jane@example.com>")')
    .option('-m, --message <message>', 'commit message')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)', collect, [] as string[])
    // Docker's boolean flag: -p, --pause, --pause=false. An optional value is the only way Commander takes `--pause=false`.
    .addOption(new Option('-p, --pause [bool]', 'freeze the container while committing (default true)').preset('true'))
    .action(async (first: string | undefined, second: string | undefined, opts: { author?: string; message?: string; change: string[]; pause?: string }) => {
      let container = first;
      let reference = second;
      let pause = opts.pause ?? 'true';
      if (pause !== 'true' && pause !== 'false') {
        // `-p CONTAINER`: Commander took the container for the flag's value.
        if (reference !== undefined) throw invalid('InvalidFlag', `invalid argument "${pause}" for "-p, --pause": expected true or false`);
        [container, reference, pause] = [pause, container, 'true'];
      }
      if (container === undefined) throw invalid('MissingArgument', '"commit" requires at least 1 argument: CONTAINER [REPOSITORY[:TAG]]');
      try {
        const image = await commitContainer(ctx.engine(), container, {
          ...(reference ? { reference } : {}),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { message: opts.message } : {}),
          changes: opts.change,
          pause: pause === 'true',
        });
        process.stdout.write(`${image.configDigest}\n`);
      } catch (err) {
        failAsDocker(err);
      }
    });
}
