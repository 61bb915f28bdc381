// The client's end of the control channel (CLI, tray app, settings window). Before any call it checks that
// the other end is the relay for this data directory: the relay must prove it holds the control key. A
// process that took the relay's address first gets nothing, not even the name of the method.
import net from 'node:net';
import { forwardCalls } from '../api/calls.js';
import { RelayError, type ConnectionStep, type RelayApi, type RelayEvent, type RelayStatus } from '../api/contract.js';
import { controlAddress, describeAddress } from './address.js';
import { keyFile, proofMatches, proofOf, readControlKey } from './key.js';
import { HANDSHAKE_MS, nonce, parseLine, readLines, sendLine, toResponse } from './wire.js';

/** The endpoint answered but is not our relay: it could not prove it holds the key. */
export class ImpostorError extends Error {
  constructor(address: string, dataDir: string, why: string) {
    super(`the process at ${describeAddress(address)} is not the relay for ${dataDir} (${why}): it could not prove that it holds ` +
      `${keyFile(dataDir)}, so nothing was sent to it. Another program or user may have taken the relay's address; stop it, then restart the relay`);
    this.name = 'ImpostorError';
  }
}

/** A RelayApi backed by a running relay. */
export type RemoteRelay = Omit<RelayApi, RelayEvent> & {
  reload(): Promise<unknown>;
  onStatus(listener: (s: RelayStatus) => void): Promise<void>;
  onTestStep(listener: (s: ConnectionStep) => void): Promise<void>;
  /** Called once when the relay goes away (stopped, crashed) or close() was called. */
  onClose(listener: () => void): void;
  close(): void;
};

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

function connect(address: string): Promise<net.Socket | null> {
  return new Promise((resolve, reject) => {
    const s = net.connect(address);
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => {
      // Nothing listens there: no relay runs.
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(null);
      else reject(new RelayError('unavailable', `cannot reach the relay at ${describeAddress(address)}: ${e.message}`));
    });
  });
}

/**
 * Connects to the relay serving dataDir and authenticates it. Returns null when no relay runs there;
 * throws ControlAccessError when the caller may not read the key, ImpostorError when something else answers.
 */
export async function connectControl(dataDir: string): Promise<RemoteRelay | null> {
  const key = await readControlKey(dataDir);
  if (!key) return null; // no relay has ever served this data directory
  const address = controlAddress(dataDir, key);
  const socket = await connect(address);
  if (!socket) return null;

  const pending = new Map<number, Pending>();
  const statusListeners: ((s: RelayStatus) => void)[] = [];
  const stepListeners: ((s: ConnectionStep) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  let next = 1;
  const failAll = (e: Error) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  socket.on('error', failAll);
  socket.on('close', () => {
    failAll(new RelayError('unavailable', 'the relay closed the control connection'));
    closeListeners.splice(0).forEach((l) => l());
  });

  const myNonce = nonce();
  let stage: 'hello' | 'verdict' | 'open' = 'hello';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new ImpostorError(address, dataDir, 'no handshake within 5 s'));
      socket.destroy();
    }, HANDSHAKE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new ImpostorError(address, dataDir, 'it closed the connection during the handshake'));
    });
    readLines(socket, (line) => {
      const msg = parseLine(line);
      if (stage === 'hello') {
        if (msg.hello !== 1 || typeof msg.nonce !== 'string' || !proofMatches(proofOf(key, 'relay', myNonce, msg.nonce), msg.proof)) {
          clearTimeout(timer);
          reject(new ImpostorError(address, dataDir, 'wrong proof'));
          return void socket.destroy();
        }
        stage = 'verdict';
        return sendLine(socket, { proof: proofOf(key, 'client', msg.nonce, myNonce) });
      }
      if (stage === 'verdict') {
        clearTimeout(timer);
        if (msg.welcome !== 1) {
          reject(new RelayError('unavailable', `the relay refused this client: ${String(msg.refused)}`));
          return void socket.destroy();
        }
        stage = 'open';
        return resolve();
      }
      const r = toResponse(msg);
      if ('event' in r) {
        if (r.event === 'status') statusListeners.forEach((l) => l(r.status));
        else stepListeners.forEach((l) => l(r.step));
        return;
      }
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (r.error) p?.reject(new RelayError(r.error.kind, r.error.message));
      else p?.resolve(r.result);
    });
  });
  sendLine(socket, { hello: 1, nonce: myNonce });
  await ready;

  const call = (method: string, args: unknown[]) => new Promise<unknown>((resolve, reject) => {
    if (socket.destroyed) return reject(new RelayError('unavailable', 'the relay closed the control connection'));
    const id = next++;
    pending.set(id, { resolve, reject });
    sendLine(socket, { id, method, args });
  });
  return {
    ...forwardCalls(call),
    reload: () => call('reload', []),
    onStatus: async (listener: (s: RelayStatus) => void) => {
      statusListeners.push(listener);
      await call('onStatus', []);
    },
    onTestStep: async (listener: (s: ConnectionStep) => void) => {
      stepListeners.push(listener);
      await call('onTestStep', []);
    },
    onClose: (listener: () => void) => {
      if (socket.destroyed) listener();
      else closeListeners.push(listener);
    },
    close: () => socket.end(),
  };
}
