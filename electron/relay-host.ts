// The embedded relay (no service installed): src/host/utility-process.ts in an Electron utilityProcess, so
// that it gets its own V8 flags (main-process js-flags set at run time never reach the main process's
// heap), a relay crash leaves the tray up, and a busy window cannot stall SMTP.
import { utilityProcess } from 'electron';
import path from 'node:path';
import type { EmbeddedRelay } from '../src/desktop/relay-link.js';
import { RELAY_EXEC_ARGV, STOP_GRACE_MS } from '../src/host/v8-flags.js';
import type { HostMessage } from '../src/host/utility-process.js';

export function embedRelay(dataDir: string): Promise<EmbeddedRelay> {
  const child = utilityProcess.fork(path.join(import.meta.dirname, 'relay.js'), ['--data-dir', dataDir], {
    execArgv: RELAY_EXEC_ARGV, serviceName: 'SMTP Relay', stdio: 'inherit',
  });
  const exited = new Promise<number>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.postMessage({ type: 'stop' });
    const timer = setTimeout(() => child.kill(), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.on('message', (m: HostMessage) => {
      if (m.type === 'listening') resolve({ stop, exited });
      else if (m.type === 'failed') reject(new Error(m.message));
    });
    void exited.then((code) => reject(new Error(`the relay process ended (exit code ${code}) before it was ready`)));
  });
}
