// Images as Docker's daemon shows them: `images` with its filters and the
// repository argument, `image inspect`'s object, and `history`'s entries. The
// CLI and the API format the same data.
import { invalid } from '../util/errors.js';
import type { Image } from '../image/images.js';
import type { HistoryEntry } from '../image/manifest.js';
import { parseReference, familiarName } from '../image/reference.js';
import type { ChainId } from '../image/layers.js';
import { imageSize } from './images.js';
import type { Engine } from './engine.js';

/** One name of a listed image, as `docker images` shows it in a row. */
export interface ImageListName {
  /** Familiar repository ("busybox", "example.com/app"); undefined for an image without names. */
  repository?: string;
  tag?: string;
  /** The digest it was pulled by in this repository, if any. */
  digest?: string;
}

export interface ImageListEntry {
  /** The config digest ("sha256:…"). */
  id: string;
  /** The config's creation time (RFC 3339), if it says. */
  created?: string;
  /** Uncompressed bytes of its layers. */
  size: number;
  /** The rows it makes: one per name the filters kept, or one without a name. */
  names: ImageListName[];
}

export interface ImageListOptions {
  /** dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, label=KEY[=VALUE]. */
  filters?: string[];
  /** `docker images REPOSITORY[:TAG]`: only that repository (and tag). */
  repository?: string;
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return re.test(text);
}

/** `images`: every image the filters keep, with the names they keep. */
export function imageList(engine: Engine, opts: ImageListOptions = {}): ImageListEntry[] {
  const { images } = engine.stores;
  const repository = opts.repository;
  let list = images.list();
  const references: string[] = [];
  const config = (i: Image) => images.config(i);
  const created = (i: Image) => Date.parse(config(i).created ?? '') || 0;
  for (const f of opts.filters ?? []) {
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
        const pivot = created(images.resolve(value));
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
  const entries: ImageListEntry[] = [];
  for (const image of list) {
    const refs = (image.names.length ? image.names.map((n) => parseReference(n)) : [undefined])
      // reference=PATTERN keeps the rows (names) that match, as Docker does.
      .filter((r) => references.every((p) => r !== undefined && (globMatch(p, familiarName(r)) || globMatch(p, `${familiarName(r)}:${r.tag}`))));
    const names: ImageListName[] = [];
    for (const ref of refs) {
      const repo = ref ? familiarName(ref) : '<none>';
      if (repository && !(repo === repository || `${repo}:${ref?.tag}` === repository || (ref && familiarName(parseReference(repository)) === repo && (!repository.includes(':') || parseReference(repository).tag === ref.tag)))) continue;
      const digest = image.repoDigests.map((d) => parseReference(d)).find((d) => !ref || familiarName(d) === repo)?.digest;
      names.push({ ...(ref ? { repository: repo } : {}), ...(ref?.tag ? { tag: ref.tag } : {}), ...(digest ? { digest } : {}) });
    }
    const createdAt = config(image).created;
    entries.push({ id: image.configDigest, ...(createdAt !== undefined ? { created: createdAt } : {}), size: imageSize(engine, image), names });
  }
  return entries;
}

/** The Docker Engine API's image inspect object (the fields berth knows). */
export function imageInspect(engine: Engine, nameOrId: string): Record<string, unknown> {
  const image = engine.image(nameOrId);
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

/** One step of `history`, newest first. */
export interface ImageHistoryEntry {
  /** The image's ID on its newest step; undefined on the others (Docker's "<missing>"). */
  id?: string;
  created?: string;
  createdBy: string;
  /** Bytes of the layer the step made (0 for a step that made none). */
  size: number;
  comment: string;
}

/** `history`: how an image was built, newest step first. */
export function imageHistory(engine: Engine, nameOrId: string): ImageHistoryEntry[] {
  const image = engine.image(nameOrId);
  const { layers } = engine.stores;
  const config = engine.stores.images.config(image);
  const history: HistoryEntry[] = config.history?.length ? config.history : config.rootfs.diff_ids.map(() => ({ created_by: '', empty_layer: false }));
  // Each history entry that is not empty_layer made the next layer.
  let layer = 0;
  let chain: ChainId | undefined;
  return history.map((h, i): ImageHistoryEntry => {
    let size = 0;
    if (!h.empty_layer && layer < image.layers.length) {
      chain = layers.chainId(chain, image.layers[layer]!.diffId);
      try { size = layers.get(chain).size; } catch { size = 0; }
      layer++;
    }
    return {
      ...(i === history.length - 1 ? { id: image.configDigest } : {}),
      ...(h.created !== undefined ? { created: h.created } : {}),
      createdBy: h.created_by ?? '', size, comment: h.comment ?? '',
    };
  }).reverse();
}
