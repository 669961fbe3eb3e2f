// Credentials as the registry client sees them: a username and password per
// registry, and the interface it looks them up through (a CredentialStore
// over the Docker config file, or an in-memory one during login).

/** Username and password for one registry, as the Docker client config holds them. */
export interface Credentials {
  username: string;
  password: string;
}

/** Where the client looks up credentials; CredentialStore is one, login uses an in-memory one. */
export interface CredentialSource {
  get(registry: string): Credentials | undefined;
}
