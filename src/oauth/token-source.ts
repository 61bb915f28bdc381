// From config + keychain to a source of access tokens for the smarthost login (XOAUTH2). The cache
// lives as long as the config and secrets it was made from, so a new transport (after a connection
// failure, a config reload) keeps the token in hand instead of asking for another.
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { readCaFile } from '../config/ca-file.js';
import type { CredentialStore } from '../secrets/credential-store.js';
import { getLongSecret } from '../secrets/long-secret.js';
import { resolveSmarthostPassword } from '../secrets/smarthost-password.js';
import { oauthEndpoints } from './endpoints.js';
import { useNetworkSettings } from './https.js';
import { refreshTokenGrant, serviceAccountGrant, type ServiceAccountKey } from './google.js';
import { clientCredentialsGrant } from './microsoft.js';
import { credentialKind } from './credential-kind.js';
import { neededSecrets, readCertificateBundle, storedSecretAccount, unboundSecret, type StoredSecretKind } from './stored-secrets.js';
import { TokenCache, type AccessToken, type AccessTokenSource } from './token.js';

const MISSING: Record<StoredSecretKind, string> = {
  certificate: 'no certificate is stored for {account}: run "smtp-relay oauth import-certificate FILE.pem" or import it in the settings window',
  'service-account': 'no service-account key is stored for {account}: run "smtp-relay oauth import-key FILE.json" or import it in the settings window',
  'refresh-token': 'not signed in to Google yet for {account}: run "smtp-relay oauth login" (opens the browser once) or sign in from the settings window',
};

interface Loaded {
  clientSecret: string | null;
  stored: string | null;
}

/**
 * Reads the secrets the configured credential needs; a missing one is named with how to store it.
 * `withheld`: why the environment's client secret was left out (it belongs to another host).
 */
async function loadSecrets(config: Config, store: CredentialStore, env?: NodeJS.ProcessEnv, withheld?: string | null): Promise<Loaded | { missing: string }> {
  const need = neededSecrets(credentialKind(config));
  let clientSecret: string | null = null;
  if (need.clientSecret) {
    const account = storedSecretAccount(config, 'client-secret');
    clientSecret = (await resolveSmarthostPassword(config, store, env, account))?.password ?? null;
    if (!clientSecret) {
      return { missing: withheld ?? (await unboundSecret(config, store, 'client-secret')) ?? `no OAuth client secret is stored for ${account}: run "smtp-relay password set" (paste the secret's Value) or enter it in the settings window` };
    }
  }
  let stored: string | null = null;
  if (need.stored) {
    const account = storedSecretAccount(config, need.stored);
    stored = await getLongSecret(store, account);
    if (!stored) return { missing: (await unboundSecret(config, store, need.stored)) ?? MISSING[need.stored].replace('{account}', account) };
  }
  return { clientSecret, stored };
}

function grantFor(config: Config, secrets: Loaded): () => Promise<AccessToken> {
  const a = config.smarthost.auth;
  const ep = oauthEndpoints(config);
  const ca = config.smarthost.caFile ? readCaFile(config.smarthost.caFile) : undefined;
  const google = { tokenEndpoint: ep.tokenEndpoint, scope: ep.scope, ca };
  const microsoft = { clientId: a.clientId, tokenEndpoint: ep.tokenEndpoint, scope: ep.scope, ca };
  // loadSecrets has read what neededSecrets asks for this kind, or returned `missing`.
  const clientSecret = () => loadedSecret(secrets.clientSecret, 'client secret');
  const stored = () => loadedSecret(secrets.stored, 'stored secret');
  switch (credentialKind(config)) {
    case 'client-secret':
      return clientCredentialsGrant({ ...microsoft, credential: { secret: clientSecret() } });
    case 'certificate':
      return clientCredentialsGrant({ ...microsoft, credential: { certificate: readCertificateBundle(stored()) } });
    case 'service-account':
      return serviceAccountGrant(JSON.parse(stored()) as ServiceAccountKey, a.username, google);
    case 'installed-app':
      return refreshTokenGrant({ clientId: a.clientId, clientSecret: clientSecret() }, stored(), google);
  }
}

function loadedSecret(value: string | null, what: string): string {
  if (value === null) throw new Error(`internal error: the OAuth2 ${what} was not read for this sign-in method`);
  return value;
}

export class OAuthTokens {
  private current: { key: string; cache: TokenCache } | null = null;

  constructor(private readonly store: CredentialStore) {}

  /**
   * Tokens for the configured mailbox, or why there are none yet. `secrets` are the long-lived ones
   * read from the keychain, for the caller to keep out of its log. Throws when the keychain fails or
   * a stored secret cannot be used.
   */
  async sourceFor(config: Config, env?: { env: NodeJS.ProcessEnv; withheld: string | null }): Promise<{ source: AccessTokenSource; secrets: string[] } | { missing: string }> {
    useNetworkSettings(config.network);
    const loaded = await loadSecrets(config, this.store, env?.env, env?.withheld);
    if ('missing' in loaded) return loaded;
    const secrets = [loaded.clientSecret, loaded.stored].filter((s): s is string => s !== null);
    // Same settings and secrets: same cache. The hash only tells them apart; it is never stored.
    const key = createHash('sha256').update(JSON.stringify([config.smarthost.host, config.smarthost.caFile, config.smarthost.auth, secrets])).digest('hex');
    if (this.current?.key !== key) this.current = { key, cache: new TokenCache(grantFor(config, loaded)) };
    return { source: this.current.cache, secrets };
  }
}
