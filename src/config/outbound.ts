// How the settings shape an outbound connection, for every part that makes or describes one (delivery,
// test-connection, route): the address family to resolve, the EHLO name, the TLS in words.
import os from 'node:os';
import type { Config } from './schema.js';

/** delivery.ipFamily as dns.lookup's `family` (0: either). */
export function dnsFamily(config: Config): 0 | 4 | 6 {
  return ({ auto: 0, ipv4: 4, ipv6: 6 } as const)[config.delivery.ipFamily];
}

/** The name this computer gives in EHLO to a smarthost: delivery.heloName, else its host name. */
export function heloName(config: Config): string {
  return config.delivery.heloName || os.hostname();
}

/** e.g. "STARTTLS required, certificate verified (CA file C:\ca.pem)". */
export function describeTls(s: Pick<Config['smarthost'], 'security' | 'verifyCertificate' | 'caFile'>): string {
  const name = { starttls: 'STARTTLS required', tls: 'implicit TLS', opportunistic: 'STARTTLS if offered', none: 'none (plaintext)' }[s.security];
  if (s.security === 'none') return name;
  return `${name}, certificate ${s.verifyCertificate ? 'verified' : 'NOT verified'}${s.caFile ? ` (CA file ${s.caFile})` : ''}`;
}
