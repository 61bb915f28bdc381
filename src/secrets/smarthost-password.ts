// The smarthost password: SMTP_RELAY_SMARTHOST_PASSWORD for headless use, else the OS keychain.
// Each secret is bound to where it may be sent: the keychain account names the host (and, for OAuth2
// secrets, the token endpoint: oauth/stored-secrets.ts), and the environment variable belongs to the
// smarthost configured when the relay started.
import type { Config } from '../config/schema.js';
import { PASSWORD_ENV, type CredentialStore } from './credential-store.js';

/** Keychain account of the smarthost password: "username@host" (docs/architecture.md). */
export function smarthostAccount(config: Config): string {
  return `${config.smarthost.auth.username}@${config.smarthost.host}`;
}

/**
 * The password to log in to the smarthost, or null when none is set; the caller decides what a
 * missing password means. A non-empty env var wins without touching the keychain, so a headless
 * machine with no keychain at all still works. `account`: where the keychain keeps it (an OAuth2
 * client secret has its own).
 */
export async function resolveSmarthostPassword(
  config: Config,
  store: CredentialStore,
  env: NodeJS.ProcessEnv = process.env,
  account = smarthostAccount(config),
): Promise<{ password: string; source: 'env' | 'keychain' } | null> {
  const fromEnv = env[PASSWORD_ENV];
  if (fromEnv) return { password: fromEnv, source: 'env' };
  const stored = await store.get(account);
  return stored === null ? null : { password: stored, source: 'keychain' };
}

/**
 * SMTP_RELAY_SMARTHOST_PASSWORD is for the smarthost configured when the relay started (`startHost`):
 * a later config pointing elsewhere must not receive it. For a config, the environment to read
 * secrets from (without the variable when the host is another) and, then, why it was left out.
 */
export function bindPasswordEnv(env: NodeJS.ProcessEnv, startHost: string): (config: Config) => { env: NodeJS.ProcessEnv; withheld: string | null } {
  return (config) => {
    const host = config.smarthost.host;
    if (!env[PASSWORD_ENV] || host === startHost) return { env, withheld: null };
    const { [PASSWORD_ENV]: _bound, ...rest } = env;
    return {
      env: rest,
      withheld: `${PASSWORD_ENV} was given for ${startHost ? `the smarthost ${startHost}` : 'no smarthost'} (the one configured when the relay started) and is not sent to ${host}: ` +
        `restart the relay with the variable meant for ${host}, or store the password for ${host} in the settings window or with "smtp-relay password set"`,
    };
  };
}
