// The image store: which images berth has, and which names point at them.
//
// An image is keyed by its *manifest* digest (what a registry serves and what
// `name@sha256:…` pins). Its *ID* is the digest of its config, as Docker
// shows it: two manifests (say Docker v2 and OCI) of one config are one image
// ID. References point at exactly one manifest digest each, as in Docker's
// reference store:
//   tags         docker.io/library/busybox:latest           (moved by `tag`)
//   repo digests docker.io/library/busybox@sha256:<digest>  (the digest it was
//                pulled by; for a multi-platform image, the index's)
// Both live in one table, image_refs; a name with "@" is a repo digest.
//
// Records live in the shared SQLite store (util/db.ts); every write is one
// IMMEDIATE transaction, so a CLI command and the API server may tag, pull
// and remove at once. Blobs stay in the content store: removing an image does
// not delete them (other images may share layers; collecting them is a
// separate, whole-store decision).
import { invalid, notFound, systemError } from '../util/errors.js';
import { migrate, type Database } from '../util/db.js';
import type { ContentStore } from './content-store.js';
import { isDigest, hexOf, type Digest } from './digest.js';
import { parseImageConfig, type ImageConfig, type Platform } from './manifest.js';
import { formatReference, nameOf, parseReference, type Reference } from './reference.js';

export interface ImageLayer {
  /** The compressed blob in the content store. */
  digest: Digest;
  mediaType: string;
  size: number;
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: Digest;
}

/** What `addImage` records. */
export interface ImageRecord {
  /** The manifest digest: the record's key. */
  digest: Digest;
  /** The manifest's media type (OCI or Docker schema 2). */
  mediaType: string;
  /** The config digest: the image ID. */
  configDigest: Digest;
  layers: ImageLayer[];
  platform: Platform;
  /** The config's `created` time, if it has one. */
  created?: string;
  /** Bytes, as the puller counts them. */
  size: number;
  /** References by digest (`busybox@sha256:…`) to point at this image, besides those it has. */
  repoDigests?: string[];
}

/** An image as the store returns it. */
export interface Image extends ImageRecord {
  /** Full tag references pointing at it, sorted. */
  names: string[];
  /** Full digest references pointing at it, sorted. */
  repoDigests: string[];
  /** When this store first recorded it (ISO 8601). */
  added: string;
}

const STEPS = [
  `CREATE TABLE images (
     digest TEXT PRIMARY KEY,
     media_type TEXT NOT NULL,
     config_digest TEXT NOT NULL,
     layers TEXT NOT NULL,
     platform TEXT NOT NULL,
     created TEXT,
     size INTEGER NOT NULL,
     added TEXT NOT NULL
   ) STRICT;
   CREATE INDEX images_by_config ON images (config_digest);
   CREATE TABLE image_refs (
     name TEXT PRIMARY KEY,
     digest TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE
   ) STRICT;
   CREATE INDEX image_refs_by_digest ON image_refs (digest);`,
];

interface ImageRow {
  digest: string;
  media_type: string;
  config_digest: string;
  layers: string;
  platform: string;
  created: string | null;
  size: number;
  added: string;
}

const FULL_ID = /^(?:sha256:)?[a-f0-9]{64}$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;

export class ImageStore {
  private readonly db: Database;
  private readonly content: ContentStore;

  constructor(db: Database, content: ContentStore) {
    this.db = db;
    this.content = content;
    migrate(db, 'image', STEPS);
  }

