// Where the OAuth2 requests go: smarthost.auth's endpoints with the providers' own filled in. The token
// endpoint is also part of the keychain accounts of the secrets sent to it (stored-secrets.ts).
import type { Config } from '../config/schema.js';
import { GMAIL_SCOPE, GOOGLE_AUTHORIZATION_ENDPOINT, GOOGLE_TOKEN_ENDPOINT } from './google.js';
import { defaultMicrosoftTokenEndpoint, EXCHANGE_SCOPE } from './microsoft.js';
import type { Provider } from './token.js';

export interface OAuthEndpoints {
  provider: Provider;
  tokenEndpoint: string;
  scope: string;
  /** Google installed app only: where the browser signs in. */
  authorizationEndpoint: string;
}

/** smarthost.auth's endpoints with the defaults filled in (empty fields mean "the provider's own"). */
export function oauthEndpoints(config: Config): OAuthEndpoints {
  const a = config.smarthost.auth;
  if (a.method === 'oauth2-microsoft') {
    return { provider: 'microsoft', tokenEndpoint: a.tokenEndpoint || defaultMicrosoftTokenEndpoint(a.tenantId), scope: a.scope || EXCHANGE_SCOPE, authorizationEndpoint: '' };
  }
  return {
    provider: 'google', tokenEndpoint: a.tokenEndpoint || GOOGLE_TOKEN_ENDPOINT, scope: a.scope || GMAIL_SCOPE,
    authorizationEndpoint: a.authorizationEndpoint || GOOGLE_AUTHORIZATION_ENDPOINT,
  };
}
