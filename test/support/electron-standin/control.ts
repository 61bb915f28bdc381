// The control channel between the test and the stand-in electron: what it reports and the commands
// it takes, over the Node IPC channel of the app process (child_process.fork). Shared by the stand-in
// (in the app process) and test/support/electron-app.ts (in the test).

export interface MenuItemState {
  label: string;
  type: string;
  enabled: boolean;
  checked: boolean;
}

export interface ImageRepresentation { scaleFactor: number; width: number; height: number; sha256: string }

export interface WindowState {
  id: number;
  webContentsId: number;
  /** The BrowserWindow constructor options as the app passed them (functions dropped). */
  options: Record<string, unknown>;
  /** As webContents.getURL() reports it (app://…). */
  url: string;
  visible: boolean;
  destroyed: boolean;
  /** show() + focus() calls: a second launch or a menu item bringing the window forward. */
  focusCount: number;
}

export interface ProtocolResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
}

export interface IpcInvocation {
  channel: string;
  /** The handler threw (an untrusted sender, or no handler); else it answered. */
  threw: string | null;
}

export interface StandinState {
  app: {
    name: string | null;
    paths: Record<string, string>;
    appUserModelId: string | null;
    ready: boolean;
    /** 'primary' when requestSingleInstanceLock() returned true, 'secondary' when false. */
    singleInstance: 'primary' | 'secondary' | null;
    /** undefined until setApplicationMenu was called; then null or the item labels. */
    applicationMenu?: string[] | null;
    privilegedSchemes: unknown[];
    loginItem: unknown;
    /** Listener counts by event name, so a test sees what the app subscribed to. */
    listeners: Record<string, number>;
    quitCalls: number;
    /** 'second-instance' events received from later launches. */
    secondLaunches: number;
  };
  tray: null | {
    destroyed: boolean;
    tooltip: string;
    /** Representations of the current image: scale factor, the PNG's size and its SHA-256. */
    image: ImageRepresentation[];
    imageChanges: number;
    menu: MenuItemState[] | null;
    clickListeners: number;
  };
  /** Listener counts of the screen module by event name. */
  screen: { listeners: Record<string, number> };
  windows: WindowState[];
  ipc: { handlers: string[]; invocations: IpcInvocation[]; sent: { channel: string; delivered: boolean }[] };
  protocols: { schemes: string[]; responses: ProtocolResponse[] };
  notifications: { title: string; body: string; shown: boolean; clickListeners: number }[];
  openedPaths: string[];
  permissions: { requestHandler: boolean; checkHandler: boolean };
  /** webContents event listeners by webContents id ('will-navigate' …), and whether a window-open handler is set. */
  webContents: Record<number, { listeners: Record<string, number>; windowOpenHandler: boolean }>;
  /** Navigations the page attempted that the app prevented (will-navigate / will-redirect). */
  blockedNavigations: string[];
  utilityProcesses: { modulePath: string; args: string[]; execArgv: string[]; pid: number | null; exitCode: number | null }[];
  /** Page errors and console errors of every window. */
  pageProblems: string[];
}

export type Command =
  | { cmd: 'snapshot' }
  | { cmd: 'click-tray' }
  /** Clicks the context-menu item with this label; refused when it is disabled or not an actionable item. */
  | { cmd: 'click-tray-menu'; label: string }
  | { cmd: 'click-notification'; index: number }
  /** A display's scale factor changes (the user picks another zoom in Windows' display settings). */
  | { cmd: 'display-scale-changed'; scaleFactor: number }
  /** app.quit(), as the OS or the app's own menu would. */
  | { cmd: 'quit' }
  /** Evaluates `fn` (a function's source, taking `arg`) in the window's page and returns its result. */
  | { cmd: 'page-eval'; windowId: number; fn: string; arg?: unknown }
  /** The user closes the window (its close button). */
  | { cmd: 'close-window'; windowId: number }
  /** Asks the session's permission request handler, as a page asking for e.g. 'notifications' would. */
  | { cmd: 'permission'; permission: string };

export type ToApp = { kind: 'command'; id: number; command: Command };
export type FromApp =
  /** The last state, sent as the process exits (what a quit did is seen after it). */
  | { kind: 'final'; state: StandinState }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };
