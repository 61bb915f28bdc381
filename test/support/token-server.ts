// A local identity platform over HTTPS (the test CA's localhost certificate) that plays Microsoft
// Entra ID and Google for the OAuth2 tests:
//
//   Microsoft  GET  /<tenant>/v2.0/.well-known/openid-configuration    (what msal-node discovers first)
//              POST /<tenant>/oauth2/v2.0/token   client_credentials with client_secret or a certificate
//                                                 assertion (RFC 7523, PS256/RS256, x5t#S256 checked)
//   Google     GET  /o/oauth2/v2/auth             authorization request with PKCE; redirects to the loopback
//              POST /token                        jwt-bearer (service account), refresh_token, authorization_code
//
// Every access token it issues is recorded with its subject and expiry, so the scripted smarthost can
// accept a token only while it is valid. Errors are answered the way the real platforms do
// (RFC 6749 §5.2 JSON with AADSTS codes / Google's texts).
import { createHash, randomBytes, verify, constants, X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { testCertificates } from './tls.js';

export interface IssuedToken {
  token: string;
  /** The mailbox a Google token acts for; null for a Microsoft app-only token. */
  subject: string | null;
  expiresAt: number;
  grant: string;
}

export interface MicrosoftApp {
  tenant: string;
  clientId: string;
  /** Valid client secrets; remove one to revoke it. */
  secrets: Set<string>;
  /** A registered certificate (PEM); its key signs the client assertion. */
  certificate?: string;
}

export interface GoogleServiceAccount {
  email: string;
  publicKey: KeyObject;
  /** Users it may act for (domain-wide delegation). */
  delegatedUsers: Set<string>;
  delegationEnabled: boolean;
}

export interface GoogleClient {
  clientId: string;
  clientSecret: string;
}

export interface TokenServer {
  /** https://localhost:PORT */
  base: string;
  microsoftTokenEndpoint(tenant: string): string;
  googleTokenEndpoint: string;
  googleAuthorizationEndpoint: string;
  /** Seconds a new access token lives. */
  lifetimeSeconds: number;
  /** While set, every token request gets this HTTP status (an outage: 503). */
  outage: number | null;
  microsoft: MicrosoftApp[];
  google: { serviceAccounts: GoogleServiceAccount[]; clients: GoogleClient[]; refreshTokens: Map<string, { clientId: string; user: string }> };
  issued: IssuedToken[];
  /** Every request as "METHOD path grant_type=…" (no secrets), in order. */
  requests: string[];
  /** The token's subject while it is valid; undefined when unknown or expired. */
  check(token: string): { subject: string | null } | undefined;
  stop(): Promise<void>;
}

const MS_SCOPE = 'https://outlook.office365.com/.default';
const GMAIL_SCOPE = 'https://mail.google.com/';

export async function startTokenServer(): Promise<TokenServer> {
  const { key, cert } = await testCertificates();
  const codes = new Map<string, { clientId: string; challenge: string; redirectUri: string; user: string }>();
  const server = https.createServer({ key, cert }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', ts.base);
      const form = new URLSearchParams(body);
      ts.requests.push(`${req.method} ${url.pathname}${form.get('grant_type') ? ` grant_type=${form.get('grant_type')}` : ''}`);
      const send = (status: number, json: unknown) => {
        // Azure asks clients to hold back after an error (msal-node honours it); a second here, not a minute.
        res.writeHead(status, { 'content-type': 'application/json', ...(status >= 500 ? { 'retry-after': '1' } : {}) });
        res.end(JSON.stringify(json));
      };
      try {
        const answer = route(req.method ?? 'GET', url, form);
        if ('redirect' in answer) {
          res.writeHead(302, { location: answer.redirect });
          res.end();
        } else send(answer.status, answer.json);
      } catch (e) {
        send(500, { error: 'server_error', error_description: (e as Error).message });
      }
    });
  });

  type Answer = { status: number; json: unknown } | { redirect: string };
  const oauthError = (status: number, error: string, description: string): Answer => ({ status, json: { error, error_description: description } });

  const issue = (subject: string | null, grant: string, extra: Record<string, string> = {}): Answer => {
    const token = `at-${randomBytes(24).toString('base64url')}`;
    ts.issued.push({ token, subject, expiresAt: Date.now() + ts.lifetimeSeconds * 1000, grant });
    return { status: 200, json: { token_type: 'Bearer', access_token: token, expires_in: ts.lifetimeSeconds, ...extra } };
  };

  function route(method: string, url: URL, form: URLSearchParams): Answer {
    const ms = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
    if (ms) return microsoft(method, decodeURIComponent(ms[1] as string), ms[2] as string, form);
    if (method === 'GET' && url.pathname === '/o/oauth2/v2/auth') return authorize(url);
    if (method === 'POST' && url.pathname === '/token') return google(form);
    return oauthError(404, 'not_found', `no such endpoint ${url.pathname}`);
  }

  function microsoft(method: string, tenant: string, what: string, form: URLSearchParams): Answer {
    if (!ts.microsoft.some((a) => a.tenant === tenant)) {
      return oauthError(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID. Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-11-22 10:00:00Z`);
    }
    const base = `${ts.base}/${tenant}`;
    if (what.startsWith('v2.0')) {
      return { status: 200, json: { token_endpoint: `${base}/oauth2/v2.0/token`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, issuer: `${base}/v2.0`, end_session_endpoint: `${base}/oauth2/v2.0/logout`, jwks_uri: `${base}/discovery/v2.0/keys` } };
    }
    if (ts.outage) return oauthError(ts.outage, 'temporarily_unavailable', 'AADSTS90033: A transient error has occurred. Please try again.');
    if (method !== 'POST' || form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'AADSTS70003: unsupported grant');
    const app = ts.microsoft.find((a) => a.tenant === tenant && a.clientId === form.get('client_id'));
    if (!app) return oauthError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory '${tenant}'.`);
    if (form.get('scope') !== MS_SCOPE) return oauthError(400, 'invalid_scope', `AADSTS1002012: The provided value for scope ${form.get('scope')} is not valid.`);
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (!app.secrets.has(secret)) return oauthError(401, 'invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'. Trace ID: 2222 Correlation ID: 3333 Timestamp: 2026-11-22 10:00:00Z`);
    } else if (assertion !== null) {
      const problem = app.certificate ? checkAssertion(assertion, app, `${base}/oauth2/v2.0/token`) : 'no certificate registered';
      if (problem) return oauthError(401, 'invalid_client', `AADSTS700027: Client assertion failed signature validation (${problem}).`);
    } else {
      return oauthError(401, 'invalid_client', 'AADSTS7000218: The request body must contain the following parameter: client_assertion or client_secret.');
    }
    return issue(null, 'client_credentials');
  }

  function authorize(url: URL): Answer {
    const p = url.searchParams;
    const client = ts.google.clients.find((c) => c.clientId === p.get('client_id'));
    const redirectUri = p.get('redirect_uri') ?? '';
    if (!client || p.get('response_type') !== 'code' || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') ||
      !/^http:\/\/127\.0\.0\.1:\d+$/.test(redirectUri) || p.get('scope') !== GMAIL_SCOPE || p.get('access_type') !== 'offline') {
      return oauthError(400, 'invalid_request', `bad authorization request: ${url.search}`);
    }
    const code = `code-${randomBytes(12).toString('base64url')}`;
    codes.set(code, { clientId: client.clientId, challenge: p.get('code_challenge') as string, redirectUri, user: p.get('login_hint') ?? 'someone@gmail.com' });
    return { redirect: `${redirectUri}/?state=${encodeURIComponent(p.get('state') ?? '')}&code=${code}&scope=${encodeURIComponent(GMAIL_SCOPE)}` };
  }

  function google(form: URLSearchParams): Answer {
    if (ts.outage) return oauthError(ts.outage, 'internal_failure', 'Backend Error');
    const grant = form.get('grant_type');
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const claims = verifyRs256(form.get('assertion') ?? '', (iss) => ts.google.serviceAccounts.find((s) => s.email === iss)?.publicKey);
      if (typeof claims === 'string') return oauthError(400, 'invalid_grant', claims);
      const sa = ts.google.serviceAccounts.find((s) => s.email === claims.iss) as GoogleServiceAccount;
      if (claims.aud !== ts.googleTokenEndpoint || claims.scope !== GMAIL_SCOPE) return oauthError(400, 'invalid_grant', 'Invalid JWT: aud or scope is wrong.');
      if (Number(claims.exp) * 1000 < Date.now()) return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
      if (!sa.delegationEnabled) return oauthError(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
      if (!sa.delegatedUsers.has(String(claims.sub))) return oauthError(400, 'invalid_grant', 'Invalid email or User ID');
      return issue(String(claims.sub), 'jwt-bearer');
    }
    const client = ts.google.clients.find((c) => c.clientId === form.get('client_id'));
    if (!client || client.clientSecret !== form.get('client_secret')) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (grant === 'refresh_token') {
      const rt = ts.google.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!rt || rt.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      return issue(rt.user, 'refresh_token');
    }
    if (grant === 'authorization_code') {
      const c = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!c || c.clientId !== client.clientId || c.redirectUri !== form.get('redirect_uri')) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
      if (createHash('sha256').update(verifier).digest('base64url') !== c.challenge) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
      const refreshToken = `1//rt-${randomBytes(24).toString('base64url')}`;
      ts.google.refreshTokens.set(refreshToken, { clientId: client.clientId, user: c.user });
      return issue(c.user, 'authorization_code', { refresh_token: refreshToken });
    }
    return oauthError(400, 'unsupported_grant_type', `grant_type ${grant}`);
  }

  function checkAssertion(assertion: string, app: MicrosoftApp, audience: string): string | null {
    const cert = new X509Certificate(app.certificate as string);
    const claims = verifyRs256(assertion, () => cert.publicKey, cert.fingerprint256.replaceAll(':', ''));
    if (typeof claims === 'string') return claims;
    if (claims.aud !== audience || claims.iss !== app.clientId || claims.sub !== app.clientId) return 'wrong aud, iss or sub';
    return Number(claims.exp) * 1000 < Date.now() ? 'expired' : null;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `https://localhost:${port}`;
  const ts: TokenServer = {
    base,
    microsoftTokenEndpoint: (tenant) => `${base}/${tenant}/oauth2/v2.0/token`,
    googleTokenEndpoint: `${base}/token`,
    googleAuthorizationEndpoint: `${base}/o/oauth2/v2/auth`,
    lifetimeSeconds: 3600,
    outage: null,
    microsoft: [],
    google: { serviceAccounts: [], clients: [], refreshTokens: new Map() },
    issued: [],
    requests: [],
    check(token) {
      const t = ts.issued.find((i) => i.token === token);
      return t && t.expiresAt > Date.now() ? { subject: t.subject } : undefined;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return ts;
}

/** The user's browser on the sign-in page: where the authorization endpoint sends it back to (the loopback listener). */
export async function signIn(authorizationUrl: string): Promise<string> {
  const { caCert } = await testCertificates();
  return new Promise((resolve, reject) => {
    https.get(authorizationUrl, { ca: caCert }, (res) => {
      res.resume();
      if (res.statusCode === 302 && res.headers.location) resolve(res.headers.location);
      else reject(new Error(`the authorization endpoint answered ${res.statusCode}`));
    }).on('error', reject);
  });
}

/** The browser following that redirect to the loopback listener. */
export function browse(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/**
 * Checks a JWT's signature (RS256, or PS256 as msal-node signs with a SHA-256 thumbprint) with the
 * key its issuer names; with `thumbprint`, the header must name that certificate. Returns the claims
 * or what is wrong.
 */
function verifyRs256(jwt: string, keyFor: (iss: string) => KeyObject | undefined, thumbprint?: string): Record<string, unknown> | string {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || !s) return 'Invalid JWT: not three parts';
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, string>;
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const key = keyFor(String(claims.iss));
  if (!key) return 'Invalid JWT: unknown issuer';
  if (thumbprint && header['x5t#S256'] !== Buffer.from(thumbprint, 'hex').toString('base64url')) return 'x5t#S256 does not name the registered certificate';
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const ok = header.alg === 'PS256'
    ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature)
    : header.alg === 'RS256' && verify('RSA-SHA256', data, key, signature);
  return ok ? claims : 'Invalid JWT Signature.';
}

