// HTTPS requests to identity platforms (token endpoints, OpenID discovery). Built on node:https
// rather than fetch because fetch cannot trust one more CA per request (smarthost.caFile: a private
// CA, or a TLS-inspecting proxy's) without undici's own Agent.
import https from 'node:https';
import tls from 'node:tls';

export interface HttpsResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  text: string;
}

export interface HttpsOptions {
  /** PEM of one more CA to trust besides the system roots. */
  ca?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Large enough for any token response or discovery document; a bigger answer is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export function httpsRequest(method: 'GET' | 'POST', url: string, opts: HttpsOptions = {}): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    // Client secrets and tokens travel on these requests: never in clear text.
    if (target.protocol !== 'https:') return reject(new Error(`${url} is not an https:// address`));
    const req = https.request(target, {
      method,
      headers: opts.headers,
      ca: opts.ca ? [...tls.rootCertificates, opts.ca] : undefined,
      // RFC 8996: client secrets and tokens never over anything older than TLS 1.2, whatever Node's default.
      minVersion: 'TLSv1.2',
      timeout: opts.timeoutMs ?? 30_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`the answer from ${target.host} is larger than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.host} within ${(opts.timeoutMs ?? 30_000) / 1000} s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** POSTs an application/x-www-form-urlencoded body, as OAuth token endpoints take it (RFC 6749 §4). */
export function postForm(url: string, form: Record<string, string>, opts: HttpsOptions = {}): Promise<HttpsResponse> {
  return httpsRequest('POST', url, {
    ...opts,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...opts.headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** GETs a JSON document (OpenID discovery); a body that is not JSON reads as {}. */
export async function getJson(url: string, opts: HttpsOptions = {}): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const res = await httpsRequest('GET', url, opts);
  return { status: res.status, headers: res.headers, body: parseJson(res.text) ?? {} };
}

/** JSON.parse that gives null instead of throwing (an HTML error page from a proxy, an empty body). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
