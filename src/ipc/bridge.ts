// window.relay: RelayApi built on two primitives the preload supplies (ipcRenderer.invoke and a
// subscription to the status channel). One named function per contract method, never a generic
// invoke(channel), so the page can call nothing else (Electron security checklist #20).
import { forwardCalls } from '../api/calls.js';
import type { ConnectionStep, RelayApi, RelayError, RelayStatus } from '../api/contract.js';
import { invokeChannel, type IpcReply } from './channels.js';

export type Invoke = (channel: string, ...args: unknown[]) => Promise<unknown>;
export type Subscribe<T> = (listener: (value: T) => void) => () => void;
export type SubscribeStatus = Subscribe<RelayStatus>;

/** Without `subscribeTestStep` (a transport with no step events), onTestStep never fires and the page shows the steps with the result. */
export function createRelayBridge(invoke: Invoke, subscribeStatus: SubscribeStatus, subscribeTestStep?: Subscribe<ConnectionStep>): RelayApi {
  return Object.freeze({
    ...forwardCalls(async (method, args) => unwrap((await invoke(invokeChannel(method), ...args)) as IpcReply)),
    // The listener gets the event's value alone, never the IpcRendererEvent (which carries the sender).
    onStatus: (listener: (status: RelayStatus) => void) => subscribeStatus((status) => listener(status)),
    onTestStep: (listener: (step: ConnectionStep) => void) => subscribeTestStep?.((step) => listener(step)) ?? (() => {}),
  });
}

/**
 * The relay's error as an Error with its `kind`. Across Electron's contextBridge only `message`
 * survives (custom properties are dropped), so the message alone must say what went wrong.
 */
function unwrap(reply: IpcReply): unknown {
  if (reply.ok) return reply.value;
  throw Object.assign(new Error(reply.error.message), { name: 'RelayError', kind: reply.error.kind } satisfies Partial<RelayError>);
}
