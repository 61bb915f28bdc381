// The Electron API surface electron/ may use, each member picked from Electron's own electron.d.ts
// (its global `Electron` namespace). typecheck.ts type-checks electron/ with 'electron' resolved to the
// stand-in: a member electron/ starts to use that is not listed here fails `tsc`, and the stand-in's
// implementation must match Electron's signatures for what is listed. Where one Electron type names another (a Tray takes
// a Menu and a NativeImage), the stand-in's narrowed type is used instead, so the narrowing holds
// through. Events passed to listeners keep Electron's types (Electron.Event): a member of theirs the
// stand-in lacks fails the test at run time, not tsc.

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Event<T extends object = object> = Electron.Event<T>;

// `on`/`once` list the events the stand-in emits (an event electron/ starts to listen to that it does not
// emit fails tsc), with the listener types of electron.d.ts where electron/ reads the arguments.
export type App = Pick<Electron.App,
  'setName' | 'setPath' | 'getPath' | 'setAppUserModelId' | 'requestSingleInstanceLock' | 'quit' | 'exit' |
  'isPackaged' | 'getAppPath' | 'getLoginItemSettings' | 'setLoginItemSettings' | 'whenReady'> & {
  on(event: 'second-instance', listener: (event: Event, argv: string[], workingDirectory: string, additionalData: unknown) => void): App;
  on(event: 'web-contents-created', listener: (event: Event, webContents: WebContents) => void): App;
  on(event: 'before-quit' | 'will-quit', listener: (event: Event) => void): App;
  on(event: 'window-all-closed' | 'ready' | 'quit', listener: Listener): App;
};

export type NativeImage = Pick<Electron.NativeImage, 'addRepresentation' | 'isEmpty'>;
export interface NativeImageStatic { createEmpty(): NativeImage }

export type Menu = Pick<Electron.Menu, 'items'>;
export interface MenuStatic {
  buildFromTemplate(template: Electron.MenuItemConstructorOptions[]): Menu;
  setApplicationMenu(menu: Menu | null): void;
}

// A string is an image file's path (electron/tray.ts passes an .ico on win32 only).
export type Tray = Pick<Electron.Tray, 'isDestroyed' | 'setToolTip' | 'destroy'> & {
  setImage(image: NativeImage | string): void;
  setContextMenu(menu: Menu | null): void;
  on(event: 'click', listener: (event: Electron.KeyboardEvent, bounds: Electron.Rectangle, position: Electron.Point) => void): Tray;
};
export type TrayConstructor = new (image: NativeImage | string) => Tray;

export type Screen = {
  on(event: 'display-metrics-changed', listener: (event: Event, display: Electron.Display, changedMetrics: string[]) => void): Screen;
};

export type Notification = Pick<Electron.Notification, 'show' | 'close'> & {
  on(event: 'click' | 'close', listener: (event: Event) => void): Notification;
};
export interface NotificationStatic {
  new (options?: Electron.NotificationConstructorOptions): Notification;
  isSupported(): boolean;
}

export type WebContents = Pick<Electron.WebContents, 'id' | 'send' | 'getURL' | 'setWindowOpenHandler' | 'isDestroyed'> & {
  on(event: 'will-navigate' | 'will-redirect', listener: (details: Event<Electron.WebContentsWillNavigateEventParams>, url: string, isInPlace: boolean, isMainFrame: boolean) => void): WebContents;
  on(event: 'will-attach-webview', listener: (event: Event) => void): WebContents;
  on(event: 'did-finish-load' | 'destroyed', listener: Listener): WebContents;
};
export type BrowserWindow = Pick<Electron.BrowserWindow,
  'isDestroyed' | 'loadURL' | 'isMinimized' | 'restore' | 'show' | 'focus' | 'close' | 'isVisible'> & {
  readonly webContents: WebContents;
  on(event: 'close', listener: (event: Event) => void): BrowserWindow;
  on(event: 'closed', listener: Listener): BrowserWindow;
  once(event: 'ready-to-show' | 'closed', listener: Listener): BrowserWindow;
};
export type BrowserWindowConstructor = new (options?: Electron.BrowserWindowConstructorOptions) => BrowserWindow;

export type IpcMain = Pick<Electron.IpcMain, 'handle' | 'removeHandler'>;
export type Protocol = Pick<Electron.Protocol, 'registerSchemesAsPrivileged' | 'handle'>;
export type Shell = Pick<Electron.Shell, 'openPath'>;
export type Session = Pick<Electron.Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>;
export interface SessionStatic { readonly defaultSession: Session }

export type UtilityProcess = Pick<Electron.UtilityProcess, 'pid' | 'postMessage' | 'kill' | 'stdout' | 'stderr'> & {
  on(event: 'spawn', listener: () => void): UtilityProcess;
  on(event: 'exit', listener: (code: number) => void): UtilityProcess;
  on(event: 'message', listener: (message: any) => void): UtilityProcess; // eslint-disable-line @typescript-eslint/no-explicit-any
  once(event: 'spawn', listener: () => void): UtilityProcess;
  once(event: 'exit', listener: (code: number) => void): UtilityProcess;
};
export interface UtilityProcessStatic { fork(modulePath: string, args?: string[], options?: Electron.ForkOptions): UtilityProcess }

// The preload's side (run in the page by page-preload.ts).
export type ContextBridge = Pick<Electron.ContextBridge, 'exposeInMainWorld'>;
export type IpcRenderer = Pick<Electron.IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
