// The admin's side of OAuth2: what is stored (for the status and the settings window), storing and
// removing a secret, and the installed app's browser sign-in. RelayService exposes these; the CLI
// and the settings window call them through RelayApi.
import { RelayError, type OAuthSecretKind, type OAuthStatus } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import { readCaFile } from '../config/ca-file.js';
import type { CredentialStore } from '../secrets/credential-store.js';
import { deleteLongSecret, getLongSecret, setLongSecret } from '../secrets/long-secret.js';
import { resolveSmarthostPassword } from '../secrets/smarthost-password.js';
import { loginWithBrowser } from './browser-login.js';
import { useNetworkSettings } from './https.js';
import { oauthChecklist } from './checklist.js';
import { credentialKind } from './credential-kind.js';
import { describeStoredSecret, neededSecrets, serializeStoredSecret, storedSecretAccount, unboundSecret } from './stored-secrets.js';
import { oauthEndpoints } from './endpoints.js';

export async function oauthStatus(config: Config, store: CredentialStore, env?: NodeJS.ProcessEnv): Promise<OAuthStatus> {
  const method = config.smarthost.auth.method;
  if (method !== 'oauth2-microsoft' && method !== 'oauth2-google') return { method: null, credential: null, secrets: [], checklist: [] };
  const kind = credentialKind(config);
  const need = neededSecrets(kind);
  const named = Boolean(config.smarthost.host && config.smarthost.auth.username);
  const secrets: OAuthStatus['secrets'] = [];
  if (need.clientSecret) {
    const account = named ? storedSecretAccount(config, 'client-secret') : null;
    const found = account ? await resolveSmarthostPassword(config, store, env, account) : null;
    const unbound = account && !found ? await unboundSecret(config, store, 'client-secret') : null;
    secrets.push({ kind: 'client-secret', account, stored: found !== null, detail: found?.source === 'env' ? 'from SMTP_RELAY_SMARTHOST_PASSWORD' : unbound });
  }
  if (need.stored) {
    const account = named ? storedSecretAccount(config, need.stored) : null;
    const value = account ? await getLongSecret(store, account) : null;
    const unbound = account && value === null ? await unboundSecret(config, store, need.stored) : null;
    secrets.push({ kind: need.stored, account, stored: value !== null, detail: value === null ? unbound : describeStoredSecret(need.stored, value) });
  }
  return { method, credential: kind, secrets, checklist: oauthChecklist(config) };
}

/** Checks `value` (a wrong file is refused with what is wrong) and stores it; returns the account. */
export async function storeOAuthSecret(config: Config, store: CredentialStore, kind: OAuthSecretKind, value: string): Promise<string> {
  requireNamed(config);
  let serialized: string;
  try {
    serialized = serializeStoredSecret(kind, value);
  } catch (e) {
    throw new RelayError('invalid', `${kind}: ${(e as Error).message}`);
  }
  const account = storedSecretAccount(config, kind);
  await setLongSecret(store, account, serialized);
  return account;
}

export async function deleteOAuthSecret(config: Config, store: CredentialStore, kind: OAuthSecretKind): Promise<{ account: string; deleted: boolean }> {
  requireNamed(config);
  const account = storedSecretAccount(config, kind);
  return { account, deleted: await deleteLongSecret(store, account) };
}

/**
 * Runs the Google installed app's sign-in in the system browser and returns the refresh token (the
 * caller stores it). Needs smarthost.auth.clientId and the client secret stored like a password.
 */
export async function signInWithBrowser(config: Config, store: CredentialStore, env: NodeJS.ProcessEnv | undefined,
  ui: { openBrowser: (url: string) => Promise<void>; onUrl?: (url: string) => void; timeoutMs?: number }): Promise<string> {
  if (config.smarthost.auth.method !== 'oauth2-google' || credentialKind(config) !== 'installed-app') {
    throw new RelayError('invalid', 'browser sign-in is for smarthost.auth.method "oauth2-google" with auth.credential "installed-app"');
  }
  requireNamed(config);
  const account = storedSecretAccount(config, 'client-secret');
  const clientSecret = (await resolveSmarthostPassword(config, store, env, account))?.password;
  if (!clientSecret) throw new RelayError('invalid', `store the OAuth client secret first (smtp-relay password set; account ${account})`);
  const ep = oauthEndpoints(config);
  useNetworkSettings(config.network);
  const { refreshToken } = await loginWithBrowser({
    provider: ep.provider, authorizationEndpoint: ep.authorizationEndpoint, tokenEndpoint: ep.tokenEndpoint, scope: ep.scope,
    clientId: config.smarthost.auth.clientId, clientSecret, loginHint: config.smarthost.auth.username,
    ca: config.smarthost.caFile ? readCaFile(config.smarthost.caFile) : undefined, ...ui,
  });
  return refreshToken;
}

function requireNamed(config: Config): void {
  if (!config.smarthost.host || !config.smarthost.auth.username) throw new RelayError('invalid', 'set smarthost.host and smarthost.auth.username first: the keychain entries are named after them');
}
