// Runs in the settings window's sandboxed, context-isolated preload: exposes window.relay, exactly
// the RelayApi methods (src/ipc/bridge.ts), and nothing of Electron or Node. Bundled as one CommonJS
// file because sandboxed preloads cannot load ES modules or anything but 'electron'.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { RelayStatus } from '../src/api/contract.js';
import { createRelayBridge } from '../src/ipc/bridge.js';
import { STATUS_CHANNEL } from '../src/ipc/channels.js';

const relay = createRelayBridge(
  (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  (listener) => {
    const handler = (_event: IpcRendererEvent, status: RelayStatus) => listener(status);
    ipcRenderer.on(STATUS_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(STATUS_CHANNEL, handler);
    };
  },
);

contextBridge.exposeInMainWorld('relay', relay);
