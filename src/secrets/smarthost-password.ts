// The smarthost password: SMTP_RELAY_SMARTHOST_PASSWORD for headless use, else the OS keychain.
import type { Config } from '../config/schema.js';
import { PASSWORD_ENV, type CredentialStore } from './credential-store.js';

/** Keychain account of the smarthost password: "username@host" (docs/architecture.md). */
export function smarthostAccount(config: Config): string {
  return `${config.smarthost.auth.username}@${config.smarthost.host}`;
}

/**
 * The password to log in to the smarthost, or null when none is set; the caller decides what a
 * missing password means. A non-empty env var wins without touching the keychain, so a headless
 * machine with no keychain at all still works.
 */
export async function resolveSmarthostPassword(
  config: Config,
  store: CredentialStore,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ password: string; source: 'env' | 'keychain' } | null> {
  const fromEnv = env[PASSWORD_ENV];
  if (fromEnv) return { password: fromEnv, source: 'env' };
  const stored = await store.get(smarthostAccount(config));
  return stored === null ? null : { password: stored, source: 'keychain' };
}
