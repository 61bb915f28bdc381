// The one-time sign-in of an installed app (RFC 8252): the system browser opens the provider's sign-in
// page, which sends the browser back to a listener on 127.0.0.1 with an authorization code; the code
// and the PKCE verifier (RFC 7636) are exchanged for a refresh token, which the relay keeps in the
// keychain and uses from then on. Used by `smtp-relay oauth login` and the settings window.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestToken, type Provider } from './token.js';

export interface BrowserLoginOptions {
  provider: Provider;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** The mailbox, suggested to the sign-in page. */
  loginHint?: string;
  /** Opens the sign-in page (the system browser, or Electron's shell.openExternal). */
  openBrowser: (url: string) => Promise<void>;
  /** Gets the address before the browser opens, to show it in case none does. */
  onUrl?: (url: string) => void;
  /** Extra CA to trust for the token endpoint (smarthost.caFile). */
  ca?: string;
  /** How long to wait for the sign-in; default 5 minutes. */
  timeoutMs?: number;
}

export async function loginWithBrowser(opts: BrowserLoginOptions): Promise<{ refreshToken: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  let finish!: (result: { refreshToken: string } | Error) => void;
  const done = new Promise<{ refreshToken: string } | Error>((resolve) => { finish = resolve; });

  // Loopback only: the code must not be reachable from the network (RFC 8252 §8.3).
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
      res.end(`<!doctype html><meta charset="utf-8"><title>SMTP Relay Tray</title><p style="font:16px system-ui">${text}</p>`);
    };
    // Anything else (a favicon request, a stray page) is not the answer we wait for.
    if (url.pathname !== '/' || url.searchParams.get('state') !== state) return reply(404, 'Not found.');
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error || !code) {
      reply(400, 'Sign-in was not completed. You can close this window.');
      return finish(new Error(`sign-in was not completed (${error ?? 'no authorization code'}${url.searchParams.get('error_description') ? `: ${url.searchParams.get('error_description')}` : ''})`));
    }
    requestToken(opts.provider, opts.tokenEndpoint, {
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: opts.clientId, client_secret: opts.clientSecret, code_verifier: verifier,
    }, { ca: opts.ca }).then((t) => {
      if (!t.refresh_token) throw new Error('the sign-in returned no refresh token; remove SMTP Relay Tray\'s access at https://myaccount.google.com/permissions and sign in again');
      reply(200, 'Signed in. SMTP Relay Tray can now send mail as this account; you can close this window.');
      finish({ refreshToken: t.refresh_token });
    }, (e: Error) => {
      reply(500, 'Sign-in failed; see SMTP Relay Tray for the reason. You can close this window.');
      finish(e);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const timer = setTimeout(() => finish(new Error(`no sign-in within ${Math.round(timeoutMs / 1000)} s; run the sign-in again`)), timeoutMs);
  try {
    const url = new URL(opts.authorizationEndpoint);
    const params: Record<string, string> = {
      response_type: 'code', client_id: opts.clientId, redirect_uri: redirectUri, scope: opts.scope, state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      // A refresh token, and a new one even if this account consented before.
      access_type: 'offline', prompt: 'consent',
      ...(opts.loginHint ? { login_hint: opts.loginHint } : {}),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    opts.onUrl?.(url.toString());
    // When the address was shown, the admin can still open it by hand.
    await opts.openBrowser(url.toString()).catch((e: Error) => { if (!opts.onUrl) finish(e); });
    const result = await done;
    if (result instanceof Error) throw result;
    return result;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}
