// Entry point of the relay inside the tray app (Electron's utilityProcess, forked by electron/relay-host.ts
// with its own V8 flags). A crash here leaves the tray up, and a busy window cannot stall the relay.
// The parent talks through process.parentPort: it sends {type:'stop'}; this process answers with
// {type:'listening'} or {type:'failed'} and exits when stopped.
import { serveRelay } from './serve.js';

/** The part of Electron's process.parentPort this entry uses (src/ does not import electron). */
export interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export type HostMessage = { type: 'listening'; listening: string } | { type: 'failed'; message: string } | { type: 'stopped' };

export function dataDirArg(argv: readonly string[]): string | null {
  const i = argv.indexOf('--data-dir');
  return i >= 0 ? (argv[i + 1] ?? null) : null;
}

export async function hostInUtilityProcess(port: ParentPort, argv: readonly string[]): Promise<void> {
  const send = (m: HostMessage) => port.postMessage(m);
  const dataDir = dataDirArg(argv);
  if (!dataDir) {
    send({ type: 'failed', message: 'no --data-dir given to the relay process' });
    process.exit(2);
  }
  let hosted;
  try {
    hosted = await serveRelay(dataDir);
  } catch (e) {
    send({ type: 'failed', message: (e as Error).message });
    process.exit(1);
  }
  send({ type: 'listening', listening: hosted.listening });
  port.on('message', (e) => {
    if ((e.data as { type?: unknown } | null)?.type !== 'stop') return;
    void hosted.stop().finally(() => {
      send({ type: 'stopped' });
      process.exit(0);
    });
  });
}

// Electron's utility process adds process.parentPort, which Node's types do not know.
const parentPort = 'parentPort' in process ? (process.parentPort as ParentPort) : undefined;
if (parentPort) void hostInUtilityProcess(parentPort, process.argv);
