// The OAuth2 secrets the relay keeps in the OS keychain, what they are called there, and how an
// imported file is checked before it is stored (a wrong file is refused now, not at 3 a.m.).
//
// Keychain accounts (service "smtp-relay-tray"), for smarthost.auth.username U, smarthost.host H and
// the token endpoint T (the provider's own unless smarthost.auth.tokenEndpoint says otherwise): each
// secret is bound to where it is sent, so pointing the config elsewhere needs the secret entered again.
//   U@H:client-secret T     the OAuth client secret (Microsoft app, Google desktop client)
//   U@H:certificate T       Microsoft: the certificate and its private key (PEM)
//   U@H:service-account T   Google: the service account's e-mail and private key (from its JSON key)
//   U@H:refresh-token T     Google: the refresh token from "smtp-relay oauth login"
// Before they were bound (up to this version) they were U@H (shared with the password) and U@H:kind;
// such an entry is reported ("enter it again"), never used.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { CredentialStore } from '../secrets/credential-store.js';
import { smarthostAccount } from '../secrets/smarthost-password.js';
import { oauthEndpoints } from './endpoints.js';
import type { ServiceAccountKey } from './google.js';
import type { CertificateCredential } from './microsoft.js';
import type { CredentialKind } from './credential-kind.js';

export type StoredSecretKind = 'certificate' | 'service-account' | 'refresh-token';

/** The keychain secrets a credential needs: the client secret lives at U@H (the password's account). */
export function neededSecrets(kind: CredentialKind): { clientSecret: boolean; stored: StoredSecretKind | null } {
  switch (kind) {
    case 'client-secret': return { clientSecret: true, stored: null };
    case 'certificate': return { clientSecret: false, stored: 'certificate' };
    case 'service-account': return { clientSecret: false, stored: 'service-account' };
    case 'installed-app': return { clientSecret: true, stored: 'refresh-token' };
  }
}

export function storedSecretAccount(config: Config, kind: StoredSecretKind | 'client-secret'): string {
  return `${smarthostAccount(config)}:${kind} ${oauthEndpoints(config).tokenEndpoint}`;
}

/** The keychain account of what `password set` stores: the password, or with OAuth2 the client secret. */
export function passwordAccount(config: Config): string {
  return config.smarthost.auth.method.startsWith('oauth2-') ? storedSecretAccount(config, 'client-secret') : smarthostAccount(config);
}

/**
 * A secret of this kind stored by a version that did not bind it to the token endpoint: what to tell
 * the user (it is not used, since nothing says where it was meant to go), or null when there is none.
 */
export async function unboundSecret(config: Config, store: CredentialStore, kind: StoredSecretKind | 'client-secret'): Promise<string | null> {
  const legacy = kind === 'client-secret' ? smarthostAccount(config) : `${smarthostAccount(config)}:${kind}`;
  if ((await store.get(legacy)) === null) return null;
  return `the ${kind} stored as "${legacy}" by an earlier version is not bound to a token endpoint and is not used: enter it again ` +
    `(it is then kept for ${oauthEndpoints(config).tokenEndpoint} only), then delete the old entry "${legacy}" from the OS keychain`;
}

/** A PEM file with the certificate and its unencrypted private key, in either order; refused once expired. */
export function parseCertificateBundle(pem: string): CertificateCredential {
  const c = readCertificateBundle(pem);
  if (new Date(c.notAfter).getTime() < Date.now()) throw new Error(`the certificate expired on ${c.notAfter.slice(0, 10)}`);
  return c;
}

/** The stored bundle as it is (an expired one too: Entra ID then says so). */
export function readCertificateBundle(pem: string): CertificateCredential {
  const keyPem = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(pem)?.[0];
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!keyPem || !certPem) {
    throw new Error('the file must hold the certificate (-----BEGIN CERTIFICATE-----) and its private key (-----BEGIN PRIVATE KEY-----) in PEM; ' +
      'from a .pfx: openssl pkcs12 -in cert.pfx -nodes -out cert.pem');
  }
  if (keyPem.includes('ENCRYPTED')) throw new Error('the private key is protected by a passphrase; export it without one (openssl pkcs12 -in cert.pfx -nodes -out cert.pem)');
  let key: KeyObject;
  let cert: X509Certificate;
  try {
    key = createPrivateKey(keyPem);
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw new Error(`the certificate or key cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`the key is ${key.asymmetricKeyType?.toUpperCase() ?? 'not RSA'}; Microsoft Entra ID needs an RSA certificate`);
  if (!cert.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate in the file');
  return {
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificate: cert.toString(),
    thumbprintSha256: cert.fingerprint256.replaceAll(':', ''),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/** A Google service account's JSON key; only its e-mail and private key are kept. */
export function parseServiceAccountKey(text: string): ServiceAccountKey {
  let json: { type?: unknown; client_email?: unknown; private_key?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new Error('this is not a JSON key file (Google Cloud console > IAM > Service accounts > Keys > Add key > JSON)');
  }
  if (json.type !== 'service_account' || typeof json.client_email !== 'string' || typeof json.private_key !== 'string') {
    throw new Error('this JSON file is not a service-account key: it needs "type": "service_account", "client_email" and "private_key"');
  }
  try {
    createPrivateKey(json.private_key);
  } catch (e) {
    throw new Error(`the key's private_key cannot be read: ${(e as Error).message}`, { cause: e });
  }
  return { clientEmail: json.client_email, privateKey: json.private_key };
}

/** How each stored kind is checked and what the keychain gets (a compact form: Windows limits entries). */
export function serializeStoredSecret(kind: StoredSecretKind, input: string): string {
  switch (kind) {
    case 'certificate': {
      const c = parseCertificateBundle(input);
      return `${c.certificate}\n${c.privateKey}`;
    }
    case 'service-account':
      return JSON.stringify(parseServiceAccountKey(input));
    case 'refresh-token': {
      const token = input.trim();
      if (!token || /\s/.test(token)) throw new Error('a refresh token is one word without spaces');
      return token;
    }
  }
}

/** A short description of a stored secret that reveals nothing secret (for status and the CLI). */
export function describeStoredSecret(kind: StoredSecretKind, stored: string): string {
  try {
    if (kind === 'certificate') {
      const c = readCertificateBundle(stored);
      const expired = new Date(c.notAfter).getTime() < Date.now();
      return `certificate ${c.thumbprintSha256.slice(0, 16)}…, ${expired ? 'EXPIRED on' : 'valid until'} ${c.notAfter.slice(0, 10)}`;
    }
    if (kind === 'service-account') return `service account ${(JSON.parse(stored) as ServiceAccountKey).clientEmail}`;
    return 'refresh token stored';
  } catch {
    return 'stored, but unreadable: import it again';
  }
}
