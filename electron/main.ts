// Composition root of the tray app: the only place that wires Electron to the relay. Everything with
// logic lives in src/ (tested under Node); this file stays thin. The tray icon, menu, notifications and
// settings window are built on top of it (see README: "Verified on Windows").
import { app } from 'electron';
import path from 'node:path';
import { RelayService } from '../src/relay.js';
import { KeychainStore } from '../src/secrets/keychain.js';

/** Same folder as the CLI: --data-dir, SMTP_RELAY_DATA_DIR, else userData ("%APPDATA%\SMTP Relay Tray"). */
function dataDir(): string {
  const i = process.argv.indexOf('--data-dir');
  const arg = i >= 0 ? process.argv[i + 1] : undefined;
  return path.resolve(arg ?? process.env.SMTP_RELAY_DATA_DIR ?? app.getPath('userData'));
}

app.setName('SMTP Relay Tray');
app.setAppUserModelId('com.smtprelaytray.app');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const relay = new RelayService({ dataDir: dataDir(), credentials: new KeychainStore() });
  let stopping = false;

  app.on('window-all-closed', () => {
    // A tray app keeps running (and relaying) with no window open.
  });

  app.on('before-quit', (event) => {
    if (stopping) return;
    stopping = true;
    event.preventDefault();
    void relay.stop().finally(() => app.exit(0));
  });

  void app.whenReady().then(() => relay.start()).catch((e: Error) => {
    console.error(`SMTP Relay Tray could not start: ${e.message}`);
    app.exit(1);
  });
}
