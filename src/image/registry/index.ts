// The registry client's public surface, for pull, push and the CLI's login.
export { RegistryClient } from './client.js';
export type { RegistryClientOptions, ManifestResponse, ManifestDescriptor, UploadOptions, PingResult, Credentials, CredentialSource } from './client.js';
export { RegistryError, type RegistryErrorDetail } from './http.js';
export { CredentialStore, dockerConfigPath, authKey, DOCKER_HUB_AUTH_KEY } from './credentials.js';
export { login, logout, type LoginOptions, type LoginResult, type LogoutResult } from './login.js';
export { parseWwwAuthenticate, type Challenge } from './auth.js';
export { registryBaseUrl, normalizeRegistry, isLoopback, DOCKER_HUB } from './endpoint.js';
