// app.requestSingleInstanceLock() as Electron does it per userData folder: the first process holds
// the lock and listens on a local socket; a later one finds it alive, passes its argv, cwd and
// additionalData over the socket (the first emits 'second-instance') and gets false.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { atExit } from './state.js';

export interface SecondLaunch { argv: string[]; cwd: string; additionalData: unknown }

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Synchronous like Electron's; `onSecondLaunch` runs in the first process for each later launch. */
export function requestLock(userData: string, additionalData: unknown, onSecondLaunch: (launch: SecondLaunch) => void): boolean {
  // In userData, as Chromium's SingletonLock and SingletonSocket; a Unix socket's path must stay under
  // ~100 bytes, so a long folder gets its socket in the temp dir, named after a hash of the folder.
  fs.mkdirSync(userData, { recursive: true });
  const lockFile = path.join(userData, 'SingletonLock');
  const near = path.join(userData, 'SingletonSocket');
  const socketPath = Buffer.byteLength(near) < 100 ? near
    : path.join(os.tmpdir(), `electron-standin-${createHash('sha256').update(path.resolve(userData)).digest('hex').slice(0, 16)}.sock`);
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        const launch: SecondLaunch = { argv: process.argv, cwd: process.cwd(), additionalData };
        atExit(() => tell(socketPath, launch));
        return false;
      }
      fs.rmSync(lockFile, { force: true }); // left by a process that died
    }
  }
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { text += d; });
    socket.on('end', () => {
      onSecondLaunch(JSON.parse(text) as SecondLaunch);
      socket.end();
    });
  });
  server.listen(socketPath);
  server.unref();
  atExit(async () => {
    server.close();
    fs.rmSync(socketPath, { force: true });
    fs.rmSync(lockFile, { force: true });
  });
  return true;
}

function tell(socketPath: string, launch: SecondLaunch): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath, () => socket.end(JSON.stringify(launch)));
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}
