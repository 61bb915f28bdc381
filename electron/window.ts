// The settings window: created when asked for, destroyed when closed (no hidden renderer kept in
// memory), locked down per Electron's security checklist. All decisions (URLs, origins, CSP) are in
// src/desktop/app-protocol.ts.
import { app, BrowserWindow, session } from 'electron';
import { isAllowedNavigation, windowUrl, type WindowView } from '../src/desktop/app-protocol.js';

export interface SettingsWindowOptions {
  /** Absolute path of the built preload (out/preload/preload.cjs). */
  preload: string;
  /** app://relay/index.html, or the Vite dev server's URL under `electron-vite dev`. */
  pageUrl: string;
}

export class SettingsWindow {
  private win: BrowserWindow | null = null;
  /** webContents ids whose IPC calls are accepted (src/ipc/sender.ts). */
  readonly webContentsIds = new Set<number>();

  constructor(private readonly opts: SettingsWindowOptions) {}

  open(view: WindowView): void {
    const url = windowUrl(this.opts.pageUrl, view);
    if (this.win && !this.win.isDestroyed()) {
      // Only the hash changes: the page switches view in place and unsaved input survives.
      if (this.win.webContents.getURL() !== url) void this.win.loadURL(url);
      if (this.win.isMinimized()) this.win.restore();
      this.win.show();
      this.win.focus();
      return;
    }
    const win = new BrowserWindow({
      title: 'SMTP Relay Tray',
      width: 960,
      height: 720,
      minWidth: 640,
      minHeight: 480,
      show: false,
      autoHideMenuBar: true,
      webPreferences: {
        preload: this.opts.preload,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        devTools: !app.isPackaged,
      },
    });
    const id = win.webContents.id;
    this.webContentsIds.add(id);
    win.on('closed', () => {
      this.webContentsIds.delete(id);
      if (this.win === win) this.win = null;
    });
    win.once('ready-to-show', () => win.show());
    void win.loadURL(url);
    this.win = win;
  }

  /** Pushes an event to the page, if the window is open. */
  send(channel: string, payload: unknown): void {
    if (this.win && !this.win.isDestroyed()) this.win.webContents.send(channel, payload);
  }
}

/**
 * For every web contents the app ever creates: navigation only within our own origins, no new
 * windows, no <webview>; and every permission request (camera, notifications, …) refused.
 */
export function lockDownWebContents(origins: readonly string[]): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      if (!isAllowedNavigation(event.url, origins)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (!isAllowedNavigation(event.url, origins)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}
