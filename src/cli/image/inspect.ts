import type { Command } from 'commander';
import { BerthError } from '../../util/errors.js';
import { imageSize } from '../../engine/images.js';
import type { Image } from '../../image/images.js';
import type { Engine } from '../../engine/engine.js';
import { ExitStatus } from '../exit.js';
import type { CliContext } from '../context.js';
import { renderObject } from '../format.js';
import { sayOnStderr } from '../say.js';

/** The Docker Engine API's image inspect object (the fields berth knows). */
export function imageInspect(engine: Engine, image: Image): Record<string, unknown> {
  const config = engine.stores.images.config(image);
  return {
    Id: image.configDigest,
    RepoTags: image.names.map((n) => n.replace(/^docker\.io\/(library\/)?/, '')),
    RepoDigests: image.repoDigests.map((n) => n.replace(/^docker\.io\/(library\/)?/, '')),
    Parent: '',
    Comment: config.history?.at(-1)?.comment ?? '',
    Created: config.created ?? '',
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Size: imageSize(engine, image),
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: image.added },
    Descriptor: { mediaType: image.mediaType, digest: image.digest, size: engine.stores.content.size(image.digest) },
  };
}

export function registerImageInspect(parent: Command, ctx: CliContext): Command {
  return parent.command('inspect')
    .description('show low-level information about images, as JSON')
    .argument('<images...>', 'names or IDs')
    .option('-f, --format <template>', 'Go template, e.g. {{.Id}} or {{json .Config}}')
    .action((names: string[], opts: { format?: string }) => {
      const engine = ctx.engine();
      const found: Record<string, unknown>[] = [];
      let failed = false;
      for (const name of names) {
        try {
          found.push(imageInspect(engine, engine.stores.images.resolve(name)));
        } catch (err) {
          if (!(err instanceof BerthError)) throw err;
          sayOnStderr('Error: ', err.message);
          failed = true;
        }
      }
      if (opts.format) {
        process.stdout.write(found.map((f) => renderObject(opts.format!, f)).join(''));
      } else {
        process.stdout.write(JSON.stringify(found, null, 4) + '\n');
      }
      if (failed) throw new ExitStatus(1);
    });
}
