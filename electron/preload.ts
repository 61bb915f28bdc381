// Runs in the settings window's sandboxed, context-isolated preload: exposes window.relay, exactly
// the RelayApi methods (src/ipc/bridge.ts), and nothing of Electron or Node. Bundled as one CommonJS
// file because sandboxed preloads cannot load ES modules or anything but 'electron'.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ConnectionStep, RelayStatus } from '../src/api/contract.js';
import { createRelayBridge, type Subscribe } from '../src/ipc/bridge.js';
import { STATUS_CHANNEL, TEST_STEP_CHANNEL } from '../src/ipc/channels.js';

function subscribe<T>(channel: string): Subscribe<T> {
  return (listener) => {
    const handler = (_event: IpcRendererEvent, value: T) => listener(value);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  };
}

const relay = createRelayBridge(
  (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  subscribe<RelayStatus>(STATUS_CHANNEL),
  subscribe<ConnectionStep>(TEST_STEP_CHANNEL),
);

contextBridge.exposeInMainWorld('relay', relay);
