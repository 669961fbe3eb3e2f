import type { Command } from 'commander';
import { tagImage } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { relayAsDocker } from '../container/lookup.js';

export function registerTag(parent: Command, ctx: CliContext): Command {
  return parent.command('tag')
    .description('give an image another name')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action((source: string, target: string) => relayAsDocker(() => tagImage(ctx.engine(), source, target)));
}
