// Manifests, indexes and image configs: the JSON documents that describe an
// image (OCI image-spec 1.1, and Docker's schema 2 which it grew out of).
//
//   index (or Docker manifest list)  one entry per platform → a manifest
//   manifest                         the config blob + the ordered layer blobs
//   config                           how to run it (Env, Cmd, …) and the
//                                    diff_ids: digests of the *uncompressed* layers
//
// Every document comes from a registry or an archive, i.e. from outside, so it
// is validated here with a message naming the field ("manifest.layers[2].digest:
// …"). Docker's schema 1 (signed, pre-2017) is refused by name rather than
// failing obscurely. Platform selection follows containerd's matcher
// (platforms.Only), which is what `docker pull` uses.
import { arch as nodeArch, endianness } from 'node:os';
import { z } from 'zod';
import { invalid, notFound } from '../util/errors.js';
import { digestProblem, type Digest } from './digest.js';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const INDEX_MEDIA_TYPES = [MediaType.ociIndex, MediaType.dockerManifestList] as const;
export const MANIFEST_MEDIA_TYPES = [MediaType.ociManifest, MediaType.dockerManifest] as const;
export const CONFIG_MEDIA_TYPES = [MediaType.ociConfig, MediaType.dockerConfig] as const;
export type IndexMediaType = (typeof INDEX_MEDIA_TYPES)[number];
export type ManifestMediaType = (typeof MANIFEST_MEDIA_TYPES)[number];

/** What a registry client sends as Accept for a manifest: every type berth can use, indexes first. */
export const MANIFEST_ACCEPT: readonly string[] = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES];

import type { Compression } from './compression.js';
export type { Compression };

const LAYER_MEDIA_TYPES: ReadonlyMap<string, { compression: Compression; nondistributable: boolean }> = new Map([
  [MediaType.ociLayer, { compression: 'none', nondistributable: false }],
  [MediaType.ociLayerGzip, { compression: 'gzip', nondistributable: false }],
  [MediaType.ociLayerZstd, { compression: 'zstd', nondistributable: false }],
  [MediaType.ociLayerNondistributable, { compression: 'none', nondistributable: true }],
  [MediaType.ociLayerNondistributableGzip, { compression: 'gzip', nondistributable: true }],
  [MediaType.ociLayerNondistributableZstd, { compression: 'zstd', nondistributable: true }],
  [MediaType.dockerLayer, { compression: 'none', nondistributable: false }],
  [MediaType.dockerLayerGzip, { compression: 'gzip', nondistributable: false }],
  [MediaType.dockerLayerForeign, { compression: 'none', nondistributable: true }],
  [MediaType.dockerLayerForeignGzip, { compression: 'gzip', nondistributable: true }],
]);

export function isIndexMediaType(t: string): t is IndexMediaType {
  return (INDEX_MEDIA_TYPES as readonly string[]).includes(t);
}
export function isManifestMediaType(t: string): t is ManifestMediaType {
  return (MANIFEST_MEDIA_TYPES as readonly string[]).includes(t);
}
export function isLayerMediaType(t: string): boolean {
  return LAYER_MEDIA_TYPES.has(t);
}
/** The compression a layer media type declares (layers.ts still trusts magic bytes over it). */
export function layerCompression(t: string): Compression | undefined {
  return LAYER_MEDIA_TYPES.get(t)?.compression;
}
/** Layers a registry may not redistribute (Windows base layers): push skips them. */
export function isNondistributable(t: string): boolean {
  return LAYER_MEDIA_TYPES.get(t)?.nondistributable ?? false;
}

// --- schemas ---

const digest = z.string().superRefine((v, ctx) => {
  const problem = digestProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}).transform((v) => v as Digest);

const stringMap = z.record(z.string(), z.string());

const platformSchema = z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest,
  size: z.number().int().min(0),
  urls: z.array(z.string()).optional(),
  annotations: stringMap.optional(),
  platform: platformSchema.optional(),
  artifactType: z.string().optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: stringMap.optional(),
});

