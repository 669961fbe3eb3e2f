import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { imageHistory } from '../../engine/index.js';
import { ago, humanSize, table } from '../format.js';
import { escapeControls } from '../../util/terminal-text.js';
import { relayAsDocker } from '../container/lookup.js';

export function registerHistory(parent: Command, ctx: CliContext): Command {
  return parent.command('history')
    .description('show how an image was built, newest first')
    .argument('<image>', 'name or ID')
    .option('--no-trunc', 'do not truncate output')
    .option('-q, --quiet', 'only image IDs')
    .action(async (name: string, opts: { trunc: boolean; quiet?: boolean }) => {
      const rows = (await relayAsDocker(() => imageHistory(ctx.engine(), name))).map((h) => {
        // An image's history is its author's text: shown, never obeyed by the terminal.
        const createdBy = escapeControls(h.createdBy);
        const id = h.id === undefined ? '<missing>' : opts.trunc ? h.id.slice(7, 19) : h.id;
        return [id, ago(h.created), opts.trunc && createdBy.length > 45 ? `${createdBy.slice(0, 44)}…` : createdBy, humanSize(h.size), escapeControls(h.comment)];
      });
      if (opts.quiet) {
        process.stdout.write(rows.map((r) => `${r[0]}\n`).join(''));
        return;
      }
      process.stdout.write(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows));
    });
}
