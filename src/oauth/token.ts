// Access tokens: what a grant returns, how a refused or unreachable token endpoint is reported, and
// the in-memory cache that renews a token before it expires. Tokens never leave memory.
import { parseJson, postForm, type HttpsOptions } from './https.js';
import { tokenErrorHint } from './advice.js';

export interface AccessToken {
  token: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Where tokens come from, for a transport: the cached one, or a new one when `renew` is set. */
export interface AccessTokenSource {
  get(renew?: boolean): Promise<AccessToken>;
}

export type Provider = 'microsoft' | 'google';

const PROVIDER_NAME: Record<Provider, string> = { microsoft: 'Microsoft Entra ID', google: 'Google' };

/**
 * A token could not be had. `temporary`: the identity platform was unreachable or busy (retry later,
 * like a smarthost that is down); otherwise it refused the request, which only the admin can fix.
 * The message names the platform's error code and says what to do; it never contains a secret.
 */
export class TokenError extends Error {
  constructor(message: string, readonly temporary: boolean) {
    super(message);
    this.name = 'TokenError';
  }
}

/** Renew when this much of a token's life is left (or half its life, for short-lived ones). */
const RENEW_MARGIN_MS = 5 * 60_000;
/** A token this close to expiry is not worth using even when no new one can be had. */
const LAST_USE_MARGIN_MS = 30_000;

export class TokenCache implements AccessTokenSource {
  private current: (AccessToken & { renewAt: number }) | null = null;
  private pending: Promise<AccessToken> | null = null;

  constructor(private readonly fetch: () => Promise<AccessToken>, private readonly now: () => number = Date.now) {}

  /** The cached token until it is due for renewal; `renew`: a new one now (the server refused the cached one). */
  get(renew = false): Promise<AccessToken> {
    if (!renew && this.current && this.now() < this.current.renewAt) return Promise.resolve(this.current);
    // One request however many connections ask at once.
    this.pending ??= this.renew(renew).finally(() => { this.pending = null; });
    return this.pending;
  }

  private async renew(refused: boolean): Promise<AccessToken> {
    const fetchedAt = this.now();
    try {
      const t = await this.fetch();
      const margin = Math.min(RENEW_MARGIN_MS, (t.expiresAt - fetchedAt) / 2);
      this.current = { ...t, renewAt: t.expiresAt - margin };
      return t;
    } catch (e) {
      // The platform is unreachable for now, but the token in hand still works: keep sending with it.
      const old = this.current;
      if (!refused && old && e instanceof TokenError && e.temporary && this.now() < old.expiresAt - LAST_USE_MARGIN_MS) return old;
      this.current = null;
      throw e;
    }
  }
}

/** A token endpoint's answer once it succeeded (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  expires_in?: number | string;
  refresh_token?: string;
}

/**
 * POSTs one grant to a token endpoint and returns the access token, or throws a TokenError naming
 * the platform's error (RFC 6749 §5.2) and what to do about it.
 */
export async function requestToken(provider: Provider, endpoint: string, form: Record<string, string>, opts: HttpsOptions = {}): Promise<TokenResponse & AccessToken> {
  const started = Date.now();
  const host = hostOf(endpoint);
  let res;
  try {
    res = await postForm(endpoint, form, opts);
  } catch (e) {
    throw unreachable(provider, host, e);
  }
  const body = parseJson(res.text) as Partial<TokenResponse> & { error?: string; error_description?: string } | null;
  if (res.status === 200 && typeof body?.access_token === 'string' && body.access_token) {
    const lifetime = Number(body.expires_in ?? 3600);
    return { ...body, access_token: body.access_token, token: body.access_token, expiresAt: started + (lifetime > 0 ? lifetime : 3600) * 1000 };
  }
  if (res.status >= 500 || res.status === 429) throw busy(provider, host, res.status);
  throw refused(provider, body?.error ? { error: body.error, description: body.error_description ?? '' } : null, `HTTP ${res.status} from ${endpoint}`);
}

/** The platform refused: its error code and description, shortened, then what to do. */
export function refused(provider: Provider, err: { error: string; description: string } | null, fallback: string): TokenError {
  const what = err ? `${err.error}: ${shorten(err.description)}` : `${fallback} (not an OAuth answer: check smarthost.auth.tokenEndpoint)`;
  const hint = err ? tokenErrorHint(provider, err.error, err.description) : null;
  return new TokenError(`${PROVIDER_NAME[provider]} refused the token request (${what})${hint ? `. ${hint}` : ''}`, false);
}

/** 5xx or 429: the platform is there but cannot answer now. */
export function busy(provider: Provider, host: string, status: number): TokenError {
  return new TokenError(`the ${PROVIDER_NAME[provider]} token endpoint ${host} is not available right now (HTTP ${status}); delivery will be retried`, true);
}

export function unreachable(provider: Provider, host: string, e: unknown): TokenError {
  const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new TokenError(`cannot reach the ${PROVIDER_NAME[provider]} token endpoint ${host} (${reason}); delivery will be retried`, true);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Microsoft appends "Trace ID: … Correlation ID: … Timestamp: …", which only its support reads. */
function shorten(description: string): string {
  const text = description.replace(/\s*(Trace ID|Correlation ID|Timestamp):.*$/s, '').replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
