// Which credential smarthost.auth selects: pure, so the settings window can word the set-up steps
// from the form as typed (it cannot load stored-secrets.ts, which needs node:crypto).
import type { Config } from '../config/schema.js';

/** The credential smarthost.auth.credential selects, "auto" resolved per method. */
export type CredentialKind = 'client-secret' | 'certificate' | 'service-account' | 'installed-app';

export function credentialKind(config: Config): CredentialKind {
  const { method, credential } = config.smarthost.auth;
  if (credential !== 'auto') return credential;
  return method === 'oauth2-google' ? 'service-account' : 'client-secret';
}