const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: stringMap.optional(),
});

const emptyObjectMap = z.record(z.string(), z.object({}));

// Docker's container config, as the image config carries it. Durations are
// nanoseconds, as Docker writes them.
const runConfigSchema = z.object({
  User: z.string().optional(),
  Env: z.array(z.string()).optional(),
  Entrypoint: z.array(z.string()).optional(),
  Cmd: z.array(z.string()).optional(),
  WorkingDir: z.string().optional(),
  Labels: stringMap.optional(),
  StopSignal: z.string().optional(),
  ExposedPorts: emptyObjectMap.optional(),
  Volumes: emptyObjectMap.optional(),
  Healthcheck: z.object({
    Test: z.array(z.string()).optional(),
    Interval: z.number().int().min(0).optional(),
    Timeout: z.number().int().min(0).optional(),
    StartPeriod: z.number().int().min(0).optional(),
    StartInterval: z.number().int().min(0).optional(),
    Retries: z.number().int().min(0).optional(),
  }).optional(),
  ArgsEscaped: z.boolean().optional(),
  OnBuild: z.array(z.string()).optional(),
  Shell: z.array(z.string()).optional(),
});

const imageConfigSchema = z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  created: z.string().optional(),
  author: z.string().optional(),
  config: runConfigSchema.optional(),
  rootfs: z.object({
    type: z.literal('layers'),
    diff_ids: z.array(digest),
  }),
  history: z.array(z.object({
    created: z.string().optional(),
    created_by: z.string().optional(),
    author: z.string().optional(),
    comment: z.string().optional(),
    empty_layer: z.boolean().optional(),
  })).optional(),
});

export type Descriptor = z.infer<typeof descriptorSchema>;
export type DescriptorPlatform = z.infer<typeof platformSchema>;
export type ImageIndex = z.infer<typeof indexSchema>;
export type ImageManifest = z.infer<typeof manifestSchema>;
export type ImageConfig = z.infer<typeof imageConfigSchema>;
export type RunConfig = z.infer<typeof runConfigSchema>;
export type HistoryEntry = NonNullable<ImageConfig['history']>[number];

export type ParsedManifest =
  | { kind: 'index'; mediaType: IndexMediaType; index: ImageIndex }
  | { kind: 'manifest'; mediaType: ManifestMediaType; manifest: ImageManifest };

// --- parsing ---

// Go's encoding/json writes a nil map or slice as null; to the schemas an
// absent field and a null one mean the same, so nulls in objects are dropped.
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

