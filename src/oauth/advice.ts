// The hint added to an OAuth2 or sign-in failure's own message (the log, the status, the CLI), taken from
// the one advice table (src/advice/catalogue.ts).
import { adviceFor, oauthAdviceFor } from '../advice/catalogue.js';
import type { OAuthProvider } from '../advice/entry.js';

/** What to do about an error answer of a token endpoint (RFC 6749 §5.2), for the error message. */
export function tokenErrorHint(provider: OAuthProvider, error: string, description: string): string | null {
  return oauthAdviceFor(`${error}: ${description}`, `oauth2-${provider}`)?.fix ?? null;
}

/** The catalogue's entries that mean "Microsoft 365 takes no password here": the way out is OAuth2. */
const BASIC_AUTH_OFF = new Set(['m365-basic-auth-off', 'm365-smtp-auth-disabled']);

/**
 * What to add to a refused login's reply so the log and the status say what to do: for a password
 * login that Microsoft 365 refuses as basic authentication, the pointer to OAuth2; for a token the
 * smarthost refused, what the mailbox still needs. Token endpoint errors carry their hint already.
 */
export function authFailureHint(reply: string, method: string): string | null {
  if (method === 'password') {
    const advice = adviceFor(reply);
    return advice && BASIC_AUTH_OFF.has(advice.id) ? `${advice.cause} ${advice.fix}` : null;
  }
  if (/refused the token request|token endpoint/.test(reply)) return null;
  return oauthAdviceFor(reply, method)?.fix ?? null;
}
