// One relay process, however it is started: `smtp-relay run` (a console, a service manager) and the tray
// app's utility process both run exactly this. It starts the relay, serves the control channel and
// publishes the public status, and reports to monitoring; stop() is the graceful shutdown every host calls.
import { serveControl } from '../control/server.js';
import { attachMonitoring } from '../monitor/attach.js';
import { RelayService } from '../relay.js';
import { KeychainStore } from '../secrets/keychain.js';

export interface HostedRelay {
  /** "127.0.0.1:25", or "[::1]:25". */
  listening: string;
  stop(): Promise<void>;
}

export async function serveRelay(dataDir: string, opts: { logToConsole?: boolean } = {}): Promise<HostedRelay> {
  // Everything the relay creates (queue files, logs) is private to its account; the public status and the
  // control folder get their modes explicitly.
  if (process.platform !== 'win32') process.umask(0o077);
  const relay = new RelayService({ dataDir, credentials: new KeychainStore(), logToConsole: opts.logToConsole });
  const addr = await relay.start();
  let control;
  try {
    control = await serveControl(relay, dataDir, (level, text) => relay.writeLog(level, text));
  } catch (e) {
    await relay.stop();
    throw e;
  }
  // State changes to the Event Log / journal, and the metrics endpoint when configured.
  const monitoring = await attachMonitoring(relay);
  let stopping: Promise<void> | null = null;
  return {
    listening: `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`,
    stop: () => (stopping ??= monitoring.close().then(() => control.close()).then(() => relay.stop())),
  };
}
