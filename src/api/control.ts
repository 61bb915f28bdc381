// The control channel: RelayApi over a local socket, so the CLI can drive a running relay (status,
// queue retry/delete, config reload) without touching the spool the relay owns. One JSON object per
// line each way. POSIX: a 0600 Unix socket; Windows: a named pipe, whose default ACL lets only the
// creator, administrators and SYSTEM write to it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isRelayMethod, methodArgs, parseMethodArgs, RelayError, type RelayApi, type RelayEvent, type RelayMethod, type RelayStatus } from './contract.js';

const MAX_LINE = 1024 * 1024;

/** The socket or pipe for a data directory; derived, so both sides find it without configuration. */
export function controlAddress(dataDir: string, platform = process.platform): string {
  const hash = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\smtp-relay-${hash}`;
  const inDir = path.join(dataDir, 'relay.sock');
  // Unix socket paths are limited to ~107 bytes; fall back to a per-user temp name.
  return Buffer.byteLength(inDir) < 100 ? inDir : path.join(os.tmpdir(), `smtp-relay-${hash}.sock`);
}

type Request = { id: number; method: string; args?: unknown[] };
type Response = { id: number; result?: unknown; error?: { kind: RelayError['kind']; message: string } } | { event: 'status'; status: RelayStatus };

/** What the relay process runs next to the RelayService. The caller must hold the spool lock. */
export async function serveControl(api: RelayApi & { reload(): Promise<unknown> }, dataDir: string): Promise<{ close(): Promise<void> }> {
  const address = controlAddress(dataDir);
  if (process.platform !== 'win32') fs.rmSync(address, { force: true }); // stale from a crash; we hold the lock
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const unsubscribe: (() => void)[] = [];
    socket.on('close', () => { sockets.delete(socket); unsubscribe.forEach((u) => u()); });
    socket.on('error', () => {});
    const send = (r: Response) => socket.writable && socket.write(JSON.stringify(r) + '\n');
    readLines(socket, async (line) => {
      let req: Request;
      try {
        req = JSON.parse(line) as Request;
      } catch {
        return void socket.destroy();
      }
      if (req.method === 'onStatus') {
        unsubscribe.push(api.onStatus((status) => send({ event: 'status', status })));
        return void send({ id: req.id, result: null });
      }
      try {
        send({ id: req.id, result: await dispatch(api, req) });
      } catch (e) {
        const kind = e instanceof RelayError ? e.kind : 'internal';
        send({ id: req.id, error: { kind, message: (e as Error).message } });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => { server.off('error', reject); resolve(); });
  });
  if (process.platform !== 'win32') fs.chmodSync(address, 0o600);
  return {
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function dispatch(api: RelayApi & { reload(): Promise<unknown> }, req: Request): Promise<unknown> {
  if (req.method === 'reload') return api.reload();
  if (!isRelayMethod(req.method)) throw new RelayError('invalid', `unknown method ${String(req.method)}`);
  const args = parseMethodArgs(req.method, req.args ?? []);
  const fn = api[req.method] as (...a: unknown[]) => Promise<unknown>;
  return fn.apply(api, args);
}

/** A RelayApi backed by a running relay. `connectControl` returns null when no relay answers. */
export type RemoteRelay = Omit<RelayApi, RelayEvent> & {
  reload(): Promise<unknown>;
  onStatus(listener: (s: RelayStatus) => void): Promise<void>;
  close(): void;
};

export async function connectControl(dataDir: string): Promise<RemoteRelay | null> {
  const socket = await new Promise<net.Socket | null>((resolve) => {
    const s = net.connect(controlAddress(dataDir));
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
  if (!socket) return null;
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const statusListeners: ((s: RelayStatus) => void)[] = [];
  const failAll = (e: Error) => { for (const p of pending.values()) p.reject(e); pending.clear(); };
  socket.on('error', failAll);
  socket.on('close', () => failAll(new RelayError('unavailable', 'the relay closed the control connection')));
  readLines(socket, async (line) => {
    const msg = JSON.parse(line) as Response;
    if ('event' in msg) return statusListeners.forEach((l) => l(msg.status));
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p?.reject(new RelayError(msg.error.kind, msg.error.message));
    else p?.resolve(msg.result);
  });
  const call = (method: string, args: unknown[]) => new Promise<unknown>((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    socket.write(JSON.stringify({ id, method, args }) + '\n');
  });
  const remote: Record<string, unknown> = {
    close: () => socket.end(),
    reload: () => call('reload', []),
    onStatus: async (listener: (s: RelayStatus) => void) => {
      statusListeners.push(listener);
      await call('onStatus', []);
    },
  };
  for (const method of Object.keys(methodArgs) as RelayMethod[]) remote[method] = (...args: unknown[]) => call(method, args);
  return remote as RemoteRelay;
}

function readLines(socket: net.Socket, onLine: (line: string) => Promise<void> | void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE) return void socket.destroy();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line) void Promise.resolve(onLine(line)).catch(() => socket.destroy());
    }
  });
}
