// In a utilityProcess.fork child (utility.ts): process.parentPort as Electron gives it, over the
// Node IPC channel. Messages that arrive before a 'message' listener exists are queued, as Electron does.
import { EventEmitter } from 'node:events';

const port = new EventEmitter() as EventEmitter & Electron.ParentPort;
const queued: unknown[] = [];
port.postMessage = (message: unknown) => void process.send?.(message);
process.on('message', (data: unknown) => {
  if (port.listenerCount('message') > 0) port.emit('message', { data, ports: [] });
  else queued.push(data);
});
port.on('newListener', (event: string) => {
  if (event === 'message') setImmediate(() => queued.splice(0).forEach((data) => port.emit('message', { data, ports: [] })));
});
Object.defineProperty(process, 'parentPort', { value: port });
