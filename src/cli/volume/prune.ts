import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { invalid } from '../../util/errors.js';
import { pruneVolumes } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { humanSize } from '../format.js';

export function registerVolumePrune(parent: Command, ctx: CliContext): Command {
  return parent.command('prune')
    .description('remove unused anonymous volumes (with -a, every unused volume)')
    .option('-a, --all', 'every unused volume, named ones too')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--filter <filter>', 'label=KEY[=VALUE], label!=KEY[=VALUE], all=true', collect, [] as string[])
    .action((opts: { all?: boolean; force?: boolean; filter: string[] }) => {
      let all = opts.all ?? false;
      const labels: { key: string; value?: string; negate: boolean }[] = [];
      for (const f of opts.filter) {
        const m = /^(label!?|all)=(.*)$/.exec(f);
        if (!m) throw invalid('InvalidFilter', `invalid filter '${f}' (supported: label=, label!=, all=)`);
        if (m[1] === 'all') {
          all = ['true', '1'].includes(m[2]!);
          continue;
        }
        const eq = m[2]!.indexOf('=');
        labels.push({ key: eq < 0 ? m[2]! : m[2]!.slice(0, eq), ...(eq < 0 ? {} : { value: m[2]!.slice(eq + 1) }), negate: m[1] === 'label!' });
      }
      if (!opts.force) {
        process.stdout.write(all
          ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '
          : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
        let answer = '';
        try { answer = readFileSync(0, 'utf8').split('\n')[0] ?? ''; } catch { /* no stdin */ }
        if (!/^y(es)?$/i.test(answer.trim())) return;
      }
      const report = pruneVolumes(ctx.engine(), { all, labels });
      if (report.deleted.length) process.stdout.write(`Deleted Volumes:\n${report.deleted.map((n) => `${n}\n`).join('')}\n`);
      process.stdout.write(`Total reclaimed space: ${humanSize(report.reclaimed)}\n`);
    });
}
