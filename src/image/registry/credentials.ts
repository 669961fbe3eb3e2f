// Registry credentials in the Docker client's own file, so that `berth login`
// and `docker login` share them: $DOCKER_CONFIG/config.json, or
// ~/.docker/config.json, shaped
//   { "auths": { "localhost:5000": { "auth": base64("user:pass") },
//                "https://index.docker.io/v1/": { "auth": "..." } }, ...other keys }
// Docker Hub is stored under its historical key "https://index.docker.io/v1/".
// Other keys of the file are kept as they are; the file is written atomically
// with mode 0600. Credential helpers (credsStore, credHelpers) are not
// supported: berth reads and writes `auths` only, and says so (helperNote).
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/fs.js';
import { errnoCode, invalid, systemError } from '../../util/errors.js';
import { DOCKER_HUB, normalizeRegistry } from './endpoint.js';
import type { CredentialSource, Credentials } from './types.js';

export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

/** The `auths` key berth writes for a registry. */
export function authKey(registry: string): string {
  const r = normalizeRegistry(registry);
  return r === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : r;
}

/** The registry an `auths` key stands for, as Docker reads keys: scheme and path dropped. */
function registryOfKey(key: string): string | undefined {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
  try {
    return normalizeRegistry(host);
  } catch {
    return undefined;
  }
}

type ConfigFile = Record<string, unknown> & { auths?: Record<string, unknown> };

export class CredentialStore implements CredentialSource {
  readonly path: string;

  constructor(path: string = dockerConfigPath()) {
    this.path = path;
  }

  /** The credentials stored for a registry, or undefined. */
  get(registry: string): Credentials | undefined {
    const target = normalizeRegistry(registry);
    const auths = this.read().auths ?? {};
    const exact = authKey(target);
    const keys = [exact, ...Object.keys(auths).filter((k) => k !== exact && registryOfKey(k) === target)];
    for (const key of keys) {
      const entry = auths[key];
      if (entry === undefined) continue;
      const c = this.decode(key, entry);
      if (c) return c;
    }
    return undefined;
  }

  /** Store credentials for a registry, replacing any other key that names the same registry. */
  store(registry: string, username: string, password: string): void {
    if (!username) throw invalid('InvalidCredentials', 'the username is empty');
    if (username.includes(':')) throw invalid('InvalidCredentials', `the username "${username}" contains ":", which the Docker config format cannot hold`);
    if (!password) throw invalid('InvalidCredentials', 'the password is empty');
    const target = normalizeRegistry(registry);
    const config = this.read();
    const auths: Record<string, unknown> = { ...(config.auths ?? {}) };
    for (const key of Object.keys(auths)) if (registryOfKey(key) === target) delete auths[key];
    auths[authKey(target)] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
    config.auths = auths;
    this.write(config);
  }

  /** Remove a registry's credentials; false when there were none. */
  erase(registry: string): boolean {
    const target = normalizeRegistry(registry);
    const config = this.read();
    const auths: Record<string, unknown> = { ...(config.auths ?? {}) };
    const keys = Object.keys(auths).filter((k) => registryOfKey(k) === target);
    if (keys.length === 0) return false;
    for (const key of keys) delete auths[key];
    config.auths = auths;
    this.write(config);
    return true;
  }

  /** A note when the file names a credential helper, which berth does not run. */
  helperNote(): string | undefined {
    const config = this.read();
    const helpers = [
      typeof config.credsStore === 'string' && config.credsStore ? `credsStore "${config.credsStore}"` : '',
      typeof config.credHelpers === 'object' && config.credHelpers !== null && Object.keys(config.credHelpers).length > 0 ? 'credHelpers' : '',
    ].filter(Boolean);
    if (helpers.length === 0) return undefined;
    return `${this.path} names ${helpers.join(' and ')}; berth does not run credential helpers and uses the "auths" entries only`;
  }

  private decode(key: string, entry: unknown): Credentials | undefined {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const e = entry as Record<string, unknown>;
    if (typeof e.auth === 'string' && e.auth) {
      const text = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i <= 0) throw invalid('InvalidDockerConfig', `${this.path}: auths["${key}"].auth is not base64 of "username:password"`);
      return { username: text.slice(0, i), password: text.slice(i + 1) };
    }
    if (typeof e.username === 'string' && e.username && typeof e.password === 'string') {
      return { username: e.username, password: e.password };
    }
    // {} (kept by a credential helper) or an identitytoken (OAuth refresh token): not supported.
    return undefined;
  }

  private read(): ConfigFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return {};
      throw systemError('DockerConfigUnreadable', `cannot read ${this.path}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    if (text.trim() === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw invalid('InvalidDockerConfig', `${this.path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('InvalidDockerConfig', `${this.path}: expected a JSON object`);
    const config = parsed as ConfigFile;
    if (config.auths !== undefined && (typeof config.auths !== 'object' || config.auths === null || Array.isArray(config.auths))) {
      throw invalid('InvalidDockerConfig', `${this.path}: "auths" must be an object`);
    }
    return config;
  }

  private write(config: ConfigFile): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    // Docker writes the file with tabs; keep the same look.
    writeFileAtomic(this.path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  }
}
