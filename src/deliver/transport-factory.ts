// The transport for the configuration in force, with its secrets from the keychain (or the environment),
// or why delivery must wait until the user acts (no smarthost, no password, no OAuth2 secret).
import type { Config } from '../config/schema.js';
import type { MailLog } from '../log/mail-log.js';
import { OAuthTokens } from '../oauth/token-source.js';
import type { AccessTokenSource } from '../oauth/token.js';
import type { CredentialStore } from '../secrets/credential-store.js';
import { resolveSmarthostPassword, smarthostAccount, type bindPasswordEnv } from '../secrets/smarthost-password.js';
import { MxTransport } from './mx.js';
import { SmarthostTransport } from './smarthost.js';
import type { Blocked, DeliveryTransport } from './transport.js';

export interface TransportFactoryOptions {
  credentials: CredentialStore;
  /** The environment secrets are read from for a config (SMTP_RELAY_SMARTHOST_PASSWORD only for the host configured at open()). */
  secretEnv: ReturnType<typeof bindPasswordEnv>;
  /** Every secret read is masked in the log. */
  log: MailLog;
  /** EHLO name in MX mode when delivery.heloName is empty. */
  hostname?: string;
  /** Direct MX delivery (tests only): DNS servers instead of the system's, the port dialled instead of 25. */
  mx?: { dnsServers?: string[]; port?: number };
  /** Replaces the nodemailer transport (tests only). */
  makeTransport?: (config: Config, password: string | null) => DeliveryTransport;
}

export class TransportFactory {
  /** OAuth2 access tokens, kept across transports while config and secrets stay the same. */
  private oauthTokens: OAuthTokens | null = null;

  constructor(private readonly opts: TransportFactoryOptions) {}

  async make(c: Config): Promise<DeliveryTransport | Blocked> {
    const { opts } = this;
    const unconfigured = (reason: string): Blocked => ({ state: 'unconfigured', reason });
    if (c.delivery.mode === 'mx') return opts.makeTransport?.(c, null) ?? new MxTransport(c, { ...opts.mx, hostname: opts.hostname, log: opts.log });
    if (!c.smarthost.host) return unconfigured('no smarthost configured: set smarthost.host in the settings window or with `smtp-relay config set smarthost.host HOST`');
    let tokens: AccessTokenSource | null = null;
    if (c.smarthost.auth.method.startsWith('oauth2')) {
      const source = await this.oauthSource(c).catch((e: Error) => e.message);
      if (typeof source === 'string') return unconfigured(source);
      tokens = source;
    }
    let password: string | null = null;
    if (c.smarthost.auth.method === 'password') {
      try {
        password = (await resolveSmarthostPassword(c, opts.credentials, opts.secretEnv(c).env))?.password ?? null;
      } catch (e) {
        return unconfigured((e as Error).message);
      }
      if (!password) return unconfigured(opts.secretEnv(c).withheld ?? `no password stored for ${smarthostAccount(c)}: run \`smtp-relay password set\` or enter it in the settings window`);
      opts.log.redact(password);
    }
    try {
      return opts.makeTransport ? opts.makeTransport(c, password) : new SmarthostTransport(c, password, {}, tokens);
    } catch (e) {
      return unconfigured((e as Error).message);
    }
  }

  /** The OAuth2 token source for `c`, or why there is none (a secret not stored, the keychain failing). */
  async oauthSource(c: Config): Promise<AccessTokenSource | string> {
    this.oauthTokens ??= new OAuthTokens(this.opts.credentials);
    const got = await this.oauthTokens.sourceFor(c, this.opts.secretEnv(c));
    if ('missing' in got) return got.missing;
    for (const secret of got.secrets) this.opts.log.redact(secret);
    return got.source;
  }
}
