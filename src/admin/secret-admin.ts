// What the user does to the smarthost's secrets (the window's sign-in fields, `smtp-relay password`,
// `smtp-relay oauth`): store, remove, show whether one is there, sign in with the browser. Secrets go
// to the OS keychain only, are masked in the log, and a change makes delivery use them at once.
import { RelayError, type OAuthSecretKind, type OAuthStatus, type PasswordStatus } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import type { TestCredentials } from '../diagnose/test-connection.js';
import type { TransportFactory } from '../deliver/transport-factory.js';
import type { MailLog } from '../log/mail-log.js';
import { openSystemBrowser } from '../oauth/open-browser.js';
import { deleteOAuthSecret, oauthStatus, signInWithBrowser, storeOAuthSecret } from '../oauth/setup.js';
import { passwordAccount } from '../oauth/stored-secrets.js';
import type { CredentialStore } from '../secrets/credential-store.js';
import { resolveSmarthostPassword, type bindPasswordEnv } from '../secrets/smarthost-password.js';

export interface SecretAdminOptions {
  credentials: CredentialStore;
  log: MailLog;
  /** The environment secrets are read from for a config. */
  secretEnv: ReturnType<typeof bindPasswordEnv>;
  /** The configuration in force. */
  config: () => Config;
  /** A secret changed: new deliveries use it (the running queue manager's renewTransport). */
  changed: () => void;
  /** Opens the OAuth2 sign-in page; the system browser if unset. */
  openBrowser?: (url: string) => Promise<void>;
}

export class SecretAdmin {
  constructor(private readonly opts: SecretAdminOptions) {}

  async setPassword(password: string): Promise<void> {
    const account = this.passwordAccount();
    await this.opts.credentials.set(account, password);
    this.opts.log.redact(password);
    this.opts.log.info(`password for ${account} stored in the OS keychain`);
    this.opts.changed();
  }

  async deletePassword(): Promise<boolean> {
    const account = this.passwordAccount();
    const deleted = await this.opts.credentials.delete(account);
    if (deleted) this.opts.log.info(`password for ${account} removed from the OS keychain`);
    this.opts.changed();
    return deleted;
  }

  async getPasswordStatus(): Promise<PasswordStatus> {
    const config = this.opts.config();
    const c = config.smarthost;
    if (!c.host || !c.auth.username) return { account: null, stored: false, source: null };
    try {
      const account = passwordAccount(config);
      const found = await resolveSmarthostPassword(config, this.opts.credentials, this.opts.secretEnv(config).env, account);
      return { account, stored: found !== null, source: found?.source ?? null };
    } catch (e) {
      throw new RelayError('unavailable', (e as Error).message);
    }
  }

  async getOAuthStatus(): Promise<OAuthStatus> {
    const config = this.opts.config();
    try {
      return await oauthStatus(config, this.opts.credentials, this.opts.secretEnv(config).env);
    } catch (e) {
      throw new RelayError('unavailable', (e as Error).message);
    }
  }

  async setOAuthSecret(kind: OAuthSecretKind, value: string): Promise<OAuthStatus> {
    const account = await storeOAuthSecret(this.opts.config(), this.opts.credentials, kind, value);
    this.opts.log.redact(value);
    this.opts.log.info(`${kind} for ${account} stored in the OS keychain`);
    this.opts.changed();
    return this.getOAuthStatus();
  }

  async deleteOAuthSecret(kind: OAuthSecretKind): Promise<boolean> {
    const { account, deleted } = await deleteOAuthSecret(this.opts.config(), this.opts.credentials, kind);
    if (deleted) this.opts.log.info(`${kind} for ${account} removed from the OS keychain`);
    this.opts.changed();
    return deleted;
  }

  async oauthLogin(): Promise<OAuthStatus> {
    const config = this.opts.config();
    const refreshToken = await signInWithBrowser(config, this.opts.credentials, this.opts.secretEnv(config).env, { openBrowser: this.opts.openBrowser ?? openSystemBrowser });
    return this.setOAuthSecret('refresh-token', refreshToken);
  }

  /**
   * What test-connection signs in with: the stored password, a fresh OAuth2 token (not the cached one:
   * the test proves the credential still works now), or why there is none (`token` failure text).
   */
  async testCredentials(c: Config, transports: TransportFactory): Promise<TestCredentials | null | { tokenFailure: string }> {
    const user = c.smarthost.auth.username;
    if (c.smarthost.auth.method === 'password' && c.smarthost.host && user) {
      const found = await resolveSmarthostPassword(c, this.opts.credentials, this.opts.secretEnv(c).env).catch((e: Error) => e);
      // A keychain that fails is said as such, not as "no password stored".
      if (found instanceof Error) return { user, unreadable: found.message };
      if (!found) return null;
      this.opts.log.redact(found.password);
      return { user, pass: found.password };
    }
    if (c.smarthost.auth.method.startsWith('oauth2') && c.smarthost.host) {
      const source = await transports.oauthSource(c).catch((e: Error) => e.message);
      if (typeof source === 'string') return { tokenFailure: source };
      const got = await source.get(true).catch((e: Error) => e.message);
      return typeof got === 'string' ? { tokenFailure: got } : { user, token: got.token };
    }
    return null;
  }

  private passwordAccount(): string {
    const config = this.opts.config();
    if (!config.smarthost.host || !config.smarthost.auth.username) {
      throw new RelayError('invalid', 'set smarthost.host and smarthost.auth.username before storing a password');
    }
    return passwordAccount(config);
  }
}
