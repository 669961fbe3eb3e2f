import type { Command } from 'commander';
import { imageList } from '../../engine/index.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { ago, humanSize, table, renderTemplate, type Row } from '../format.js';
import { relayAsDocker } from '../container/lookup.js';

interface ImageRow extends Row { Repository: string; Tag: string; ID: string; Digest: string; CreatedSince: string; CreatedAt: string; Size: string }

export function registerImages(parent: Command, ctx: CliContext, name = 'images'): Command {
  return parent.command(name)
    .description('list images')
    .argument('[repository]', 'only images of this repository (and tag)')
    .option('-a, --all', 'show all images (berth keeps no intermediate images)')
    .option('-q, --quiet', 'only image IDs')
    .option('--digests', 'show digests')
    .option('--no-trunc', 'do not truncate output')
    .option('-f, --filter <filter>', 'dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, label=KEY[=VALUE]', collect, [] as string[])
    .option('--format <template>', 'Go template (e.g. "{{.Repository}}:{{.Tag}}", "table {{.ID}}\\t{{.Size}}", "json")')
    .action(async (repository: string | undefined, opts: { quiet?: boolean; digests?: boolean; trunc: boolean; filter: string[]; format?: string }) => {
      const rows: ImageRow[] = [];
      const images = await relayAsDocker(() => imageList(ctx.engine(), { filters: opts.filter, ...(repository ? { repository } : {}) }));
      for (const image of images) {
        const id = opts.trunc ? image.id.slice(7, 19) : image.id;
        const size = humanSize(image.size);
        for (const n of image.names) {
          rows.push({
            Repository: n.repository ?? '<none>', Tag: n.tag ?? '<none>', ID: id, Digest: n.digest ?? '<none>',
            CreatedSince: ago(image.created), CreatedAt: image.created ?? '', Size: size,
          });
        }
      }
      if (opts.quiet) {
        process.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
        return;
      }
      if (opts.format) {
        const template = opts.format === 'json' ? '{{json .}}' : opts.format;
        process.stdout.write(renderTemplate(template, rows, { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' }));
        return;
      }
      const headers = ['REPOSITORY', 'TAG', ...(opts.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
      process.stdout.write(table(headers, rows.map((r) => [r.Repository, r.Tag, ...(opts.digests ? [r.Digest] : []), r.ID, r.CreatedSince, r.Size])));
    });
}
