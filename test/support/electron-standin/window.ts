// BrowserWindow and its webContents: each window is a page in headless Chromium (Debian's, launched by
// test/support/browser.ts) showing the real built page, served by the
// app's own protocol handler (scheme.ts) with the built preload in front of it (page-preload.ts).
// Navigations the page starts go through the app's will-navigate / will-redirect listeners and
// window.open through its window-open handler, as in Electron; the network is not reachable.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page, Route } from 'playwright-core';
import { launchChromium } from '../browser.js';
import { allWindowsClosed, emitWebContentsCreated, isReady, preventableEvent } from './app.js';
import type { WindowState } from './control.js';
import { invoke } from './ipc-main.js';
import { CSP_REPORTER, INVOKE_BINDING, preloadScript, WINDOW_OPEN_BINDING, WINDOW_OPEN_HOOK } from './page-preload.js';
import { serve, toAppUrl, toBrowserUrl } from './scheme.js';
import { atExit, onCommand, state } from './state.js';
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructor, WebContents as WebContentsType } from './types.js';

export type BrowserWindow = BrowserWindowType;
export type WebContents = WebContentsType;

const windows = new Map<Page, StandinBrowserWindow>();
const byId = new Map<number, StandinBrowserWindow>();
let context: Promise<BrowserContext> | null = null;
let nextId = 1;

function browserContext(): Promise<BrowserContext> {
  context ??= (async () => {
    const browser = await launchChromium();
    atExit(() => browser.close());
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    await ctx.exposeBinding(INVOKE_BINDING, ({ page, frame }, channel: string, args: unknown[]) => {
      const win = windows.get(page);
      if (!win || win.isDestroyed()) return { ok: false, error: 'Error: the window is gone' };
      return invoke(channel, args, { sender: win.webContents, senderFrame: { url: toAppUrl(frame.url()), parent: frame.parentFrame() ? {} : null } });
    });
    await ctx.exposeBinding(WINDOW_OPEN_BINDING, ({ page }, url: string, frameName: string, features: string) => {
      const handler = windows.get(page)?.webContents.windowOpenHandler;
      const appUrl = toAppUrl(url);
      const verdict = handler?.({ url: appUrl, frameName, features, disposition: 'new-window', referrer: { url: '', policy: 'default' } });
      if (verdict?.action === 'deny') {
        state.blockedNavigations.push(`window.open ${appUrl}`);
        return false;
      }
      return true;
    });
    await ctx.route('**/*', (route) => handleRequest(route).catch((e: Error) => {
      state.pageProblems.push(`request to ${route.request().url()} failed: ${e.message}`);
      return route.abort('failed').catch(() => {});
    }));
    ctx.on('page', (page) => void handlePopup(page));
    return ctx;
  })();
  return context;
}

async function handleRequest(route: Route): Promise<void> {
  const request = route.request();
  let page: Page;
  try {
    page = request.frame().page();
  } catch {
    // A popup's first request comes before its frame exists; popups are handlePopup's business.
    return route.abort('aborted');
  }
  const win = windows.get(page);
  if (win && request.isNavigationRequest() && request.frame() === page.mainFrame() && !win.isLoading(request.url())) {
    const url = toAppUrl(request.url());
    const event = preventableEvent({ url, isMainFrame: true });
    win.webContents.emit(request.redirectedFrom() ? 'will-redirect' : 'will-navigate', event, url, false, true);
    if (event.defaultPrevented) {
      state.blockedNavigations.push(url);
      return route.abort('aborted');
    }
  }
  const response = await serve(request.url(), request.method(), await request.allHeaders());
  if (!response) {
    state.pageProblems.push(`request to ${request.url()} refused: no network here`);
    return route.abort('internetdisconnected');
  }
  return route.fulfill({ status: response.status, headers: Object.fromEntries(response.headers), body: Buffer.from(await response.arrayBuffer()) });
}

/** A popup the window-open handler allowed (WINDOW_OPEN_HOOK): Electron would make it a window; here it is reported and closed. */
async function handlePopup(page: Page): Promise<void> {
  if (!(await page.opener())) return; // a window of ours
  state.pageProblems.push(`window.open ${toAppUrl(page.url())} was allowed`);
  await page.close();
}

class StandinWebContents extends EventEmitter {
  readonly id: number;
  windowOpenHandler: Parameters<Electron.WebContents['setWindowOpenHandler']>[0] | null = null;
  page: Page | null = null;
  url = '';
  destroyed = false;

  constructor(id: number) {
    super();
    this.id = id;
    const listeners: Record<string, number> = {};
    const record = (state.webContents[id] = { listeners, windowOpenHandler: false });
    this.on('newListener', (event: string) => { record.listeners[event] = (record.listeners[event] ?? 0) + 1; });
  }

