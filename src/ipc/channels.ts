// The IPC channels of RelayApi between the settings window and the main process. Imported by the
// preload, so it holds names and types only: no zod (the preload is one sandboxed bundle, and the
// arguments are validated in the main process, where it matters).
import type { RelayError, RelayMethod } from '../api/contract.js';

/** Main -> window: RelayStatus whenever it changes (RelayApi.onStatus). */
export const STATUS_CHANNEL = 'relay:status';

/** Main -> window: each test-connection step as it ends (RelayApi.onTestStep). */
export const TEST_STEP_CHANNEL = 'relay:test-step';

export function invokeChannel(method: RelayMethod): string {
  return `relay:${method}`;
}

/**
 * What a handler answers. Errors travel as data: a thrown error would reach the renderer as
 * "Error invoking remote method 'relay:setConfig': RelayError: …" instead of the relay's own words.
 */
export type IpcReply =
  | { ok: true; value: unknown }
  | { ok: false; error: { kind: RelayError['kind']; message: string } };
