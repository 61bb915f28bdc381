// ipcMain.handle / removeHandler, and the call a page's ipcRenderer.invoke becomes (window.ts).
import { state } from './state.js';
import type { IpcMain } from './types.js';

type Listener = (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => unknown;
const handlers = new Map<string, Listener>();

export const ipcMain: IpcMain = {
  handle(channel: string, listener: Listener): void {
    if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    handlers.set(channel, listener);
    state.ipc.handlers = [...handlers.keys()];
  },
  removeHandler(channel: string): void {
    handlers.delete(channel);
    state.ipc.handlers = [...handlers.keys()];
  },
};

/** The sender's side of IpcMainInvokeEvent: the parts Electron fills in for a call from a frame. */
export interface InvokeSender { sender: { id: number }; senderFrame: { url: string; parent: unknown } | null }

/** Runs the handler as Electron would; a throw becomes the text ipcRenderer.invoke rejects with. */
export async function invoke(channel: string, args: unknown[], from: InvokeSender): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const handler = handlers.get(channel);
  try {
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const value = await handler(from as unknown as Electron.IpcMainInvokeEvent, ...structuredClone(args));
    state.ipc.invocations.push({ channel, threw: null });
    return { ok: true, value: structuredClone(value) };
  } catch (e) {
    state.ipc.invocations.push({ channel, threw: (e as Error).message });
    return { ok: false, error: String(e) };
  }
}
