// Which IPC senders are trusted: the main frame of the settings window, showing our own page.
import { originOf } from '../desktop/app-protocol.js';
import type { IpcInvokeEvent } from './handlers.js';

export interface TrustedSenders {
  /** webContents ids of the open settings window(s). */
  webContentsIds: ReadonlySet<number>;
  /** "app://relay", plus the Vite dev server's origin in development. */
  origins: readonly string[];
}

export function isTrustedSender(event: IpcInvokeEvent, trusted: TrustedSenders): boolean {
  const frame = event.senderFrame;
  // A null frame was destroyed or navigated away; a frame with a parent is an iframe.
  if (!frame || frame.parent !== null) return false;
  if (!trusted.webContentsIds.has(event.sender.id)) return false;
  const origin = originOf(frame.url);
  return origin !== null && trusted.origins.includes(origin);
}
