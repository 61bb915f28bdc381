// Where the control channel listens for a data directory. POSIX: a Unix socket in <data dir>/control/,
// owner-only; Windows: a named pipe whose name comes from the control key, so nobody who cannot read the key
// can create it first (the pipe namespace is shared by every user of the machine).
import path from 'node:path';
import { keyedName } from './key.js';

export const CONTROL_DIR = 'control';

/** sun_path holds 108 bytes on Linux, 104 on macOS, including the terminating NUL. */
const MAX_SOCKET_PATH = 100;

export function controlDir(dataDir: string): string {
  return path.join(dataDir, CONTROL_DIR);
}

export function controlAddress(dataDir: string, key: Buffer, platform = process.platform): string {
  if (platform === 'win32') return `\\\\.\\pipe\\smtp-relay-${keyedName(key, 'pipe')}`;
  const inDir = path.join(path.resolve(dataDir), CONTROL_DIR, 'relay.sock');
  if (Buffer.byteLength(inDir) < MAX_SOCKET_PATH) return inDir;
  // A deep data directory: Linux's abstract namespace has no path limit and leaves no file behind. Others
  // can see its name in /proc/net/unix, but a process there cannot pass the handshake.
  if (platform === 'linux') return `\0smtp-relay-${keyedName(key, 'socket')}`;
  throw new Error(`the data directory path is too long for a control socket (${inDir}); use a shorter --data-dir`);
}

/** For messages: an abstract socket's name starts with a NUL. */
export function describeAddress(address: string): string {
  return address.startsWith('\0') ? `@${address.slice(1)}` : address;
}
