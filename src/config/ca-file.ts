// smarthost.caFile: the private CA a smarthost's certificate is checked against (delivery, OAuth2's HTTPS).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './schema.js';

/** Reads smarthost.caFile once, failing with the setting's name rather than at every connection. */
export function readCaFile(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    new X509Certificate(pem); // fails now, naming the setting, rather than at every connection
    return pem;
  } catch (e) {
    const reason = `cannot use "${file}" as a PEM certificate file: ${(e as Error).message}`;
    throw new ConfigError(`smarthost.caFile: ${reason}`, [{ path: 'smarthost.caFile', message: reason }]);
  }
}
