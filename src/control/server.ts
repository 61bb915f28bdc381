// The relay's end of the control channel: RelayApi over a local socket or named pipe, for the CLI, the
// tray app and the settings window. Nothing is answered before the client has proved it holds the control
// key (key.ts): only the relay's owner and administrators can read it. What any local user may know (state
// and counts) is published separately, in public-status.ts.
import fs from 'node:fs';
import net from 'node:net';
import { isRelayMethod, parseMethodArgs, RelayError, type RelayApi } from '../api/contract.js';
import { controlAddress, controlDir, describeAddress } from './address.js';
import { ensureControlKey, proofMatches, proofOf } from './key.js';
import { publishStatus } from './public-status.js';
import { HANDSHAKE_MS, nonce, parseLine, readLines, sendLine, toRequest, type Request, type Response } from './wire.js';

/** What the channel serves: the RelayApi plus a reload of config.json. */
export type ServedApi = RelayApi & { reload(): Promise<unknown> };

export interface ControlServer {
  address: string;
  close(): Promise<void>;
}

/** Why a connection was closed, for the relay's log (a failed handshake may be an attack). */
export type ControlLog = (level: 'info' | 'warning', text: string) => void;

/** Connections that have not proved they hold the key yet; more are closed unanswered. */
const MAX_HANDSHAKING = 16;
/** Refusals logged per minute; the rest are counted in one line when the minute is over. */
const REFUSALS_LOGGED_PER_MINUTE = 5;

function refusalLog(log: ControlLog): (why: string) => void {
  let windowStart = 0;
  let logged = 0;
  let unlogged = 0;
  return (why) => {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      if (unlogged) log('warning', `control connection refused ${unlogged} more times in the last minute (not logged one by one)`);
      windowStart = now;
      logged = 0;
      unlogged = 0;
    }
    if (logged < REFUSALS_LOGGED_PER_MINUTE) {
      logged++;
      log('warning', `control connection refused: ${why}`);
    } else unlogged++;
  };
}

/**
 * Serves the channel and publishes the public status. The caller holds the spool lock, so a socket file
 * left by a crash is ours to replace.
 */
export async function serveControl(api: ServedApi, dataDir: string, log: ControlLog = () => {}): Promise<ControlServer> {
  const key = await ensureControlKey(dataDir);
  const dir = controlDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (process.platform !== 'win32') fs.chmodSync(dir, 0o755); // any user may read status.json here; only we write
  const address = controlAddress(dataDir, key);
  if (process.platform !== 'win32' && !address.startsWith('\0')) fs.rmSync(address, { force: true });

  const sockets = new Set<net.Socket>();
  const logRefusal = refusalLog(log);
  let handshaking = 0;
  const server = net.createServer((socket) => {
    // Anyone who can reach the address (an abstract socket on Linux: every local user) may connect as often as
    // they like: a bounded number wait for their handshake, and the log says how many were refused.
    if (handshaking >= MAX_HANDSHAKING) {
      logRefusal('too many connections waiting for their handshake');
      socket.destroy();
      return;
    }
    handshaking++;
    let trusted = false; // until then the connection counts as waiting for its handshake
    sockets.add(socket);
    const unsubscribe: (() => void)[] = [];
    socket.on('close', () => {
      if (!trusted) handshaking--;
      sockets.delete(socket);
      unsubscribe.forEach((u) => u());
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // A client that vanished (ECONNRESET, EPIPE): its calls are abandoned, nothing to say. Without a
      // code the error is ours: the client broke the protocol, and the log says how.
      if (!e.code) log('warning', `control connection closed: ${e.message}`);
    });
    const serverNonce = nonce();
    let clientNonce: string | null = null;
    const refuse = (why: string) => {
      logRefusal(why);
      sendLine(socket, { refused: why });
      socket.end();
    };
    const timer = setTimeout(() => refuse('no handshake within 5 s'), HANDSHAKE_MS);
    socket.once('close', () => clearTimeout(timer));
    const send = (r: Response) => sendLine(socket, r);

    readLines(socket, async (line) => {
      const msg = parseLine(line);
      if (!trusted) {
        if (clientNonce === null) {
          if (msg.hello !== 1 || typeof msg.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(msg.nonce)) return refuse('not a control client');
          clientNonce = msg.nonce;
          return sendLine(socket, { hello: 1, nonce: serverNonce, proof: proofOf(key, 'relay', clientNonce, serverNonce) });
        }
        if (!proofMatches(proofOf(key, 'client', serverNonce, clientNonce), msg.proof)) return refuse('the client does not hold the control key');
        trusted = true;
        handshaking--;
        clearTimeout(timer);
        return sendLine(socket, { welcome: 1 });
      }
      const req = toRequest(msg);
      if (req.method === 'onStatus') {
        unsubscribe.push(api.onStatus((status) => send({ event: 'status', status })));
        return send({ id: req.id, result: null });
      }
      if (req.method === 'onTestStep') {
        unsubscribe.push(api.onTestStep((step) => send({ event: 'step', step })));
        return send({ id: req.id, result: null });
      }
      try {
        send({ id: req.id, result: await dispatch(api, req) });
      } catch (e) {
        const kind = e instanceof RelayError ? e.kind : 'internal';
        send({ id: req.id, error: { kind, message: (e as Error).message } });
      }
    });
  });

  // The socket exists with its final mode from the moment it is bound: bind() runs synchronously inside
  // listen(), under this umask, which is restored at once. (chmod after listen left an instant in which any
  // user could connect.)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const umask = process.platform === 'win32' ? null : process.umask(0o177);
      try {
        server.listen(address, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        if (umask !== null) process.umask(umask);
      }
    });
  } catch (e) {
    throw new Error(`cannot serve the control channel at ${describeAddress(address)}: ${(e as Error).message}`, { cause: e });
  }
  const stopPublishing = await publishStatus(api, dataDir);

  return {
    address,
    close: async () => {
      await new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      await stopPublishing();
    },
  };
}

async function dispatch(api: ServedApi, req: Request): Promise<unknown> {
  if (req.method === 'reload') return api.reload();
  if (!isRelayMethod(req.method)) throw new RelayError('invalid', `unknown method ${String(req.method)}`);
  const args = parseMethodArgs(req.method, req.args ?? []);
  const fn = api[req.method] as (...a: unknown[]) => Promise<unknown>;
  return fn.apply(api, args);
}
