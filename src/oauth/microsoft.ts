// Microsoft 365: an app-only access token for Exchange Online SMTP (client-credentials grant, scope
// https://outlook.office365.com/.default, app permission SMTP.SendAsApp) through @azure/msal-node,
// with a client secret or a certificate. msal's HTTP goes through our https module so that
// smarthost.caFile is trusted there too (a TLS-inspecting proxy, or the tests' private CA).
import type { ConfidentialClientApplication, INetworkModule, NetworkResponse, ServerError } from '@azure/msal-node';
import { busy, refused, TokenError, unreachable, type AccessToken } from './token.js';
import { getJson, httpsRequest, parseJson } from './https.js';

/** The certificate an app signs in with, as stored (stored-secrets.ts reads it from the PEM bundle). */
export interface CertificateCredential {
  privateKey: string;
  certificate: string;
  /** SHA-256 of the certificate (hex, no colons): what Microsoft Entra ID matches it by. */
  thumbprintSha256: string;
  notAfter: string;
}

export const MICROSOFT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';
/** The v2.0 token endpoint's path under the authority (tenant). */
export const TOKEN_PATH = '/oauth2/v2.0/token';

export interface MicrosoftApp {
  clientId: string;
  /** https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token, or an override (sovereign cloud, tests). */
  tokenEndpoint: string;
  scope: string;
  credential: { secret: string } | { certificate: CertificateCredential };
  ca?: string;
}

export function defaultMicrosoftTokenEndpoint(tenantId: string): string {
  return `${MICROSOFT_AUTHORITY_HOST}/${encodeURIComponent(tenantId)}${TOKEN_PATH}`;
}

type Msal = typeof import('@azure/msal-node');
let msalModule: Promise<Msal> | null = null;

/** msal-node adds some 30 MB to the process: loaded only once a Microsoft token is wanted. */
function loadMsal(): Promise<Msal> {
  msalModule ??= import('@azure/msal-node');
  return msalModule;
}

export function clientCredentialsGrant(app: MicrosoftApp): () => Promise<AccessToken> {
  const authority = app.tokenEndpoint.slice(0, -TOKEN_PATH.length);
  const host = new URL(authority).host;
  const network = new CaAwareNetwork(app.ca);
  const create = (msal: Msal): ConfidentialClientApplication => new msal.ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      authority,
      // msal knows Microsoft's own hosts; any other one (a test server) must be named to be trusted.
      ...(authority.startsWith(`${MICROSOFT_AUTHORITY_HOST}/`) ? {} : { knownAuthorities: [host] }),
      ...('secret' in app.credential
        ? { clientSecret: app.credential.secret }
        : { clientCertificate: { thumbprintSha256: app.credential.certificate.thumbprintSha256, privateKey: app.credential.certificate.privateKey } }),
    },
    // The queue retries on its own schedule; msal's internal retry would only hide the outage.
    system: { networkClient: network, disableInternalRetries: true, loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } },
  });
  let client: ConfidentialClientApplication | null = null;
  return async () => {
    const msal = await loadMsal();
    network.requests = 0;
    try {
      client ??= create(msal);
      // Our TokenCache decides when to renew; msal's own cache would hand back the token just refused.
      const r = await client.acquireTokenByClientCredential({ scopes: [app.scope], skipCache: true });
      if (!r?.accessToken) throw new TokenError('Microsoft Entra ID returned no access token', true);
      return { token: r.accessToken, expiresAt: r.expiresOn?.getTime() ?? Date.now() + 3600_000 };
    } catch (e) {
      throw tokenError(e, msal.ServerError, network, host);
    }
  };
}

function tokenError(e: unknown, serverError: typeof ServerError, network: CaAwareNetwork, host: string): TokenError {
  if (e instanceof TokenError) return e;
  if (e instanceof serverError) {
    // After a 5xx, a 429 or a Retry-After, msal refuses further requests itself for a while (60 s
    // unless the platform said otherwise), repeating the old error without asking: still an outage.
    if (network.requests === 0) return new TokenError(`the Microsoft Entra ID token endpoint ${host} asked to wait after an earlier error; delivery will be retried`, true);
    const status = Number((e as ServerError & { status?: number }).status);
    if (status >= 500 || status === 429) return busy('microsoft', host, status);
    return refused('microsoft', { error: e.errorCode, description: descriptionOf(e.errorMessage) }, `HTTP ${status}`);
  }
  // An unknown tenant fails at OpenID discovery, which msal reports only as "could not resolve endpoints".
  if (network.refusal) return refused('microsoft', network.refusal, '');
  if (network.failure) return unreachable('microsoft', host, network.failure);
  // A configuration msal rejects before any request (a malformed authority, an unusable key).
  return new TokenError(`Microsoft sign-in cannot start: ${(e as Error).message}`, false);
}

/** msal's "Error(s): 7000215 - Timestamp: … - Description: AADSTS7000215: … - Correlation ID: …". */
function descriptionOf(message: string): string {
  return /Description: (.*?)(?: - (?:Correlation ID|Trace ID|Timestamp):|$)/s.exec(message)?.[1] ?? message;
}

/** msal's INetworkModule over our https requests; remembers the last failure msal may swallow. */
class CaAwareNetwork implements INetworkModule {
  refusal: { error: string; description: string } | null = null;
  failure: Error | null = null;
  /** Requests made since the caller last reset it. */
  requests = 0;

  constructor(private readonly ca?: string) {}

  async sendGetRequestAsync<T>(url: string, options?: { headers?: Record<string, string> }): Promise<NetworkResponse<T>> {
    const res = await this.track(() => getJson(url, { ca: this.ca, headers: options?.headers }));
    const body = res.body as { error?: unknown; error_description?: unknown };
    if (res.status >= 400 && typeof body.error === 'string') this.refusal = { error: body.error, description: String(body.error_description ?? '') };
    return res as NetworkResponse<T>;
  }

  async sendPostRequestAsync<T>(url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<NetworkResponse<T>> {
    const res = await this.track(() => httpsRequest('POST', url, { ca: this.ca, headers: options?.headers, body: options?.body }));
    return { status: res.status, headers: res.headers, body: (parseJson(res.text) ?? {}) as T };
  }

  private async track<R>(request: () => Promise<R>): Promise<R> {
    this.requests++;
    this.refusal = null;
    this.failure = null;
    try {
      return await request();
    } catch (e) {
      this.failure = e as Error;
      throw e;
    }
  }
}
