// A signed JWT (RFC 7519, RS256) for the service-account grant (RFC 7523). Small enough not to need a library.
import { createSign, type KeyObject } from 'node:crypto';

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function signJwtRs256(claims: Record<string, unknown>, privateKey: KeyObject | string): string {
  const input = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey);
  return `${input}.${base64url(signature)}`;
}
