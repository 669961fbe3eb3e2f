import type { Command } from 'commander';
import { formatReference, parseReference } from '../../image/reference.js';
import { invalid } from '../../util/errors.js';
import type { CliContext } from '../context.js';

export function registerTag(parent: Command, ctx: CliContext): Command {
  return parent.command('tag')
    .description('give an image another name')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action((source: string, target: string) => {
      const images = ctx.engine().stores.images;
      const image = images.resolve(source);
      const ref = parseReference(target);
      if (ref.digest) throw invalid('InvalidReference', `refusing to create a tag with a digest reference: ${target}`);
      images.tag(formatReference(ref), image.digest);
    });
}
