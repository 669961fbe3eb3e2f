import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { pruneImages } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { humanSize } from '../format.js';

export function registerImagePrune(parent: Command, ctx: CliContext): Command {
  return parent.command('prune')
    .description('remove unused images (dangling ones; with -a every image no container uses)')
    .option('-a, --all', 'remove every image no container uses, not only dangling ones')
    .option('-f, --force', 'do not ask for confirmation')
    .action((opts: { all?: boolean; force?: boolean }) => {
      if (!opts.force) {
        process.stdout.write(opts.all
          ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] '
          : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
        let answer = '';
        try { answer = readFileSync(0, 'utf8').split('\n')[0] ?? ''; } catch { /* no stdin */ }
        if (!/^y(es)?$/i.test(answer.trim())) return;
      }
      const report = pruneImages(ctx.engine(), opts.all ?? false);
      if (report.untagged.length || report.deleted.length) {
        process.stdout.write('Deleted Images:\n');
        for (const u of report.untagged) process.stdout.write(`untagged: ${u}\n`);
        for (const d of report.deleted) process.stdout.write(`deleted: ${d}\n`);
        process.stdout.write('\n');
      }
      process.stdout.write(`Total reclaimed space: ${humanSize(report.reclaimed)}\n`);
    });
}