function parseJson(bytes: Uint8Array | string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid('InvalidManifest', `${what}: not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('InvalidManifest', `${what}: must be a JSON object`);
  }
  return dropNulls(value) as Record<string, unknown>;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string, code: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw invalid(code, `${what}${field}: ${issue.message}`);
}

// "application/json; charset=utf-8" → "application/json"
function bareMediaType(t: string | undefined): string | undefined {
  const bare = t?.split(';', 1)[0]!.trim().toLowerCase();
  return bare === '' ? undefined : bare;
}

const SCHEMA1 = `Docker image manifest schema 1 is not supported (Docker itself removed it); ask the image's author to push it again as an OCI or Docker schema 2 image`;

/**
 * Parse a manifest or index. `mediaType` is what it was served as (a
 * registry's Content-Type), if known; the document's own mediaType field must
 * agree with it, and without either the shape decides (OCI allows both absent).
 */
export function parseManifest(bytes: Uint8Array | string, mediaType?: string): ParsedManifest {
  const doc = parseJson(bytes, 'manifest');
  const served = bareMediaType(mediaType);
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.schemaVersion === 1 || 'fsLayers' in doc || served === MediaType.dockerSchema1 || served === MediaType.dockerSchema1Signed
    || declared === MediaType.dockerSchema1 || declared === MediaType.dockerSchema1Signed) {
    throw invalid('UnsupportedManifest', SCHEMA1);
  }
  // A Content-Type that is not a manifest type (application/json,
  // application/octet-stream from a plain file server) says nothing.
  const servedKnown = served !== undefined && (isIndexMediaType(served) || isManifestMediaType(served)) ? served : undefined;
  if (servedKnown !== undefined && declared !== undefined && declared !== servedKnown) {
    throw invalid('InvalidManifest', `manifest.mediaType: "${declared}" does not match the media type it was served as ("${servedKnown}")`);
  }
  const type = servedKnown ?? declared ?? ('manifests' in doc ? MediaType.ociIndex : MediaType.ociManifest);

  if (isIndexMediaType(type)) {
    // Both shapes in one document would let one digest mean two things.
    if ('config' in doc || 'layers' in doc) throw invalid('InvalidManifest', `index: has "config" or "layers", which only a manifest has`);
    return { kind: 'index', mediaType: type, index: validate(indexSchema, doc, 'index', 'InvalidManifest') };
  }
  if (isManifestMediaType(type)) {
    if ('manifests' in doc) throw invalid('InvalidManifest', `manifest: has "manifests", which only an index has`);
    const manifest = validate(manifestSchema, doc, 'manifest', 'InvalidManifest');
    // An image (as opposed to an OCI artifact with a config type of its own)
    // must consist of layers berth knows how to unpack.
    if ((CONFIG_MEDIA_TYPES as readonly string[]).includes(manifest.config.mediaType)) {
      manifest.layers.forEach((layer, i) => {
        if (!isLayerMediaType(layer.mediaType)) {
          throw invalid('UnsupportedManifest', `manifest.layers[${i}].mediaType: unsupported layer media type "${layer.mediaType}"`);
        }
      });
    }
    return { kind: 'manifest', mediaType: type, manifest };
  }
  throw invalid('UnsupportedManifest', `manifest.mediaType: unsupported media type "${type}" (berth reads ${MANIFEST_ACCEPT.join(', ')})`);
}

/** Parse an image config (the blob a manifest's config descriptor names). */
export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  return validate(imageConfigSchema, parseJson(bytes, 'config'), 'config', 'InvalidImageConfig');
}

// --- platforms ---

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const SPECIFIER_PART = /^[A-Za-z0-9_-]+$/;

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

// containerd's normalizeArch: the many spellings of one architecture, and
// the variant each implies.
function normalizeArch(architecture: string, variant: string): { architecture: string; variant: string } {
  let a = architecture.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      a = '386';
      v = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      a = 'amd64';
      if (v === 'v1') v = '';
      break;
    case 'aarch64':
    case 'arm64':
      a = 'arm64';
      if (v === '8' || v === 'v8' || v === 'v8.0') v = '';
      else if (v === '9' || v === '9.0' || v === 'v9.0') v = 'v9';
      break;
    case 'armhf':
      a = 'arm';
      v = 'v7';
      break;
    case 'armel':
      a = 'arm';
      v = 'v6';
      break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      break;
  }
  return { architecture: a, variant: v };
}

/** The canonical form two platforms are compared in (arm64/v8 = arm64, arm = arm/v7, x86_64 = amd64). */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  return { os: normalizeOs(p.os), architecture, ...(variant !== '' ? { variant } : {}) };
}

/** `linux/arm64/v8` as people write it (and `docker pull --platform` takes it). */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** The platform of the machine berth runs on. */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform === 'sunos' ? 'solaris' : process.platform;
  const a = nodeArch();
  switch (a) {
    case 'x64': return { os, architecture: 'amd64' };
    case 'ia32': return { os, architecture: '386' };
    case 'arm64': return { os, architecture: 'arm64' };
    case 'arm': {
      const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
      return { os, architecture: 'arm', variant: `v${typeof armVersion === 'string' || typeof armVersion === 'number' ? armVersion : 7}` };
    }
    case 'ppc64': return { os, architecture: endianness() === 'LE' ? 'ppc64le' : 'ppc64' };
    case 'mipsel': return { os, architecture: 'mipsle' };
    default: return { os, architecture: a };
  }
}

