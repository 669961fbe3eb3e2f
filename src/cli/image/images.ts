import type { Command } from 'commander';
import { invalid } from '../../util/errors.js';
import { parseReference, familiarName } from '../../image/reference.js';
import type { Image } from '../../image/images.js';
import { imageSize } from '../../engine/images.js';
import type { CliContext } from '../context.js';
import { collect } from '../context.js';
import { ago, humanSize, table, renderTemplate, type Row } from '../format.js';

interface ImageRow extends Row { Repository: string; Tag: string; ID: string; Digest: string; CreatedSince: string; CreatedAt: string; Size: string }

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return re.test(text);
}

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
    .action((repository: string | undefined, opts: { quiet?: boolean; digests?: boolean; trunc: boolean; filter: string[]; format?: string }) => {
      const engine = ctx.engine();
      let list = engine.stores.images.list();
      const references: string[] = [];
      const config = (i: Image) => engine.stores.images.config(i);
      const created = (i: Image) => Date.parse(config(i).created ?? '') || 0;
      for (const f of opts.filter) {
        const [key, ...rest] = f.split('=');
        const value = rest.join('=');
        switch (key) {
          case 'dangling':
            if (value !== 'true' && value !== 'false') throw invalid('InvalidFilter', `invalid filter 'dangling=${value}': use true or false`);
            list = list.filter((i) => (i.names.length === 0) === (value === 'true'));
            break;
          case 'reference':
            references.push(value);
            break;
          case 'before':
          case 'since': {
            const pivot = created(engine.stores.images.resolve(value));
            list = list.filter((i) => (key === 'before' ? created(i) < pivot : created(i) > pivot));
            break;
          }
          case 'label': {
            const [k, v] = value.split('=', 2);
            list = list.filter((i) => {
              const labels = config(i).config?.Labels ?? {};
              return k! in labels && (v === undefined || labels[k!] === v);
            });
            break;
          }
          default:
            throw invalid('InvalidFilter', `invalid filter '${key}' (supported: dangling, reference, before, since, label)`);
        }
      }
      const rows: ImageRow[] = [];
      for (const image of list) {
        const id = opts.trunc ? image.configDigest.slice(7, 19) : image.configDigest;
        const size = humanSize(imageSize(engine, image));
        const createdAt = config(image).created;
        const names = (image.names.length ? image.names.map((n) => parseReference(n)) : [undefined])
          // reference=PATTERN keeps the rows (names) that match, as Docker does.
          .filter((r) => references.every((p) => r !== undefined && (globMatch(p, familiarName(r)) || globMatch(p, `${familiarName(r)}:${r.tag}`))));
        for (const ref of names) {
          const repo = ref ? familiarName(ref) : '<none>';
          if (repository && !(repo === repository || `${repo}:${ref?.tag}` === repository || (ref && familiarName(parseReference(repository)) === repo && (!repository.includes(':') || parseReference(repository).tag === ref.tag)))) continue;
          const digest = image.repoDigests.map((d) => parseReference(d)).find((d) => !ref || familiarName(d) === repo)?.digest ?? '<none>';
          rows.push({ Repository: repo, Tag: ref?.tag ?? '<none>', ID: id, Digest: digest, CreatedSince: ago(createdAt), CreatedAt: createdAt ?? '', Size: size });
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
