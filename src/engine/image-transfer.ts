// Images in and out of the engine as files: `save` (a docker-archive or an
// OCI layout tar), `load` (either, plain or compressed) and `import` (a root
// filesystem tarball made into a one-layer image). Each face passes its own
// streams or paths.
import type { Readable, Writable } from 'node:stream';
import { saveImages as saveArchive, loadImages as loadArchive, type ArchiveFormat, type LoadResult, type SaveResult } from '../image/archive.js';
import { importRootfs, type ImportOptions } from '../image/import.js';
import type { Image } from '../image/images.js';
import type { Engine } from './engine.js';

export type { ArchiveFormat, ImportOptions, LoadResult, SaveResult };

/** Write images (names, repositories, IDs) as one archive to `out`; unknown names fail before anything is written. */
export function saveImages(engine: Engine, names: readonly string[], out: Writable, opts: { format?: ArchiveFormat } = {}): Promise<SaveResult> {
  return saveArchive(engine.stores, names, out, opts);
}

/** Read an archive (a stream or a file path) and add its images and tags. */
export function loadImages(engine: Engine, input: Readable | string): Promise<LoadResult> {
  return loadArchive(engine.stores, input);
}

/** Make an image from a root filesystem tarball (a stream or a file path). */
export function importImage(engine: Engine, source: Readable | string, opts: ImportOptions = {}): Promise<Image> {
  return importRootfs(engine.stores, source, opts);
}
