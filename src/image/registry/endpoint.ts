// Where a registry lives and which scheme reaches it. A registry is named as
// in an image reference (`docker.io`, `localhost:5000`, `[::1]:5000`);
// docker.io is served by registry-1.docker.io. HTTPS always, except for
// loopback hosts and registries the user marks insecure (an option, or
// BERTH_INSECURE_REGISTRIES=host:port,...), which get plain HTTP. Also the
// shape checks on repository names and references, so that nothing a caller
// passes can change the request path.
import { invalid } from '../../util/errors.js';

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const HUB_API_HOST = 'registry-1.docker.io';

// host: a DNS name or IPv4 address, or a bracketed IPv6 address; then an optional port.
const REGISTRY = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_REF = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** `docker.io` for every name of Docker Hub, the lowercased registry otherwise; refuses malformed names. */
export function normalizeRegistry(registry: string): string {
  const r = registry.trim().toLowerCase();
  if (!REGISTRY.test(r)) throw invalid('InvalidRegistry', `invalid registry "${registry}": expected host or host:port (for example docker.io or localhost:5000)`);
  return HUB_ALIASES.has(r) ? DOCKER_HUB : r;
}

/** The host part of host:port (brackets kept off an IPv6 address). */
export function hostOf(registry: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (m) return m[1]!;
  const i = registry.lastIndexOf(':');
  return i === -1 ? registry : registry.slice(0, i);
}

export function isLoopback(registry: string): boolean {
  const host = hostOf(registry).toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1';
}

/** Registries listed in BERTH_INSECURE_REGISTRIES (host:port, or a host for every port). */
export function insecureFromEnv(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const list = (env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return list.includes(registry) || list.includes(hostOf(registry));
}

/** The base URL of the registry's API (no trailing slash, no /v2). */
export function registryBaseUrl(registry: string, insecure = false, env: NodeJS.ProcessEnv = process.env): URL {
  const r = normalizeRegistry(registry);
  if (r === DOCKER_HUB) return new URL(`https://${HUB_API_HOST}`);
  const plain = insecure || isLoopback(r) || insecureFromEnv(r, env);
  return new URL(`${plain ? 'http' : 'https'}://${r}`);
}

export function checkRepository(registry: string, repo: string): void {
  if (!REPOSITORY.test(repo) || repo.length > 255) {
    throw invalid('InvalidRepository', `invalid repository name "${repo}" for registry ${registry}: lowercase letters, digits and separators (. _ __ -) in /-separated parts`);
  }
}

export function checkReference(registry: string, repo: string, reference: string): void {
  if (!TAG.test(reference) && !DIGEST_REF.test(reference)) {
    throw invalid('InvalidReference', `invalid tag or digest "${reference}" for ${registry}/${repo}`);
  }
}

/** A repository as the user would write it (`busybox` on Docker Hub's library, `localhost:5000/app`), for messages. */
export function displayName(registry: string, repo: string): string {
  if (registry === DOCKER_HUB) return repo.startsWith('library/') ? repo.slice('library/'.length) : repo;
  return `${registry}/${repo}`;
}
