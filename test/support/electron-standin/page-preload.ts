// The built preload (out/preload/preload.cjs) runs in the page before the page's own scripts, as a
// sandboxed Electron preload does: `require('electron')` gives it the contextBridge and ipcRenderer
// below and nothing else, ipcRenderer.invoke reaches the app's ipcMain handlers through a Playwright
// binding, and webContents.send arrives through deliver(). Differences from Electron: the preload
// shares the page's JavaScript world (Playwright has no isolated world for init scripts), so the page
// could reach the binding itself; what contextBridge hands over is copied, and errors keep only their
// message, as across Electron's bridge.
import type { ContextBridge, IpcRenderer } from './types.js';

export const INVOKE_BINDING = '__electronStandinInvoke';
export const WINDOW_OPEN_BINDING = '__electronStandinWindowOpen';

type Reply = { ok: true; value: unknown } | { ok: false; error: string };

/** Runs in the page (serialised with toString): builds what `require('electron')` returns there. */
function rendererModules(binding: string, contextIsolation: boolean): { contextBridge: ContextBridge; ipcRenderer: IpcRenderer } | null {
  if (window.top !== window) return null; // preloads run in the main frame only (nodeIntegrationInSubFrames is off)
  const w = window as unknown as Record<string, unknown>;
  const call = w[binding] as (channel: string, args: unknown[]) => Promise<Reply>;
  type Listener = (event: unknown, ...args: unknown[]) => void;
  const listeners = new Map<string, Listener[]>();
  const ipcRenderer = {
    async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      const reply = await call(channel, args);
      if (!reply.ok) throw new Error(`Error invoking remote method '${channel}': ${reply.error}`);
      return reply.value;
    },
    on(channel: string, listener: Listener) {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]);
      return ipcRenderer;
    },
    removeListener(channel: string, listener: Listener) {
      listeners.set(channel, (listeners.get(channel) ?? []).filter((l) => l !== listener));
      return ipcRenderer;
    },
  };
  Object.defineProperty(window, '__electronStandinDeliver', {
    value: (channel: string, args: unknown[]) => {
      for (const l of listeners.get(channel) ?? []) l({ sender: ipcRenderer }, ...args);
      return (listeners.get(channel) ?? []).length;
    },
  });
  const bridged = (value: unknown): unknown => {
    if (typeof value === 'function') {
      const fn = value as (...a: unknown[]) => unknown;
      const message = (e: unknown) => new Error(e instanceof Error ? e.message : String(e));
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = fn(...args.map(bridged));
        } catch (e) {
          throw message(e);
        }
        return result instanceof Promise ? result.then(bridged, (e: unknown) => { throw message(e); }) : bridged(result);
      };
    }
    if (Array.isArray(value)) return value.map(bridged);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bridged(v)]));
    return value;
  };
  const contextBridge = {
    exposeInMainWorld(key: string, api: unknown): void {
      if (!contextIsolation) throw new Error('contextBridge API can only be used when contextIsolation is enabled');
      if (key in window) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
      Object.defineProperty(window, key, { value: bridged(api), enumerable: true });
    },
  };
  return { contextBridge, ipcRenderer: ipcRenderer as unknown as IpcRenderer };
}

/** The init script: the preload's CommonJS source wrapped with its sandboxed `require`. */
export function preloadScript(preloadSource: string, contextIsolation: boolean): string {
  return `(() => {
  const electron = (${rendererModules.toString()})(${JSON.stringify(INVOKE_BINDING)}, ${JSON.stringify(contextIsolation)});
  if (!electron) return;
  const module = { exports: {} };
  const require = (id) => {
    if (id === 'electron') return electron;
    throw new Error("module not found: " + id + " (a sandboxed preload can require only 'electron')");
  };
  (function (require, module, exports) {
${preloadSource}
  })(require, module, module.exports);
})();`;
}

/**
 * window.open asks the app's window-open handler first, as Electron's renderer asks the main process,
 * and opens nothing when it denies. (Electron would then create a BrowserWindow; the stand-in lets
 * Chromium open the popup, which window.ts reports as a problem.)
 */
export const WINDOW_OPEN_HOOK = `(() => {
  const open = window.open.bind(window);
  const ask = window[${JSON.stringify(WINDOW_OPEN_BINDING)}];
  window.open = (url, target, features) => {
    const href = url === undefined ? 'about:blank' : new URL(String(url), location.href).href;
    void ask(href, target ?? '', features ?? '').then((allowed) => { if (allowed) open(url, target, features); });
    return null;
  };
})();`;

/** Page errors the test should see: policy violations are reported on the console. */
export const CSP_REPORTER = `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`;
