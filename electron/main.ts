// Composition root of the tray app: the only place that wires Electron to the relay. Everything with
// logic lives in src/ (tested under Node): src/desktop/relay-link.ts (service client, read-only, or the
// embedded relay), src/tray/ (icon, tooltip, menu, notifications), src/ipc/ (validated IPC),
// src/desktop/ (launch arguments, login item, app:// protocol, CSP).
import { app, Menu, protocol, shell } from 'electron';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PRODUCT_NAME, serviceDataDir } from '../src/config/store.js';
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, originOf, serveAppRequest } from '../src/desktop/app-protocol.js';
import {
  APP_ID, loginItemSettings, loginItemSupported, parseLaunchArgs, resolveDataDir, secondLaunchWantsWindow,
  shouldEnableStartAtLoginOnFirstRun, startsAtLogin,
} from '../src/desktop/launch.js';
import { RelayLink } from '../src/desktop/relay-link.js';
import { relaunchElevatedCommand, startServiceCommand } from '../src/desktop/service-control.js';
import { TrayController } from '../src/tray/controller.js';
import { serveRelayIpc } from './ipc.js';
import { embedRelay } from './relay-host.js';
import { ElectronTray } from './tray.js';
import { lockDownWebContents, SettingsWindow } from './window.js';

/** The age of the oldest message (tooltip, "stuck" alert) changes without a status event. */
const STATUS_POLL_MS = 30_000;

const launch = parseLaunchArgs(process.argv);

app.setName(PRODUCT_NAME);
// Electron derived userData from package.json before this code ran ("Electron" under `npm start`): pin
// it to the product name, which is where the CLI looks by default (src/config/store.ts). Chromium's own
// files (caches, local storage) go to a subfolder rather than next to config.json and spool/.
app.setPath('userData', path.join(app.getPath('appData'), PRODUCT_NAME));
app.setPath('sessionData', path.join(app.getPath('userData'), 'chromium'));
app.setAppUserModelId(APP_ID);
// Must precede 'ready'. standard+secure give app://relay a real origin and a secure context.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock({ hidden: launch.hidden })) {
  app.quit(); // the running instance gets 'second-instance' and shows its window
} else {
  run();
}

function run(): void {
  const userDataDir = resolveDataDir(launch, process.env, app.getPath('userData'));
  // An explicit --data-dir or SMTP_RELAY_DATA_DIR means that folder, not the service's.
  const explicit = Boolean(launch.dataDir || process.env.SMTP_RELAY_DATA_DIR);
  const link = new RelayLink({
    serviceDataDir: explicit ? null : serviceDataDir(), userDataDir, embed: embedRelay,
    reopenAsAdministrator: async () => {
      await runCommand(relaunchElevatedCommand(process.execPath, process.argv.slice(1)), 'could not start SMTP Relay Tray as administrator');
      app.quit();
    },
  });
  const relay = link.api;
  const devUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL; // set by `electron-vite dev`
  const devOrigin = devUrl ? originOf(devUrl) : null;
  const origins = devOrigin ? [APP_ORIGIN, devOrigin] : [APP_ORIGIN];
  const rendererDir = path.join(import.meta.dirname, '../renderer');
  const settings = new SettingsWindow({ preload: path.join(import.meta.dirname, '../preload/preload.cjs'), pageUrl: devUrl ?? APP_ENTRY_URL });

  // Unpackaged (npm start), Electron runs as `electron <entry>`: the login item must pass the entry too.
  const launcher = { execPath: process.execPath, appPath: process.defaultApp ? path.resolve(process.argv[1] ?? app.getAppPath()) : null };
  const loginItems = loginItemSupported(process.platform);
  const startAtLogin = {
    get: () => startsAtLogin(process.platform, app.getLoginItemSettings({ path: launcher.execPath, args: loginItemSettings(true, launcher).args })),
    set: (on: boolean) => app.setLoginItemSettings(loginItemSettings(on, launcher)),
  };

  const tray: TrayController = new TrayController({
    relay,
    port: new ElectronTray({
      onAction: (action) => void tray.run(action),
      onClick: () => settings.open('settings'),
      onNotificationClick: (notice) => settings.open(notice.kind === 'stuck' ? 'queue' : 'settings'),
    }),
    // "Start relay": the service when it is installed and stopped (asks for elevation), else the embedded relay.
    startRelay: () => (link.mode.kind === 'service-stopped' ? startService() : link.start()),
    startAtLogin,
    openWindow: (view) => settings.open(view),
    openLogFolder: async () => {
      const logs = path.join(link.mode.dataDir, 'logs');
      fs.mkdirSync(logs, { recursive: true });
      const error = await shell.openPath(logs);
      if (error) throw new Error(error);
    },
    quit: () => app.quit(),
  });

  let poll: NodeJS.Timeout | undefined;
  let quitting = false;

  app.on('second-instance', (_event, _argv, _cwd, additionalData) => {
    if (secondLaunchWantsWindow(additionalData)) settings.open('settings');
  });

  app.on('window-all-closed', () => {
    // A tray app keeps running (and relaying) with no window open.
  });

  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    clearInterval(poll);
    // Embedded: stop accepting, let deliveries in flight finish, release the spool lock; then really quit.
    // A service is left running: mail keeps flowing after the tray app is gone.
    void link.stop().finally(() => app.exit(0));
  });

  void app.whenReady().then(async () => {
    Menu.setApplicationMenu(null); // no File/View menu (and no reload/devtools accelerators)
    protocol.handle(APP_SCHEME, (request) => serveAppRequest(request, rendererDir));
    lockDownWebContents(origins);
    serveRelayIpc(relay, settings, origins);
    relay.onStatus((status) => void tray.refresh(status));

    const marker = path.join(app.getPath('userData'), 'start-at-login-default-applied');
    const firstRun = !fs.existsSync(marker);
    if (shouldEnableStartAtLoginOnFirstRun({ packaged: app.isPackaged, supported: loginItems, firstRun })) {
      startAtLogin.set(true);
      fs.mkdirSync(path.dirname(marker), { recursive: true });
      fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
    }

    await tray.refresh(); // the icon appears at once, grey until the relay is up
    await tray.startRelay();
    poll = setInterval(() => void tray.refresh(), STATUS_POLL_MS);
    if (!launch.hidden) settings.open('settings');
  }).catch((e: Error) => {
    console.error(`SMTP Relay Tray could not start: ${e.stack ?? e.message}`);
    app.exit(1);
  });
}

function startService(): Promise<void> {
  return runCommand(startServiceCommand(process.platform), 'could not start the service');
}

function runCommand([file, args]: [string, string[]], failure: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { windowsHide: true }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${failure}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
