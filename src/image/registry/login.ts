// `berth login` / `berth logout` below the CLI: credentials are checked
// against the registry first (GET /v2/, answering its challenge: a token
// fetched with them for Bearer, the request itself for Basic) and stored in
// the Docker client config only when the registry accepted them. Wrong
// credentials are a clear error and leave the file untouched.
import { invalid } from '../../util/errors.js';
import { RegistryClient } from './client.js';
import { CredentialStore } from './credentials.js';
import { normalizeRegistry } from './endpoint.js';
import { RegistryError } from './http.js';

export interface LoginOptions {
  /** Plain HTTP for this registry (see RegistryClient). */
  insecure?: boolean;
  /** Where to store the credentials (default: the Docker client config of this user). */
  credentials?: CredentialStore;
  userAgent?: string;
  timeoutMs?: number;
}

export interface LoginResult {
  registry: string;
  /** The file the credentials went to. */
  path: string;
  /** Things the user should know (unencrypted storage, ignored credential helpers). */
  warnings: string[];
}

export async function login(registry: string, username: string, password: string, opts: LoginOptions = {}): Promise<LoginResult> {
  const r = normalizeRegistry(registry);
  if (!username) throw invalid('InvalidCredentials', `login to ${r}: the username is empty`);
  if (!password) throw invalid('InvalidCredentials', `login to ${r}: the password is empty`);
  const candidate = { username, password };
  const client = new RegistryClient({ registry: r, insecure: opts.insecure, credentials: { get: () => candidate }, userAgent: opts.userAgent, timeoutMs: opts.timeoutMs });
  try {
    await client.ping();
  } catch (err) {
    if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) {
      throw new RegistryError('invalid', 'Unauthorized', `login to ${r} failed: unauthorized: incorrect username or password`, { status: err.status, registry: r, cause: err });
    }
    throw err;
  }
  const store = opts.credentials ?? new CredentialStore();
  store.store(r, username, password);
  const warnings = [`your password is stored unencrypted in ${store.path}`];
  const note = store.helperNote();
  if (note) warnings.push(note);
  return { registry: r, path: store.path, warnings };
}

export interface LogoutResult {
  registry: string;
  path: string;
  /** False when no credentials were stored for the registry ("Not logged in"). */
  removed: boolean;
}

export function logout(registry: string, opts: { credentials?: CredentialStore } = {}): LogoutResult {
  const r = normalizeRegistry(registry);
  const store = opts.credentials ?? new CredentialStore();
  return { registry: r, path: store.path, removed: store.erase(r) };
}
