import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { HistoryEntry } from '../../image/manifest.js';
import { ago, humanSize, table } from '../format.js';
import { escapeControls } from '../../util/terminal-text.js';

export function registerHistory(parent: Command, ctx: CliContext): Command {
  return parent.command('history')
    .description('show how an image was built, newest first')
    .argument('<image>', 'name or ID')
    .option('--no-trunc', 'do not truncate output')
    .option('-q, --quiet', 'only image IDs')
    .action((name: string, opts: { trunc: boolean; quiet?: boolean }) => {
      const engine = ctx.engine();
      const image = engine.stores.images.resolve(name);
      const config = engine.stores.images.config(image);
      const history: HistoryEntry[] = config.history?.length ? config.history : config.rootfs.diff_ids.map(() => ({ created_by: '', empty_layer: false }));
      // Each history entry that is not empty_layer made the next layer.
      let layer = 0;
      let chain: ReturnType<typeof engine.stores.layers.chainId> | undefined;
      const rows = history.map((h, i) => {
        let size = 0;
        if (!h.empty_layer && layer < image.layers.length) {
          chain = engine.stores.layers.chainId(chain, image.layers[layer]!.diffId);
          try { size = engine.stores.layers.get(chain).size; } catch { size = 0; }
          layer++;
        }
        // An image's history is its author's text: shown, never obeyed by the terminal.
        const createdBy = escapeControls(h.created_by ?? '');
        const id = i === history.length - 1 ? (opts.trunc ? image.configDigest.slice(7, 19) : image.configDigest) : '<missing>';
        return [id, ago(h.created), opts.trunc && createdBy.length > 45 ? `${createdBy.slice(0, 44)}…` : createdBy, humanSize(size), escapeControls(h.comment ?? '')];
      }).reverse();
      if (opts.quiet) {
        process.stdout.write(rows.map((r) => `${r[0]}\n`).join(''));
        return;
      }
      process.stdout.write(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows));
    });
}
