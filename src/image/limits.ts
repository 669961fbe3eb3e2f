// How large an image's metadata may be. Manifests, indexes, configs and an
// archive's own JSON are read whole into memory, parsed, and (but for the
// archive's JSON) kept in the content store, where every `berth images` reads
// the configs again: unbounded, one hostile image could make every later
// command slow or kill it. Layers are different: they stream to disk and are
// bounded only by it. The same bounds hold wherever the document comes from
// (a registry for `pull`, an archive for `load`), and a document over its
// bound is refused before it is read or stored (docs/image-design.md).
//
// Where the numbers come from:
// - manifests and indexes: 4 MiB. The registry server (distribution's
//   registry/handlers/manifests.go, maxManifestBodySize = 4 << 20) refuses to
//   store a larger one, containerd resolves none larger than its
//   MaxManifestSize (core/remotes/docker/resolver.go, 4 * 1048 * 1048, about
//   4.2 MB) and containers/image (Podman, skopeo, CRI-O) reads none larger
//   than MaxManifestBodySize (internal/iolimits/iolimits.go, 4 MiB).
// - image configs: 4 MiB, containers/image's MaxConfigBodySize.
// - an archive's manifest.json, repositories and oci-layout: 4 MiB as well;
//   containerd's importer reads them through a 20 MiB LimitReader
//   (core/images/archive/importer.go), containers/image allows 1 MiB for a
//   docker-archive's manifest.json (MaxTarFileManifestSize). A berth save of
//   ten thousand images stays far below 4 MiB.
import { invalid, type BerthError } from '../util/errors.js';

export const METADATA_LIMITS = {
  /** An image manifest or index (a Docker manifest list): from a registry, or a blob or index.json of an archive. */
  manifest: 4 << 20,
  /** An image config. */
  config: 4 << 20,
  /** A docker-archive's manifest.json and repositories, an OCI layout's oci-layout. */
  archiveJson: 4 << 20,
} as const;

export type MetadataKind = keyof typeof METADATA_LIMITS;

const WHAT: Record<MetadataKind, string> = {
  manifest: 'a manifest or index',
  config: 'an image config',
  archiveJson: "an archive's metadata",
};

/** The refusal for `what` (named by the caller: "manifest …", "archive entry …") of `size` bytes, or of more than the bound when the size is not known. */
export function tooLarge(kind: MetadataKind, what: string, size?: number): BerthError {
  const limit = METADATA_LIMITS[kind];
  const said = size === undefined ? `more than ${limit} bytes` : `${size} bytes`;
  return invalid('TooLarge', `${what} is ${said}, more than the ${limit / (1 << 20)} MiB berth accepts for ${WHAT[kind]}`);
}

/** Throw tooLarge unless `size` is within the bound of `kind`. */
export function checkSize(kind: MetadataKind, what: string, size: number): void {
  if (size > METADATA_LIMITS[kind]) throw tooLarge(kind, what, size);
}
