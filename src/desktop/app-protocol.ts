// The settings window's page is served from app://relay/ (a custom protocol, Electron security
// checklist #18) rather than file://, which would give the page read access to every local file.
// Only files under the built renderer folder are served, each with the Content-Security-Policy.
import fs from 'node:fs/promises';
import path from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'relay';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Scripts only from our own files (no inline script, no eval), nothing from the network, no
 * plugins, no framing, no forms posting anywhere. Inline styles are allowed because Fluent UI
 * (Griffel) injects its CSS at run time; styles cannot run code.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export type WindowView = 'settings' | 'queue';

/**
 * The page URL for a view: "#/settings" or "#/queue", read by the renderer. Always a hash, so that
 * switching views in an open window is a same-document navigation and unsaved input survives.
 */
export function windowUrl(base: string, view: WindowView): string {
  return `${base.replace(/#.*$/, '')}#/${view}`;
}

/**
 * "scheme://host[:port]", or null for something that is not a URL. Node's URL gives "null" as the
 * origin of a custom scheme, where Chromium (with app:// registered as standard) gives "app://relay".
 */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : null;
  } catch {
    return null;
  }
}

/** will-navigate / will-redirect: only our own page; everything else is refused. */
export function isAllowedNavigation(url: string, allowedOrigins: readonly string[]): boolean {
  const origin = originOf(url);
  return origin !== null && allowedOrigins.includes(origin);
}

/** The file under `root` an app:// URL names, or null (other host, traversal, bad escapes). */
export function resolveAppFile(url: string, root: string, paths: path.PlatformPath = path): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname); // "%2e%2e%2f" decodes to "../": checked below, after decoding
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  if (rel === '' || rel === '/') rel = '/index.html';
  const base = paths.resolve(root);
  const file = paths.resolve(base, `.${rel}`);
  const inside = paths.relative(base, file);
  if (inside === '' || paths.isAbsolute(inside) || inside.split(paths.sep)[0] === '..') return null;
  return file;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/** The protocol.handle('app', …) handler: a file of the built renderer, or 404/405. */
export async function serveAppRequest(request: Request, root: string): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405 });
  const file = resolveAppFile(request.url, root);
  const type = file && CONTENT_TYPES[path.extname(file).toLowerCase()];
  if (!file || !type) return notFound();
  let body: Buffer;
  try {
    body = await fs.readFile(file);
  } catch {
    return notFound();
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      'Content-Type': type,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    },
  });
}

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}
