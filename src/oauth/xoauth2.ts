// The smarthost login with a token (SASL XOAUTH2) through nodemailer, and how a token failure reaches
// the delivery outcome: refused by the identity platform = an authentication failure (the queue
// pauses as auth-failed); platform unreachable = the destination is unwell (retry later, no message
// charged).
import type { NodemailerError } from 'nodemailer';
import type { XOAuth2ProvisionCallback } from 'nodemailer/lib/xoauth2';
import { TokenError, type AccessTokenSource } from './token.js';

/**
 * nodemailer's auth option: each new connection asks for a token; after the server refused one it
 * asks again with `renew` and tries once more, so a token revoked early costs no failed delivery.
 */
export function xoauth2Auth(user: string, tokens: AccessTokenSource): { type: 'OAuth2'; user: string; provisionCallback: XOAuth2ProvisionCallback } {
  return {
    type: 'OAuth2',
    user,
    provisionCallback: (_user, renew, callback) => {
      tokens.get(renew).then((t) => callback(null, t.token, t.expiresAt), (e: Error) => callback(e));
    },
  };
}

/** A TokenError as the SMTP client's error, classified like one (see deliver/classify.ts). */
export function asDeliveryError(e: NodemailerError): NodemailerError {
  if (!(e instanceof TokenError)) return e;
  // nodemailer labels every provisioning failure EAUTH; an unreachable platform is not one.
  const code = e.temporary ? 'ETOKEN' : 'EAUTH';
  return Object.assign(e, { code, response: undefined, responseCode: undefined, command: 'AUTH XOAUTH2' });
}

/** Fetches the token a delivery will use before any connection is made; a failure comes back as the error to report. */
export async function tokenForDelivery(tokens: AccessTokenSource): Promise<{ token: string } | { error: NodemailerError }> {
  try {
    return { token: (await tokens.get()).token };
  } catch (e) {
    // Anything but a TokenError (a stored key that cannot sign…) needs the admin too: a refusal.
    const failure = e instanceof TokenError ? e : new TokenError((e as Error).message, false);
    return { error: asDeliveryError(failure) };
  }
}
