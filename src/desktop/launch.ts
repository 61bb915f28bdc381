// How the tray app was launched and how it registers itself to start at login: the decisions
// behind electron/main.ts, kept here so they are tested without Electron.
import path from 'node:path';

/**
 * electron-builder's appId and the AppUserModelID: Windows files the Start-menu shortcut, the app's
 * notifications and its login item (the Run value's name) under it. build/installer.nsh repeats it.
 */
export const APP_ID = 'com.smtprelaytray.app';

/** Passed by the login item: start in the tray without opening the settings window. */
export const HIDDEN_ARG = '--hidden';

export interface LaunchOptions {
  hidden: boolean;
  /** --data-dir DIR or --data-dir=DIR, as for the CLI. */
  dataDir: string | null;
}

export function parseLaunchArgs(argv: readonly string[]): LaunchOptions {
  let dataDir: string | null = null;
  argv.forEach((arg, i) => {
    if (arg === '--data-dir' && argv[i + 1] !== undefined) dataDir = argv[i + 1] as string;
    else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
  });
  return { hidden: argv.includes(HIDDEN_ARG), dataDir };
}

/** Same rule as the CLI: --data-dir, then SMTP_RELAY_DATA_DIR, then Electron's userData folder. */
export function resolveDataDir(launch: LaunchOptions, env: NodeJS.ProcessEnv, userData: string): string {
  return path.resolve(launch.dataDir || env.SMTP_RELAY_DATA_DIR || userData);
}

/** Login items exist on Windows and macOS (app.setLoginItemSettings); not on Linux. */
export function loginItemSupported(platform: NodeJS.Platform): boolean {
  return platform === 'win32' || platform === 'darwin';
}

/**
 * Arguments for app.setLoginItemSettings. The login launch passes --hidden. An unpackaged app
 * (npm start) runs as `electron.exe <entry script>`, so the entry must be in the arguments too.
 */
export function loginItemSettings(openAtLogin: boolean, launcher: { execPath: string; appPath: string | null }): { openAtLogin: boolean; path: string; args: string[] } {
  return { openAtLogin, path: launcher.execPath, args: launcher.appPath ? [launcher.appPath, HIDDEN_ARG] : [HIDDEN_ARG] };
}

/**
 * Whether the app will start at login, from app.getLoginItemSettings(). On Windows the run key can
 * be switched off in Task Manager's Startup tab while it still exists: executableWillLaunchAtLogin
 * accounts for that, openAtLogin does not.
 */
export function startsAtLogin(platform: NodeJS.Platform, settings: { openAtLogin: boolean; executableWillLaunchAtLogin?: boolean }): boolean | null {
  if (!loginItemSupported(platform)) return null;
  return platform === 'win32' ? settings.openAtLogin && settings.executableWillLaunchAtLogin !== false : settings.openAtLogin;
}

/**
 * Start at login is on by default: the first run of an installed copy turns it on once (the
 * installer launches the app when it finishes). Later runs respect what the user chose.
 */
export function shouldEnableStartAtLoginOnFirstRun(opts: { packaged: boolean; supported: boolean; firstRun: boolean }): boolean {
  return opts.packaged && opts.supported && opts.firstRun;
}

/**
 * The additionalData a second launch passed to requestSingleInstanceLock (its argv is not reliable
 * there: Chromium reorders it). A second `--hidden` launch (a login item while the app already runs)
 * must not pop the window up.
 */
export function secondLaunchWantsWindow(additionalData: unknown): boolean {
  return !(typeof additionalData === 'object' && additionalData !== null && (additionalData as { hidden?: unknown }).hidden === true);
}
