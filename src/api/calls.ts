// RelayApi's calls as data: the list of methods and the one way a transport (IPC, the control socket, the
// tray's link to a relay elsewhere) offers them. Names and types only, no zod: the preload imports it.
import type { RelayApi, RelayEvent, RelayMethod } from './contract.js';

/** Every callable RelayApi method; the check below fails to compile when the contract gains or loses one. */
export const RELAY_METHODS = [
  'getStatus', 'listQueue', 'getMessage', 'retry', 'retryAll', 'bulk', 'deleteMessage', 'pause', 'resume',
  'getConfig', 'setConfig', 'setPassword', 'deletePassword', 'getPasswordStatus', 'testConnection', 'sendTest',
  'route', 'previewRewrite', 'getOAuthStatus', 'setOAuthSecret', 'deleteOAuthSecret', 'oauthLogin',
  'validateConfig', 'getLog', 'reopenAsAdministrator',
] as const;

type Listed = (typeof RELAY_METHODS)[number];
const _methodsMatchContract: [Exclude<RelayMethod, Listed>, Exclude<Listed, RelayMethod>] extends [never, never] ? true : never = true;

/** RelayApi's calls (not its events). */
export type RelayCalls = Omit<RelayApi, RelayEvent>;

/**
 * Every call of RelayApi as `call(method, args)`. The receiving end checks the arguments (methodArgs)
 * and answers with the method's own result, which is what the one cast below relies on.
 */
export function forwardCalls(call: (method: RelayMethod, args: unknown[]) => Promise<unknown>): RelayCalls {
  return Object.fromEntries(RELAY_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)])) as RelayCalls;
}
