import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { saveImages, loadImages, type ArchiveFormat } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { writeOutputFile } from '../output-file.js';

export function registerSaveLoad(parent: Command, ctx: CliContext): void {
  parent.command('save')
    .description('write images to a tar archive (docker-archive, or an OCI layout with --format oci-archive)')
    .argument('<images...>', 'names or IDs')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--format <format>', 'docker-archive or oci-archive', 'docker-archive')
    .action(async (names: string[], opts: { output?: string; format: string }) => {
      if (opts.format !== 'docker-archive' && opts.format !== 'oci-archive') throw invalid('InvalidFlag', `--format: "${opts.format}" is not docker-archive or oci-archive`);
      if (!opts.output && process.stdout.isTTY) throw invalid('StdoutIsTerminal', 'cowardly refusing to save to a terminal: use the -o flag or redirect');
      const engine = ctx.engine();
      if (!opts.output) {
        await saveImages(engine, names, process.stdout, { format: opts.format as ArchiveFormat });
        return;
      }
      await writeOutputFile(opts.output, (out) => saveImages(engine, names, out, { format: opts.format as ArchiveFormat }));
    });
  parent.command('load')
    .description('load images from a docker-archive or OCI layout tar (plain, gzip or zstd)')
    .option('-i, --input <file>', 'read from a file instead of stdin')
    .option('-q, --quiet', 'print nothing')
    .action(async (opts: { input?: string; quiet?: boolean }) => {
      if (!opts.input && process.stdin.isTTY) throw invalid('StdinIsTerminal', 'requested load from stdin, but stdin is empty: use -i or redirect');
      const result = await loadImages(ctx.engine(), opts.input ?? process.stdin);
      if (!opts.quiet) for (const line of result.loaded) process.stdout.write(`${line}\n`);
    });
}
