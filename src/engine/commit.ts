// `commit`: a container's changes become a new image, as `docker commit`
// makes it: the container image's layers plus one made from the overlay
// upper dir (whiteouts as `.wh.` files), and a config that is the
// container's own (the image's, with what `create` changed) with `--change`
// instructions applied on top, one more history entry, and the author.
import type { Image } from '../image/images.js';
import type { ImageConfig, RunConfig } from '../image/manifest.js';
import { applyChanges } from '../image/changes.js';
import { storeImage, storeLayer } from '../image/import.js';
import { chainIdsOf } from '../image/layers.js';
import { diffTar } from '../image/snapshots.js';
import type { Engine } from './engine.js';
import type { CreateBody } from './host-config.js';
import { frozen } from './container-fs.js';

export interface CommitOptions {
  /** REPOSITORY[:TAG] for the new image. */
  reference?: string;
  author?: string;
  message?: string;
  /** Dockerfile instructions (`--change`). */
  changes?: readonly string[];
  /** Freeze a running container while its changes are read (default true, as Docker). */
  pause?: boolean;
}

export async function commitContainer(engine: Engine, container: string, opts: CommitOptions = {}): Promise<Image> {
  const info = await engine.container(container);
  const stores = engine.stores;
  const base = engine.image(info.imageId);
  const baseConfig = stores.images.config(base);
  // Checked before any work: a bad --change must not leave a layer behind.
  const current = containerConfig(baseConfig.config ?? {}, info.body);
  const runConfig = applyChanges(current, opts.changes ?? []);
  const parent = chainIdsOf(base.layers.map((l) => l.diffId)).at(-1);
  const readChanges = () => storeLayer(stores, diffTar(info.dir), parent);
  const layer = opts.pause === false ? await readChanges() : await frozen(engine, info, readChanges);
  const created = new Date().toISOString();
  const config: ImageConfig & { created: string } = {
    architecture: baseConfig.architecture,
    os: baseConfig.os,
    ...(baseConfig.variant ? { variant: baseConfig.variant } : {}),
    created,
    ...(opts.author ? { author: opts.author } : {}),
    config: runConfig,
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.diffId] },
    history: [...(baseConfig.history ?? []), {
      created,
      // Docker's: the container's command.
      created_by: (current.Cmd ?? []).join(' '),
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.message ? { comment: opts.message } : {}),
    }],
  };
  return storeImage(stores, config, [...base.layers, layer], opts.reference);
}

/**
 * The container's config as Docker keeps it: the image's, with the create
 * body's fields where it has them (Docker's merge: environment and labels
 * merged by key; an entrypoint given without a command drops the image's
 * command).
 */
export function containerConfig(image: RunConfig, body: CreateBody): RunConfig {
  const out: RunConfig = structuredClone(image);
  if (body.User) out.User = body.User;
  if (body.WorkingDir) out.WorkingDir = body.WorkingDir;
  if (body.StopSignal) out.StopSignal = body.StopSignal;
  if (body.Healthcheck) out.Healthcheck = body.Healthcheck;
  if (body.Env?.length) {
    const env = [...(out.Env ?? [])];
    for (const e of body.Env.filter((v) => v.includes('='))) {
      const key = e.slice(0, e.indexOf('='));
      const i = env.findIndex((x) => x.startsWith(`${key}=`));
      if (i >= 0) env[i] = e;
      else env.push(e);
    }
    out.Env = env;
  }
  if (body.Labels && Object.keys(body.Labels).length > 0) out.Labels = { ...(out.Labels ?? {}), ...body.Labels };
  if (body.Entrypoint !== undefined) {
    out.Entrypoint = body.Entrypoint.length === 1 && body.Entrypoint[0] === '' ? [] : body.Entrypoint;
    if (!body.Cmd?.length) delete out.Cmd;
  }
  if (body.Cmd?.length) out.Cmd = body.Cmd;
  if (out.Entrypoint?.length === 0) delete out.Entrypoint;
  return out;
}