  /**
   * Record an image, or refresh it: a second pull of the same manifest keeps
   * its names and `added` time. Its manifest and config must already be in
   * the content store.
   */
  addImage(record: ImageRecord): Image {
    checkRecord(record);
    for (const [what, d] of [['manifest', record.digest], ['config', record.configDigest]] as const) {
      if (!this.content.has(d)) throw notFound('BlobNotFound', `image ${record.digest}: its ${what} blob ${d} is not in the content store`);
    }
    const repoDigests = (record.repoDigests ?? []).map(canonicalRepoDigest);
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO images (digest, media_type, config_digest, layers, platform, created, size, added)
        VALUES (@digest, @mediaType, @configDigest, @layers, @platform, @created, @size, @added)
        ON CONFLICT (digest) DO UPDATE SET media_type = excluded.media_type, config_digest = excluded.config_digest,
          layers = excluded.layers, platform = excluded.platform, created = excluded.created, size = excluded.size`).run({
        digest: record.digest,
        mediaType: record.mediaType,
        configDigest: record.configDigest,
        layers: JSON.stringify(record.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: l.diffId }))),
        platform: JSON.stringify(record.platform),
        created: record.created ?? null,
        size: record.size,
        added: new Date().toISOString(),
      });
      const point = this.db.prepare('INSERT INTO image_refs (name, digest) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET digest = excluded.digest');
      for (const r of repoDigests) point.run(r, record.digest);
    }).immediate();
    return this.get(record.digest)!;
  }

  get(digest: Digest): Image | undefined {
    const row = this.row(digest);
    return row ? this.toImage(row) : undefined;
  }

  /**
   * Point `name` at an image. A name without a tag means `:latest`; a name
   * already in use moves (as `docker tag` does). Returns the digest it
   * pointed at before, if it moved.
   */
  tag(name: string, digest: Digest): Digest | undefined {
    const ref = parseReference(name);
    if (ref.digest !== undefined) throw invalid('InvalidTag', `cannot tag with a digest reference "${name}": a tag is a repository and a tag, without a digest`);
    const full = formatReference(ref);
    return this.db.transaction((): Digest | undefined => {
      if (!this.row(digest)) throw notFound('ImageNotFound', `no such image: ${digest}`);
      const before = this.refTarget(full);
      this.db.prepare('INSERT INTO image_refs (name, digest) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET digest = excluded.digest').run(full, digest);
      return before !== undefined && before !== digest ? before : undefined;
    }).immediate();
  }

  /**
   * Remove a tag (`busybox` = `busybox:latest`) or a repo digest
   * (`busybox@sha256:…`). Returns the manifest digest it pointed at; the
   * image record stays, even with no name left (the caller decides).
   */
  untag(name: string): Digest {
    const ref = parseReference(name);
    const full = ref.digest !== undefined ? `${nameOf(ref)}@${ref.digest}` : formatReference(ref);
    return this.db.transaction((): Digest => {
      const target = this.refTarget(full);
      if (target === undefined) throw notFound('ImageNotFound', `no such image: ${name}`);
      this.db.prepare('DELETE FROM image_refs WHERE name = ?').run(full);
      return target;
    }).immediate();
  }

  /**
   * Find an image as Docker does. In order: a full image ID (`sha256:<64
   * hex>` or the bare 64 hex) only as an ID; else the name (`busybox` means
   * `docker.io/library/busybox:latest`; `name@sha256:…` by its repo digest,
   * any tag beside the digest ignored); else a prefix of an image ID
   * (`1a2b`, `sha256:1a2b`), which must be unambiguous.
   */
  resolve(text: string): Image {
    if (!FULL_ID.test(text)) {
      const found = this.byReference(parseReference(text));
      if (found) return found;
    }
    const m = ID_PREFIX.exec(text);
    if (m) {
      const found = this.byIdPrefix(m[1]!, text);
      if (found) return found;
    }
    throw notFound('ImageNotFound', `no such image: ${text}`);
  }

  /** Every image, the most recently recorded first. */
  list(): Image[] {
    const rows = this.db.prepare('SELECT * FROM images ORDER BY added DESC, digest').all() as ImageRow[];
    return rows.map((r) => this.toImage(r));
  }

  /** The tags pointing at an image, sorted. */
  namesOf(digest: Digest): string[] {
    return this.refsOf(digest).filter((n) => !n.includes('@'));
  }

  /**
   * Remove an image record and every reference to it; returns the tags it
   * had. Whether that is allowed (a container still using it, several tags)
   * is the caller's policy.
   */
  remove(digest: Digest): string[] {
    return this.db.transaction((): string[] => {
      if (!this.row(digest)) throw notFound('ImageNotFound', `no such image: ${digest}`);
      const names = this.namesOf(digest);
      // image_refs rows go with it (ON DELETE CASCADE).
      this.db.prepare('DELETE FROM images WHERE digest = ?').run(digest);
      return names;
    }).immediate();
  }

  /** The parsed config of an image, from the content store. */
  config(image: ImageRecord): ImageConfig {
    return parseImageConfig(this.content.read(image.configDigest));
  }

  private row(digest: string): ImageRow | undefined {
    return this.db.prepare('SELECT * FROM images WHERE digest = ?').get(digest) as ImageRow | undefined;
  }

  private refTarget(name: string): Digest | undefined {
    const hit = this.db.prepare('SELECT digest FROM image_refs WHERE name = ?').get(name) as { digest: Digest } | undefined;
    return hit?.digest;
  }

  private refsOf(digest: Digest): string[] {
    const rows = this.db.prepare('SELECT name FROM image_refs WHERE digest = ? ORDER BY name').all(digest) as { name: string }[];
    return rows.map((r) => r.name);
  }

  private byReference(ref: Reference): Image | undefined {
    let target: Digest | undefined;
    if (ref.digest !== undefined) {
      target = this.refTarget(`${nameOf(ref)}@${ref.digest}`);
      // Also the manifest itself, when a tag of the same repository names it:
      // `busybox@<manifest digest>` after `pull busybox`, whose repo digest is the index's.
      if (target === undefined && this.row(ref.digest) && this.namesOf(ref.digest).some((n) => nameOf(parseReference(n)) === nameOf(ref))) {
        target = ref.digest;
      }
    } else {
      target = this.refTarget(formatReference(ref));
    }
    return target === undefined ? undefined : this.get(target);
  }

  private byIdPrefix(hex: string, text: string): Image | undefined {
    // GLOB, unlike LIKE, is case-sensitive and can use the index; `hex` is
    // [a-f0-9] only, so it holds no pattern characters.
    const rows = this.db.prepare('SELECT * FROM images WHERE config_digest GLOB ? ORDER BY added DESC, digest').all(`sha256:${hex}*`) as ImageRow[];
    if (rows.length === 0) return undefined;
    const ids = [...new Set(rows.map((r) => r.config_digest as Digest))];
    if (ids.length > 1) {
      const shown = ids.slice(0, 5).map((id) => hexOf(id).slice(0, Math.max(12, hex.length + 1)));
      throw invalid('AmbiguousImageId', `image ID prefix "${text}" is ambiguous: it matches ${ids.length} images (${shown.join(', ')}${ids.length > 5 ? ', …' : ''}); give more digits`);
    }
    // One ID, perhaps several manifests of it: prefer one that has a tag, then the newest.
    const images = rows.map((r) => this.toImage(r));
    return images.find((i) => i.names.length > 0) ?? images[0];
  }

  private toImage(row: ImageRow): Image {
    const refs = this.refsOf(row.digest as Digest);
    try {
      return {
        digest: row.digest as Digest,
        mediaType: row.media_type,
        configDigest: row.config_digest as Digest,
        layers: JSON.parse(row.layers) as ImageLayer[],
        platform: JSON.parse(row.platform) as Platform,
        ...(row.created !== null ? { created: row.created } : {}),
        size: row.size,
        names: refs.filter((n) => !n.includes('@')),
        repoDigests: refs.filter((n) => n.includes('@')),
        added: row.added,
      };
    } catch (err) {
      throw systemError('StoreCorrupt', `image ${row.digest}: its record in the metadata store is unreadable: ${(err as Error).message}`, err);
    }
  }
}

function canonicalRepoDigest(text: string): string {
  const ref = parseReference(text);
  if (ref.digest === undefined) throw invalid('InvalidImageRecord', `image record repoDigests: "${text}" must be name@sha256:<digest>`);
  return `${nameOf(ref)}@${ref.digest}`;
}

// The record comes from our own puller, but it is about to become durable:
// check its shape once here rather than meet a bad row on every read.
function checkRecord(r: ImageRecord): void {
  const bad = (field: string, why: string) => invalid('InvalidImageRecord', `image record ${field}: ${why}`);
  const digest = (field: string, d: string) => {
    if (!isDigest(d)) throw bad(field, `"${d}" is not a sha256 digest`);
  };
  const size = (field: string, n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw bad(field, 'must be a non-negative integer');
  };
  digest('digest', r.digest);
  digest('configDigest', r.configDigest);
  size('size', r.size);
  if (!r.mediaType) throw bad('mediaType', 'must not be empty');
  if (!r.platform?.os || !r.platform.architecture) throw bad('platform', 'needs an os and an architecture');
  r.layers.forEach((l, i) => {
    digest(`layers[${i}].digest`, l.digest);
    digest(`layers[${i}].diffId`, l.diffId);
    size(`layers[${i}].size`, l.size);
    if (!l.mediaType) throw bad(`layers[${i}].mediaType`, 'must not be empty');
  });
}