  getURL(): string {
    return this.url;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  setWindowOpenHandler(handler: Parameters<Electron.WebContents['setWindowOpenHandler']>[0]): void {
    this.windowOpenHandler = handler;
    (state.webContents[this.id] as { windowOpenHandler: boolean }).windowOpenHandler = true;
  }

  /** Electron drops a message sent before the page is there, as this does. */
  send(channel: string, ...args: unknown[]): void {
    const sent = { channel, delivered: false };
    state.ipc.sent.push(sent);
    void this.page?.evaluate(([c, a]) => (window as unknown as { __electronStandinDeliver?: (c: string, a: unknown[]) => number }).__electronStandinDeliver?.(c, a), [channel, args] as const)
      .then((n) => { sent.delivered = (n ?? 0) > 0; }, () => {});
  }
}

class StandinBrowserWindow extends EventEmitter {
  readonly id = nextId++;
  readonly webContents: StandinWebContents;
  private readonly record: WindowState;
  readonly ready: Promise<Page>;
  private loading: string | null = null;
  private shownOnce = false;

  constructor(options: Electron.BrowserWindowConstructorOptions = {}) {
    super();
    if (!isReady()) throw new Error('Cannot create BrowserWindow before app is ready');
    this.webContents = new StandinWebContents(this.id);
    this.record = {
      id: this.id, webContentsId: this.webContents.id, options: JSON.parse(JSON.stringify(options)) as Record<string, unknown>,
      url: '', visible: options.show !== false, destroyed: false, focusCount: 0,
    };
    state.windows.push(this.record);
    byId.set(this.id, this);
    emitWebContentsCreated(this.webContents);
    this.ready = this.openPage(options);
    this.ready.catch((e: Error) => state.pageProblems.push(`window ${this.id}: ${e.message}`));
  }

  private async openPage(options: Electron.BrowserWindowConstructorOptions): Promise<Page> {
    const ctx = await browserContext();
    const page = await ctx.newPage();
    windows.set(page, this);
    this.webContents.page = page;
    await page.setViewportSize({ width: options.width ?? 800, height: options.height ?? 600 });
    page.on('pageerror', (e) => state.pageProblems.push(`window ${this.id} error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') state.pageProblems.push(`window ${this.id} console: ${m.text()}`); });
    await page.addInitScript({ content: CSP_REPORTER });
    await page.addInitScript({ content: WINDOW_OPEN_HOOK });
    const prefs = options.webPreferences ?? {};
    if (prefs.preload) {
      let source: string | null = null;
      try {
        source = readFileSync(prefs.preload, 'utf8');
      } catch (e) {
        state.pageProblems.push(`Unable to load preload script: ${prefs.preload} (${(e as Error).message})`);
      }
      // Electron's defaults since v12 (contextIsolation) and v20 (sandbox) apply when not given.
      if (source !== null) await page.addInitScript({ content: preloadScript(source, prefs.contextIsolation !== false) });
    }
    return page;
  }

  /** A navigation loadURL started (will-navigate is only for those the page starts). */
  isLoading(browserUrl: string): boolean {
    return this.loading !== null && browserUrl.replace(/#.*$/, '') === this.loading;
  }

  async loadURL(url: string): Promise<void> {
    const page = await this.ready;
    const target = toBrowserUrl(url);
    this.loading = target.replace(/#.*$/, '');
    try {
      await page.goto(target);
    } finally {
      this.loading = null;
    }
    this.webContents.url = this.record.url = toAppUrl(page.url());
    this.webContents.emit('did-finish-load', preventableEvent());
    if (!this.shownOnce) {
      this.shownOnce = true;
      this.emit('ready-to-show', preventableEvent());
    }
  }

  isDestroyed(): boolean {
    return this.record.destroyed;
  }

  isVisible(): boolean {
    return this.record.visible;
  }

  isMinimized(): boolean {
    return false;
  }

  restore(): void {}

  show(): void {
    this.record.visible = true;
    this.record.focusCount++;
  }

  focus(): void {
    this.record.focusCount++;
  }

  close(): void {
    const event = preventableEvent();
    this.emit('close', event);
    if (!event.defaultPrevented) void this.destroy();
  }

  async destroy(): Promise<void> {
    if (this.record.destroyed) return;
    Object.assign(this.record, { destroyed: true, visible: false });
    this.webContents.destroyed = true;
    byId.delete(this.id);
    await (await this.ready.catch(() => null))?.close();
    this.emit('closed');
    this.webContents.emit('destroyed');
    if (byId.size === 0) allWindowsClosed();
  }
}

export const BrowserWindow: BrowserWindowConstructor = StandinBrowserWindow;

function windowById(id: number): StandinBrowserWindow {
  const win = byId.get(id);
  if (!win) throw new Error(`no open window #${id}`);
  return win;
}

onCommand('close-window', ({ windowId }) => windowById(windowId).close());

onCommand('page-eval', async ({ windowId, fn, arg }) => {
  const page = await windowById(windowId).ready;
  return page.evaluate(`(${fn})(${JSON.stringify(arg ?? null)})`);
});
