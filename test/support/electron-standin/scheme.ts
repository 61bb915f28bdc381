// protocol.registerSchemesAsPrivileged / protocol.handle. A page cannot load a custom scheme in
// Chromium without Electron, so window.ts gives a privileged (standard + secure) scheme an https://
// stand-in origin, `app://relay/x` <-> `https://relay.app.electron-standin.invalid/x`, and answers
// every request there with the app's own handler.
import { isReady } from './app.js';
import { state } from './state.js';
import type { Protocol } from './types.js';

type Handler = (request: Request) => Response | Promise<Response>;
const handlers = new Map<string, Handler>();
const privileged = new Map<string, Electron.Privileges>();
const SUFFIX = '.electron-standin.invalid';

export const protocol: Protocol = {
  registerSchemesAsPrivileged(customSchemes: Electron.CustomScheme[]): void {
    if (isReady()) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    for (const s of customSchemes) privileged.set(s.scheme, s.privileges ?? {});
    state.app.privilegedSchemes.push(...customSchemes);
  },
  handle(scheme: string, handler: Handler): void {
    if (!isReady()) throw new Error('protocol.handle must be called after app is ready');
    if (handlers.has(scheme)) throw new Error(`The scheme '${scheme}' is already handled`);
    handlers.set(scheme, handler);
    state.protocols.schemes.push(scheme);
  },
};

/** The https:// URL Chromium loads for an app's URL (unchanged for http(s) and unhandled schemes). */
export function toBrowserUrl(url: string): string {
  const u = new URL(url);
  const scheme = u.protocol.slice(0, -1);
  const p = privileged.get(scheme);
  if (!handlers.has(scheme)) return url;
  // Without standard + secure, Electron gives the page no origin of its own: not what this maps to.
  if (!p?.standard || !p.secure) throw new Error(`${scheme}:// is handled but not registered as a standard, secure scheme`);
  return `https://${u.host}.${scheme}${SUFFIX}${u.pathname}${u.search}${u.hash}`;
}

/** The app's URL for what Chromium shows (the inverse of toBrowserUrl). */
export function toAppUrl(url: string): string {
  const u = new URL(url);
  const m = u.protocol === 'https:' ? /^(.*)\.([a-z][a-z0-9+.-]*)\.electron-standin\.invalid$/.exec(u.host) : null;
  return m ? `${m[2]}://${m[1]}${u.pathname}${u.search}${u.hash}` : url;
}

/** Answers a request to a stand-in origin with the app's protocol handler; null for other URLs. */
export async function serve(url: string, method: string, headers: Record<string, string>): Promise<Response | null> {
  const appUrl = toAppUrl(url);
  if (appUrl === url) return null;
  const handler = handlers.get(new URL(appUrl).protocol.slice(0, -1));
  if (!handler) return null;
  const response = await handler(new Request(appUrl, { method, headers }));
  state.protocols.responses.push({ url: appUrl, status: response.status, headers: Object.fromEntries(response.headers) });
  return response;
}
