// A stand-in for the 'electron' module, so that electron/'s built composition root (out/main/main.js)
// runs under Node in a test: hooks.ts resolves 'electron' here. Its types are picked from Electron's
// own electron.d.ts (types.ts); what it does is recorded in state.ts and driven through control.ts.
import { existsSync } from 'node:fs';
import { app } from './app.js';
import { ipcMain } from './ipc-main.js';
import { protocol } from './scheme.js';
import { screen } from './screen.js';
import { onCommand, state } from './state.js';
import { Menu, Notification, Tray, nativeImage } from './tray.js';
import type { ContextBridge, IpcRenderer, Session, SessionStatic, Shell } from './types.js';
import { utilityProcess } from './utility.js';
import { BrowserWindow } from './window.js';

export { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, protocol, screen, Tray, utilityProcess };
export type { App, UtilityProcess } from './types.js';
export type { NativeImage } from './tray.js';
export type MenuItemConstructorOptions = Electron.MenuItemConstructorOptions;
export type IpcRendererEvent = Electron.IpcRendererEvent;

export const shell: Shell = {
  // Electron answers '' on success and an error text otherwise; here nothing is opened, only recorded.
  async openPath(target: string): Promise<string> {
    state.openedPaths.push(target);
    return existsSync(target) ? '' : `Failed to open path: ${target}`;
  },
};

type PermissionRequestHandler = Parameters<Electron.Session['setPermissionRequestHandler']>[0];
type PermissionCheckHandler = Parameters<Electron.Session['setPermissionCheckHandler']>[0];
let requestHandler: PermissionRequestHandler = null;
let checkHandler: PermissionCheckHandler = null;

const defaultSession: Session = {
  setPermissionRequestHandler(handler: PermissionRequestHandler): void {
    requestHandler = handler;
    state.permissions.requestHandler = handler !== null;
  },
  setPermissionCheckHandler(handler: PermissionCheckHandler): void {
    checkHandler = handler;
    state.permissions.checkHandler = handler !== null;
  },
};
export const session: SessionStatic = { defaultSession };

/** A page asking for a permission: Electron grants everything unless the app set a handler. */
onCommand('permission', async ({ permission }) => {
  const name = permission as Parameters<NonNullable<PermissionCheckHandler>>[1];
  const checked = checkHandler ? checkHandler(null, name, 'app://relay', {} as Electron.PermissionCheckHandlerHandlerDetails) : true;
  const requested = requestHandler
    ? await new Promise<boolean>((resolve) => requestHandler?.({} as Electron.WebContents, name, resolve, {} as Electron.PermissionRequest))
    : true;
  return { checked, requested };
});

// The preload's modules exist only in a renderer; the built preload gets them from page-preload.ts.
function rendererOnly(name: string): never {
  throw new Error(`electron.${name} is only available in a preload or renderer, not in the main process`);
}
export const contextBridge: ContextBridge = { exposeInMainWorld: () => rendererOnly('contextBridge') };
export const ipcRenderer: IpcRenderer = {
  invoke: () => rendererOnly('ipcRenderer'),
  on: () => rendererOnly('ipcRenderer'),
  removeListener: () => rendererOnly('ipcRenderer'),
};
