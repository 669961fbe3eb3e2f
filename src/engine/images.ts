// Image management that both faces need: sizes, tagging, removal with Docker's
// rules (untag first, refuse an image in use or with several names unless
// forced, free layers and blobs nobody else uses), and pruning.
import { conflict, invalid } from '../util/errors.js';
import type { Image } from '../image/images.js';
import { chainIdsOf, type ChainId } from '../image/layers.js';
import { parseReference, formatReference, familiarString } from '../image/reference.js';
import type { Digest } from '../image/digest.js';
import type { Engine } from './engine.js';

export interface RemoveReport {
  untagged: string[];
  deleted: string[];
  reclaimed: number;
}

function chainOf(image: Image): ChainId[] {
  return chainIdsOf(image.layers.map((l) => l.diffId));
}

/** Uncompressed size of an image's layers, as `docker images` shows it. */
export function imageSize(engine: Engine, image: Image): number {
  let total = 0;
  for (const id of chainOf(image)) {
    try {
      total += engine.stores.layers.get(id).size;
    } catch {
      // a layer that is gone counts as nothing
    }
  }
  return total;
}

/** `tag`: give the image `source` names another name, `target` (not a digest). */
export function tagImage(engine: Engine, source: string, target: string): void {
  const { images } = engine.stores;
  const image = images.resolve(source);
  const ref = parseReference(target);
  if (ref.digest) throw invalid('InvalidReference', `refusing to create a tag with a digest reference: ${target}`);
  images.tag(formatReference(ref), image.digest);
  engine.imageEvent('tag', image.configDigest, familiarString(ref), image);
}

/** `rmi`: untag `text`; when it was the last name (or by ID, or forced), delete the image. */
export function removeImage(engine: Engine, text: string, force: boolean): RemoveReport {
  const { images } = engine.stores;
  const image = images.resolve(text);
  const report: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
  const users = engine.imagesInUse().get(image.configDigest) ?? [];
  const byName = !/^(sha256:)?[a-f0-9]{1,64}$/.test(text) || image.names.some((n) => n === safeFormat(text));
  if (byName && image.names.length > 1) {
    // Another name keeps the image: only this one goes.
    images.untag(safeFormat(text));
    report.untagged.push(safeFormat(text));
    engine.imageEvent('untag', image.configDigest, image.configDigest, image);
    return report;
  }
  if (users.length && !force) {
    throw conflict('ImageInUse', `conflict: unable to remove repository reference "${text}" (must force) - container ${users[0]!.slice(0, 12)} is using its referenced image ${image.configDigest.slice(7, 19)}`);
  }
  if (!byName && image.names.length > 1 && !force) {
    throw conflict('ImageMultipleNames', `conflict: unable to delete ${image.configDigest.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
  }
  for (const name of image.names) report.untagged.push(name);
  for (const name of image.repoDigests) report.untagged.push(name);
  deleteImage(engine, image, report);
  return report;
}

function safeFormat(text: string): string {
  try {
    return formatReference(parseReference(text));
  } catch {
    return text;
  }
}

/** Remove an image record and every layer and blob no other image uses. */
function deleteImage(engine: Engine, image: Image, report: RemoveReport): void {
  const { images, layers, content } = engine.stores;
  const others = images.list().filter((i) => i.digest !== image.digest);
  const keepChains = new Set(others.flatMap((o) => chainOf(o)));
  const keepBlobs = new Set<Digest>(others.flatMap((o) => [o.digest, o.configDigest, ...o.layers.map((l) => l.digest)]));
  images.remove(image.digest);
  // Docker tells each name's removal, then the image's, by its ID (its config blob, and so its labels, go below).
  for (let i = 0; i < image.names.length + image.repoDigests.length; i++) engine.imageEvent('untag', image.configDigest, image.configDigest, image);
  engine.imageEvent('delete', image.configDigest, image.configDigest, image);
  report.deleted.push(image.configDigest);
  for (const id of chainOf(image).reverse()) {
    if (keepChains.has(id) || !layers.has(id)) continue;
    report.reclaimed += layers.get(id).size;
    layers.remove(id);
    report.deleted.push(id);
  }
  for (const d of [image.digest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
    if (!keepBlobs.has(d) && content.has(d)) content.delete(d);
  }
}

/** `image prune`: dangling images (no name), or with `all` every image no container uses. */
export function pruneImages(engine: Engine, all: boolean): RemoveReport {
  const report: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
  const inUse = engine.imagesInUse();
  for (const image of engine.stores.images.list()) {
    if (inUse.has(image.configDigest)) continue;
    if (!all && image.names.length > 0) continue;
    report.untagged.push(...image.names, ...image.repoDigests);
    deleteImage(engine, image, report);
  }
  return report;
}
