// window.relay's main-process end: the validated handlers of src/ipc/handlers.ts on ipcMain, and the
// status events pushed to the settings window.
import { ipcMain } from 'electron';
import type { RelayApi } from '../src/api/contract.js';
import { STATUS_CHANNEL, TEST_STEP_CHANNEL } from '../src/ipc/channels.js';
import { registerRelayHandlers } from '../src/ipc/handlers.js';
import { isTrustedSender } from '../src/ipc/sender.js';
import type { SettingsWindow } from './window.js';

export function serveRelayIpc(relay: RelayApi, window: SettingsWindow, origins: readonly string[]): () => void {
  const unregister = registerRelayHandlers(ipcMain, relay, (event) =>
    isTrustedSender(event, { webContentsIds: window.webContentsIds, origins }));
  const unsubscribe = relay.onStatus((status) => window.send(STATUS_CHANNEL, status));
  const unsubscribeSteps = relay.onTestStep((step) => window.send(TEST_STEP_CHANNEL, step));
  return () => {
    unsubscribe();
    unsubscribeSteps();
    unregister();
  };
}
