// app: paths, the single-instance lock, login items, 'ready', and quitting as Electron
// orders it (before-quit and will-quit can be prevented; exit() skips them).
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { requestLock } from './single-instance.js';
import { exitProcess, onCommand, state } from './state.js';
import type { App } from './types.js';

export interface PreventableEvent { defaultPrevented: boolean; preventDefault(): void }

export function preventableEvent(extra: Record<string, unknown> = {}): PreventableEvent {
  return { ...extra, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
}

class StandinApp extends EventEmitter {
  readonly isPackaged = false;
  private readonly ready: Promise<void>;
  private resolveReady: () => void = () => {};

  constructor() {
    super();
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
    // Electron on Linux: appData is $XDG_CONFIG_HOME or ~/.config; userData is appData/<name>.
    const appData = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
    Object.assign(state.app.paths, { home: os.homedir(), appData, temp: os.tmpdir(), exe: process.execPath });
    this.on('newListener', (event: string) => { state.app.listeners[event] = (state.app.listeners[event] ?? 0) + 1; });
  }

  setName(name: string): void {
    state.app.name = name;
  }

  getPath(name: Parameters<Electron.App['getPath']>[0]): string {
    const p = state.app.paths;
    if (name === 'userData') return p.userData ?? path.join(p.appData as string, state.app.name ?? 'Electron');
    if (name === 'sessionData') return p.sessionData ?? this.getPath('userData');
    const value = p[name];
    if (value === undefined) throw new Error(`Failed to get '${name}' path`);
    return value;
  }

  setPath(name: string, value: string): void {
    state.app.paths[name] = value;
  }

  getAppPath(): string {
    return process.cwd();
  }

  setAppUserModelId(id: string): void {
    state.app.appUserModelId = id;
  }

  requestSingleInstanceLock(additionalData?: Record<string, unknown>): boolean {
    const primary = requestLock(this.getPath('userData'), additionalData ?? {}, (launch) => {
      state.app.secondLaunches++;
      this.emit('second-instance', preventableEvent(), launch.argv, launch.cwd, launch.additionalData);
    });
    state.app.singleInstance = primary ? 'primary' : 'secondary';
    return primary;
  }

  getLoginItemSettings(): Electron.LoginItemSettings {
    // What Electron answers on Linux, where login items do not exist.
    return { openAtLogin: false, wasOpenedAtLogin: false, status: 'not-registered', executableWillLaunchAtLogin: false, launchItems: [] };
  }

  setLoginItemSettings(settings: Electron.Settings): void {
    state.app.loginItem = settings;
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  isReady(): boolean {
    return state.app.ready;
  }

  /** Fired by boot.ts once the app's entry module has run, as Electron does. */
  markReady(): void {
    state.app.ready = true;
    this.emit('ready', preventableEvent(), {});
    this.resolveReady();
  }

  /** Electron quits when the last window closes, unless the app listens to 'window-all-closed'. */
  allWindowsClosed(): void {
    if (this.listenerCount('window-all-closed') > 0) this.emit('window-all-closed');
    else this.quit();
  }

  quit(): void {
    state.app.quitCalls++;
    const before = preventableEvent();
    this.emit('before-quit', before);
    if (before.defaultPrevented) return;
    const will = preventableEvent();
    this.emit('will-quit', will);
    if (will.defaultPrevented) return;
    this.emit('quit', preventableEvent(), 0);
    exitProcess(0);
  }

  exit(exitCode = 0): void {
    exitProcess(exitCode);
  }
}

const standinApp = new StandinApp();
export const app: App = standinApp;
onCommand('quit', () => standinApp.quit());

export const markReady = (): void => standinApp.markReady();
export const isReady = (): boolean => standinApp.isReady();
export const allWindowsClosed = (): void => standinApp.allWindowsClosed();
export const emitWebContentsCreated = (contents: unknown): void => void standinApp.emit('web-contents-created', preventableEvent(), contents);
