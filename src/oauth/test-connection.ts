// test-connection when no token could be had: the login step fails before any connection, with the
// identity platform's answer and what to do about it.
import type { TestConnectionResult } from '../api/contract.js';
import type { Config } from '../config/schema.js';
import { adviceFor } from '../advice/catalogue.js';

export function tokenTestFailure(config: Config, message: string): TestConnectionResult {
  const { host, port, auth } = config.smarthost;
  return {
    ok: false,
    target: `${host}:${port} (${auth.method} as ${auth.username})`,
    steps: [{ step: 'auth', ok: false, ms: 0, detail: `no OAuth2 access token: ${message}` }],
    failedStep: 'auth',
    advice: adviceFor(message, { method: auth.method }),
    message: `no OAuth2 access token: ${message}`,
  };
}