/**
 * Parse `os[/arch[/variant]]` as containerd's platforms.Parse does: a single
 * word is an OS (with the host's architecture) if it names one, else an
 * architecture (on the host's OS).
 */
export function parsePlatform(text: string): Platform {
  const bad = (why: string) => invalid('InvalidPlatform', `invalid platform "${text}": ${why}`);
  const parts = text.split('/');
  if (parts.length > 3) throw bad('expected os[/architecture[/variant]]');
  for (const part of parts) if (!SPECIFIER_PART.test(part)) throw bad(`"${part}" is not a valid component (letters, digits, "_" and "-")`);
  const host = hostPlatform();
  if (parts.length === 1) {
    const os = normalizeOs(parts[0]!);
    if (KNOWN_OS.has(os)) return { os, architecture: host.architecture, ...(host.variant && host.variant !== 'v7' ? { variant: host.variant } : {}) };
    const { architecture, variant } = normalizeArch(parts[0]!, '');
    if (KNOWN_ARCH.has(architecture)) return { os: host.os, architecture, ...(variant !== '' && !(architecture === 'arm' && variant === 'v7') ? { variant } : {}) };
    throw bad('unknown operating system or architecture');
  }
  const os = normalizeOs(parts[0]!);
  const norm = normalizeArch(parts[1]!, parts[2] ?? '');
  let variant = norm.variant;
  if (parts.length === 2 && norm.architecture === 'arm' && variant === 'v7') variant = '';
  if (parts.length === 3 && norm.architecture === 'arm64' && variant === '') variant = 'v8';
  return { os, architecture: norm.architecture, ...(variant !== '' ? { variant } : {}) };
}

// containerd's platformVector: what else runs where `p` runs, best first.
// amd64/v3 also runs v2 and v1 (and 386); arm64 runs 32-bit arm v8 down to v5.
function platformVector(p: Platform): Platform[] {
  const vector: Platform[] = [p];
  const level = (v: string | undefined) => (v?.startsWith('v') ? Number.parseInt(v.slice(1), 10) : NaN);
  switch (p.architecture) {
    case 'amd64': {
      for (let n = level(p.variant) - 1; n >= 1; n--) vector.push({ os: p.os, architecture: 'amd64', variant: `v${n}` });
      vector.push({ os: p.os, architecture: '386' });
      break;
    }
    case 'arm': {
      for (let n = level(p.variant) - 1; n >= 5; n--) vector.push({ os: p.os, architecture: 'arm', variant: `v${n}` });
      break;
    }
    case 'arm64':
      vector.push(...platformVector({ os: p.os, architecture: 'arm', variant: p.variant || 'v8' }));
      break;
  }
  return vector;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * The manifest in `index` for `want`: the best match by containerd's
 * ordering, the earliest entry among equals. An entry without a platform is a
 * last resort (its config tells the platform; the caller checks it).
 */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor {
  const vector = platformVector(normalizePlatform(want)).map(normalizePlatform);
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const d of index.manifests) {
    if (!isManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) continue;
    const rank = d.platform === undefined
      ? vector.length
      : vector.findIndex((p) => samePlatform(p, normalizePlatform(d.platform!)));
    if (rank >= 0 && rank < bestRank) {
      best = d;
      bestRank = rank;
    }
  }
  if (best) return best;
  const available = index.manifests
    .filter((d) => d.platform && d.platform.os !== 'unknown')
    .map((d) => formatPlatform(d.platform!));
  throw notFound('NoMatchingPlatform', `no matching manifest for ${formatPlatform(want)} in the image index (available: ${available.length ? [...new Set(available)].join(', ') : 'none'})`);
}

/** The platform an image config declares. */
export function configPlatform(config: ImageConfig): Platform {
  return normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
}
