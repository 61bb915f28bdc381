// Where secrets live: the OS keychain in the product, memory in tests. Never a file (docs/architecture.md).

/** Service name under which every secret of this app is stored in the OS keychain. */
export const KEYCHAIN_SERVICE = 'smtp-relay-tray';

/** Environment variable that supplies the smarthost password when no keychain is available. */
export const PASSWORD_ENV = 'SMTP_RELAY_SMARTHOST_PASSWORD';

export interface CredentialStore {
  /** The stored secret, or null when none is stored for this account. */
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** True when a secret was deleted, false when none was stored. */
  delete(account: string): Promise<boolean>;
}

export class MemoryCredentialStore implements CredentialStore {
  private readonly secrets = new Map<string, string>();

  async get(account: string): Promise<string | null> {
    return this.secrets.get(account) ?? null;
  }

  async set(account: string, secret: string): Promise<void> {
    this.secrets.set(account, secret);
  }

  async delete(account: string): Promise<boolean> {
    return this.secrets.delete(account);
  }
}

/** The OS keychain could not be used. `detail` is the platform's own message (never the secret). */
export class KeychainUnavailableError extends Error {
  readonly detail: string;

  constructor(detail: string) {
    super(
      `The OS keychain is not available: ${detail}. ` +
        'On Linux the Secret Service (gnome-keyring) must be running and unlocked in this session; ' +
        'on Windows, Credential Manager failed. ' +
        `For headless use, set the environment variable ${PASSWORD_ENV} instead.`,
    );
    this.name = 'KeychainUnavailableError';
    this.detail = detail;
  }
}
