// Images in and out of the engine as files: `save` (a docker-archive or an
// OCI layout tar), `load` (either, plain or compressed) and `import` (a root
// filesystem tarball made into a one-layer image). Each face passes its own
// streams or paths.
import type { Readable, Writable } from 'node:stream';
import { saveImages as saveArchive, loadImages as loadArchive, type ArchiveFormat, type LoadResult, type SaveResult } from '../image/archive.js';
import { importRootfs, type ImportOptions } from '../image/import.js';
import type { Image } from '../image/images.js';
import type { Engine } from './engine.js';
import { familiarString, parseReference } from '../image/reference.js';

export type { ArchiveFormat, ImportOptions, LoadResult, SaveResult };

/** Write images (names, repositories, IDs) as one archive to `out`; unknown names fail before anything is written. */
export async function saveImages(engine: Engine, names: readonly string[], out: Writable, opts: { format?: ArchiveFormat } = {}): Promise<SaveResult> {
  const result = await saveArchive(engine.stores, names, out, opts);
  for (const image of result.images) {
    const name = image.tags[0] === undefined ? image.configDigest : familiarString(parseReference(image.tags[0]));
    engine.imageEvent('save', image.configDigest, name, engine.stores.images.get(image.digest));
  }
  return result;
}

/** Read an archive (a stream or a file path) and add its images and tags. */
export async function loadImages(engine: Engine, input: Readable | string): Promise<LoadResult> {
  const result = await loadArchive(engine.stores, input);
  for (const line of result.loaded) {
    const name = line.replace(/^Loaded image( ID)?: /, '');
    const image = engine.stores.images.resolve(name);
    engine.imageEvent('load', image.configDigest, name, image);
  }
  return result;
}

/** Make an image from a root filesystem tarball (a stream or a file path). */
export async function importImage(engine: Engine, source: Readable | string, opts: ImportOptions = {}): Promise<Image> {
  const image = await importRootfs(engine.stores, source, opts);
  engine.imageEvent('import', image.configDigest, image.configDigest, image);
  return image;
}
