// Google: access tokens for Gmail SMTP (scope https://mail.google.com/) from a Workspace service
// account with domain-wide delegation (JWT bearer grant, RFC 7523), or from the refresh token an
// installed app got once through the browser (refresh-token grant, RFC 6749 §6).
import { requestToken, type AccessToken } from './token.js';
import { signJwtRs256 } from './jwt.js';

export const GOOGLE_TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token';
export const GOOGLE_AUTHORIZATION_ENDPOINT = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GMAIL_SCOPE = 'https://mail.google.com/';

/** A Google service account's key, as stored (stored-secrets.ts keeps only these two fields). */
export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: string;
}

export interface GoogleEndpoint {
  tokenEndpoint: string;
  scope: string;
  /** Extra CA to trust (smarthost.caFile). */
  ca?: string;
}

/** The service account acts as `subject` (the mailbox), which domain-wide delegation allows. */
export function serviceAccountGrant(key: ServiceAccountKey, subject: string, ep: GoogleEndpoint): () => Promise<AccessToken> {
  return async () => {
    const now = Math.floor(Date.now() / 1000);
    // Google accepts assertions valid for at most an hour; aud is the token endpoint itself.
    const assertion = signJwtRs256({ iss: key.clientEmail, sub: subject, scope: ep.scope, aud: ep.tokenEndpoint, iat: now, exp: now + 3600 }, key.privateKey);
    return onlyToken(await requestToken('google', ep.tokenEndpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }, { ca: ep.ca }));
  };
}

export function refreshTokenGrant(client: { clientId: string; clientSecret: string }, refreshToken: string, ep: GoogleEndpoint): () => Promise<AccessToken> {
  return async () => onlyToken(await requestToken('google', ep.tokenEndpoint, {
    grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, client_secret: client.clientSecret,
  }, { ca: ep.ca }));
}

/** What the cache keeps: the token and its expiry, nothing else of the answer. */
function onlyToken({ token, expiresAt }: AccessToken): AccessToken {
  return { token, expiresAt };
}
