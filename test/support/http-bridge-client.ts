// Runs in the browser page before its scripts (see http-bridge.ts): window.relay made by the
// preload's createRelayBridge, with fetch in place of ipcRenderer.invoke and an EventSource in place
// of ipcRenderer.on.
import { createRelayBridge, type Subscribe } from '../../src/ipc/bridge.js';
import { STATUS_CHANNEL, TEST_STEP_CHANNEL } from '../../src/ipc/channels.js';

// Init scripts also run in blank frames, which have no server to talk to.
if (location.protocol === 'http:') {
  const events = new EventSource('/relay/events');

  const subscribe = <T>(channel: string): Subscribe<T> => (listener) => {
    const handler = (e: MessageEvent<string>) => listener(JSON.parse(e.data) as T);
    events.addEventListener(channel, handler);
    return () => events.removeEventListener(channel, handler);
  };

  const invoke = async (channel: string, ...args: unknown[]): Promise<unknown> => {
    const response = await fetch(`/relay/${encodeURIComponent(channel)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    if (!response.ok) throw new Error(`${channel}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };

  // Like contextBridge.exposeInMainWorld: a read-only property the page cannot replace.
  Object.defineProperty(window, 'relay', { value: createRelayBridge(invoke, subscribe(STATUS_CHANNEL), subscribe(TEST_STEP_CHANNEL)) });
}
