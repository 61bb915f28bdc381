// HTTPS requests to identity platforms (token endpoints, OpenID discovery). Built on node:https
// rather than fetch because fetch cannot trust one more CA per request (smarthost.caFile: a private
// CA, or a TLS-inspecting proxy's) without undici's own Agent.
// Behind a corporate proxy the requests go through an HTTP CONNECT tunnel: network.proxy, else
// HTTPS_PROXY, else (Windows) the machine's WinHTTP proxy; NO_PROXY and network.noProxy name the
// hosts reached directly. TLS still runs end to end with the identity platform, so a plain tunnel
// sees nothing; a TLS-inspecting proxy's CA goes in smarthost.caFile like any private CA.
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
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

export interface NetworkSettings {
  /** http://host:port of the proxy; '' = from the environment (or the system on Windows). */
  proxy: string;
  /** Extra hosts reached without the proxy, NO_PROXY style. */
  noProxy: string;
}

let network: NetworkSettings = { proxy: '', noProxy: '' };

/** The config's network section; one relay per process, so it applies to every request from now on. */
export function useNetworkSettings(settings: NetworkSettings): void {
  network = { proxy: settings.proxy, noProxy: settings.noProxy };
}

export async function httpsRequest(method: 'GET' | 'POST', url: string, opts: HttpsOptions = {}): Promise<HttpsResponse> {
  const target = new URL(url);
  // Client secrets and tokens travel on these requests: never in clear text.
  if (target.protocol !== 'https:') throw new Error(`${url} is not an https:// address`);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ca = opts.ca ? [...tls.rootCertificates, opts.ca] : undefined;
  const proxy = proxyFor(target, network, process.env, await systemProxy());
  const socket = proxy ? await tunnel(proxy, target, timeoutMs) : null;
  return new Promise((resolve, reject) => {
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    const req = https.request(target, {
      method,
      headers: opts.headers,
      ca,
      // RFC 8996: client secrets and tokens never over anything older than TLS 1.2, whatever Node's default.
      minVersion: 'TLSv1.2',
      timeout: timeoutMs,
      // Without an agent, the request uses this connection: TLS over the tunnel, checked against the target's name.
      ...(socket && { createConnection: () => tls.connect({ socket, ca, host, servername: net.isIP(host) ? undefined : host, minVersion: 'TLSv1.2' }) }),
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
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.host} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The proxy for a request to `target`, or null to go directly. */
export function proxyFor(target: URL, settings: NetworkSettings, env: NodeJS.ProcessEnv, system: NetworkSettings | null = null): URL | null {
  const text = settings.proxy || env.HTTPS_PROXY || env.https_proxy || system?.proxy || '';
  if (!text) return null;
  const bypass = [settings.noProxy, env.NO_PROXY ?? env.no_proxy ?? '', system?.noProxy ?? ''].join(',');
  if (bypasses(target, bypass)) return null;
  const proxy = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  if (!proxy || proxy.protocol !== 'http:') throw new Error(`the proxy "${text}" is not an http:// address (network.proxy or HTTPS_PROXY)`);
  return proxy;
}

/** NO_PROXY as curl reads it: "*", hosts (with their subdomains), ".domain", "*.domain", "host:port", IP addresses. */
function bypasses(target: URL, list: string): boolean {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = target.port || '443';
  return list.split(/[,;\s]+/).filter(Boolean).some((raw) => {
    const entry = raw.toLowerCase();
    if (entry === '*') return true;
    if (entry === '<local>') return !host.includes('.') && !host.includes(':');
    const m = /^(?:\*?\.)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) return false;
    const name = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
    if (m[2] && m[2] !== port) return false;
    return host === name || host.endsWith(`.${name}`);
  });
}

/** Opens a CONNECT tunnel through `proxy` to the target's host and port. */
function tunnel(proxy: URL, target: URL, timeoutMs: number): Promise<net.Socket> {
  const authority = `${target.hostname}:${target.port || 443}`;
  // Proxy credentials come from HTTPS_PROXY only (config.json holds no secrets).
  const auth = proxy.username
    ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` }
    : {};
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'), port: proxy.port || 80, method: 'CONNECT', path: authority, headers: { host: authority, ...auth }, agent: false, timeout: timeoutMs });
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy ${proxy.host} refused the tunnel to ${authority}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from the proxy ${proxy.host} within ${timeoutMs / 1000} s`)));
    req.once('error', (e) => reject(new Error(`cannot reach the proxy ${proxy.host}: ${e.message}`)));
    req.end();
  });
}

let winhttp: Promise<NetworkSettings | null> | null = null;

/** Windows: the machine's WinHTTP proxy (`netsh winhttp set proxy`), read once; null elsewhere or when direct. */
function systemProxy(): Promise<NetworkSettings | null> {
  if (process.platform !== 'win32') return Promise.resolve(null);
  winhttp ??= new Promise((resolve) => {
    execFile('netsh', ['winhttp', 'show', 'proxy'], { windowsHide: true, timeout: 10_000 }, (err, stdout) => resolve(err ? null : parseWinHttpProxy(stdout)));
  });
  return winhttp;
}

/** Reads `netsh winhttp show proxy`: "Proxy Server(s) : proxy:8080" (or "https=proxy:8443;http=…") and "Bypass List : <local>;*.contoso.com". */
export function parseWinHttpProxy(output: string): NetworkSettings | null {
  const server = /Proxy Server\(s\)\s*:\s*(\S+)/i.exec(output)?.[1];
  if (!server) return null; // "Direct access (no proxy server)."
  const perScheme = Object.fromEntries(server.split(';').map((p) => p.split('=')).filter((p) => p.length === 2));
  const proxy = server.includes('=') ? (perScheme.https ?? perScheme.http ?? '') : server;
  if (!proxy) return null;
  const bypass = /Bypass List\s*:\s*(.+)/i.exec(output)?.[1]?.trim() ?? '';
  return { proxy, noProxy: /^\(none\)$/i.test(bypass) ? '' : bypass };
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
