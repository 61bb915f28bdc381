// The main-process side of window.relay: one ipcMain.handle per RelayApi method. Every call is
// checked twice before it reaches the relay: the sender must be the settings window's own page
// (Electron security checklist #17), and the arguments must pass the contract's zod schemas.
import { parseMethodArgs, RelayError, type RelayApi, type RelayMethod } from '../api/contract.js';
import { RELAY_METHODS } from '../api/calls.js';
import { invokeChannel, type IpcReply } from './channels.js';

/** The parts of Electron's IpcMainInvokeEvent the checks read. */
export interface IpcInvokeEvent {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** The parts of Electron's ipcMain used here (a fake in the tests). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEvent, ...args: unknown[]) => Promise<IpcReply>): void;
  removeHandler(channel: string): void;
}

/** Registers a handler per method; returns a function that removes them. */
export function registerRelayHandlers(ipc: IpcMainLike, api: RelayApi, isTrusted: (event: IpcInvokeEvent) => boolean): () => void {
  for (const method of RELAY_METHODS) {
    const channel = invokeChannel(method);
    ipc.handle(channel, async (event, ...args) => {
      // Thrown, not answered: an untrusted page gets nothing back, and Electron logs the refusal.
      if (!isTrusted(event)) throw new Error(`refused ${channel} from ${event.senderFrame?.url ?? 'a destroyed frame'}: not the settings window`);
      return call(api, method, args);
    });
  }
  return () => RELAY_METHODS.forEach((m) => ipc.removeHandler(invokeChannel(m)));
}

async function call(api: RelayApi, method: RelayMethod, args: unknown[]): Promise<IpcReply> {
  try {
    const valid = parseMethodArgs(method, args);
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await fn.apply(api, valid) };
  } catch (e) {
    const kind = e instanceof RelayError ? e.kind : 'internal';
    return { ok: false, error: { kind, message: (e as Error).message } };
  }
}
