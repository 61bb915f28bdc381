// The Smarthost page's form: config.smarthost as text fields, and back.
import type { Config } from '../../../src/config/schema.js';
import { numberOrText } from '../../format.js';
import type { Preset } from './presets.js';

type Smarthost = Config['smarthost'];
type Auth = Smarthost['auth'];

export interface SmarthostForm {
  host: string;
  port: string;
  security: Smarthost['security'];
  verifyCertificate: boolean;
  caFile: string;
  maxConnections: string;
  method: Auth['method'];
  username: string;
  mechanism: Auth['mechanism'];
  credential: Auth['credential'];
  tenantId: string;
  clientId: string;
}

export function toForm(s: Smarthost): SmarthostForm {
  return {
    host: s.host, port: String(s.port), security: s.security, verifyCertificate: s.verifyCertificate, caFile: s.caFile,
    maxConnections: String(s.maxConnections), method: s.auth.method, username: s.auth.username, mechanism: s.auth.mechanism,
    credential: s.auth.credential, tenantId: s.auth.tenantId, clientId: s.auth.clientId,
  };
}

/** Fields the form does not show (token endpoints, scope) keep their saved values. */
export function toInput(f: SmarthostForm, saved: Smarthost): unknown {
  return {
    ...saved,
    host: f.host, port: numberOrText(f.port), security: f.security, verifyCertificate: f.verifyCertificate, caFile: f.caFile,
    maxConnections: numberOrText(f.maxConnections),
    auth: { ...saved.auth, method: f.method, username: f.username, mechanism: f.mechanism, credential: f.credential, tenantId: f.tenantId, clientId: f.clientId },
  };
}

/** What choosing a provider changes: where to connect, how, and the sign-in it needs. */
export function presetPatch(p: Preset, current: SmarthostForm): Partial<SmarthostForm> {
  return {
    host: p.fill.host, port: String(p.fill.port), security: p.fill.security, method: p.fill.method, mechanism: 'auto', credential: 'auto',
    verifyCertificate: true,
    username: p.fill.username ?? current.username,
    ...(p.fill.maxConnections ? { maxConnections: String(p.fill.maxConnections) } : {}),
  };
}
