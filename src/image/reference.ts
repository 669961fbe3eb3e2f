// Image references: the `busybox`, `ghcr.io/o/r:v1`, `localhost:5000/a@sha256:…`
// a user types. berth normalises them exactly as Docker does (the grammar and
// normalisation of github.com/distribution/reference), because a name that
// means one image under docker means the same image here:
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ registry "/" ] path-component ( "/" path-component )*
//   registry   := host [ ":" port ]    — only if the first component has a "."
//                 or ":", is "localhost", or has an uppercase letter
//   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [\w][\w.-]{0,127}
//
// Without a registry the name is on Docker Hub (`docker.io`, the legacy
// `index.docker.io` too), where a one-component name is an official image
// under `library/`. The tag defaults to `latest` only when there is no digest.
import { BerthError } from '../util/errors.js';
import { digestProblem, type Digest } from './digest.js';

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_MAX = 255;

export interface Reference {
  /** `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** The repository path on that registry: `library/busybox`, `a/b`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

// The expressions of distribution/reference's regexp.go, spelled the same way.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const REMOTE_NAME_RE = new RegExp(`^${REMOTE_NAME}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;

function fail(text: string, reason: string): BerthError {
  return new BerthError('invalid', 'InvalidReference', `invalid reference "${text}": ${reason}`);
}

// Which part of `text` is the registry, as Docker decides it: the first
// component is a registry only if it cannot be a Docker Hub namespace.
function splitRegistry(text: string): { registry: string; remainder: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return { registry: DEFAULT_REGISTRY, remainder: OFFICIAL_PREFIX + text };
  const first = text.slice(0, slash);
  let registry: string;
  let remainder: string;
  if (first === 'localhost' || first === LEGACY_DEFAULT_REGISTRY || /[.:]/.test(first) || first.toLowerCase() !== first) {
    registry = first === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : first;
    remainder = text.slice(slash + 1);
  } else {
    registry = DEFAULT_REGISTRY;
    remainder = text;
  }
  if (registry === DEFAULT_REGISTRY && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { registry, remainder };
}

/** Parse and normalise a reference as `docker pull` does. */
export function parseReference(text: string): Reference {
  if (text === '') throw fail(text, 'repository name must have at least one component');
  if (IMAGE_ID_RE.test(text)) {
    throw fail(text, 'a 64-digit hexadecimal string is an image ID, it cannot be a repository name');
  }
  const { registry, remainder } = splitRegistry(text);
  const remote = remainder.split(/[:@]/, 1)[0]!;
  if (remote.toLowerCase() !== remote) throw fail(text, `repository name "${remote}" must be lowercase`);

  const full = `${registry}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) throw fail(text, diagnose(text, registry, remainder));
  const [, name, tag, digestText] = m;
  if (name!.length > NAME_MAX) throw fail(text, `repository name must not be more than ${NAME_MAX} characters`);
  let digest: Digest | undefined;
  if (digestText !== undefined) {
    const problem = digestProblem(digestText);
    if (problem !== undefined) throw fail(text, `invalid digest: ${problem}`);
    digest = digestText as Digest;
  }
  const repository = name!.slice(registry.length + 1);
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : digest === undefined ? { tag: DEFAULT_TAG } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

// The whole-reference expression failed; say which part is wrong, starting
// with Docker's own wording so the message is recognisable.
function diagnose(text: string, registry: string, remainder: string): string {
  if (!DOMAIN_RE.test(registry)) return `invalid reference format: "${registry}" is not a valid registry host[:port]`;
  const at = remainder.indexOf('@');
  const nameAndTag = at < 0 ? remainder : remainder.slice(0, at);
  const digestText = at < 0 ? undefined : remainder.slice(at + 1);
  const colon = nameAndTag.lastIndexOf(':');
  const path = colon < 0 ? nameAndTag : nameAndTag.slice(0, colon);
  const tag = colon < 0 ? undefined : nameAndTag.slice(colon + 1);
  if (!REMOTE_NAME_RE.test(path)) {
    return `invalid reference format: repository name "${path}" may contain only lowercase letters, digits and separators (".", "_", "__", "-"), each component starting and ending with a letter or digit`;
  }
  if (tag !== undefined && !TAG_RE.test(tag)) {
    return `invalid tag format: "${tag}" (a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-")`;
  }
  const problem = digestText === undefined ? undefined : digestProblem(digestText);
  if (problem !== undefined) return `invalid digest: ${problem}`;
  return 'invalid reference format';
}

/** `docker.io/library/busybox` — the name without tag or digest. */
export function nameOf(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full normalised form: `docker.io/library/busybox:latest`, `localhost:5000/a@sha256:…`. */
export function formatReference(ref: Reference): string {
  return nameOf(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The name as `docker images` prints it: `busybox`, `user/repo`, `localhost:5000/a`. */
export function familiarName(ref: Reference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return nameOf(ref);
  if (ref.repository.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.repository.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.repository;
}

/** The familiar name with its tag and digest: `busybox:latest`. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The same repository with another tag (and no digest). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw fail(`${nameOf(ref)}:${tag}`, `invalid tag format: "${tag}"`);
  return { registry: ref.registry, repository: ref.repository, tag };
}

/** The same repository pinned to a digest (and no tag): what `RepoDigests` lists. */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}
