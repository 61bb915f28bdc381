// Secrets longer than one Windows Credential Manager entry holds. CredWriteW takes at most 2,560 bytes
// of UTF-16, i.e. 1,280 characters, and a PEM private key or a service-account key is longer. Such a
// secret is split over "account", "account#2", "account#3"…; the first part says how many there are.
// Short secrets are stored as they are, so they read the same as ever.
import type { CredentialStore } from './credential-store.js';

/** Characters per entry: under Windows' 1,280 with room for the header. */
export const PART_LENGTH = 1200;
const HEADER = /^smtp-relay-tray:parts=(\d+);/;

export async function setLongSecret(store: CredentialStore, account: string, secret: string): Promise<void> {
  const parts: string[] = [];
  for (let i = 0; i < secret.length; i += PART_LENGTH) parts.push(secret.slice(i, i + PART_LENGTH));
  // Continuation parts first: a reader never sees a header promising parts not yet written.
  for (let i = 1; i < parts.length; i++) await store.set(`${account}#${i + 1}`, parts[i] as string);
  const old = await partCount(store, account);
  await store.set(account, parts.length > 1 ? `smtp-relay-tray:parts=${parts.length};${parts[0]}` : secret);
  for (let i = Math.max(parts.length, 1) + 1; i <= old; i++) await store.delete(`${account}#${i}`);
}

export async function getLongSecret(store: CredentialStore, account: string): Promise<string | null> {
  const first = await store.get(account);
  if (first === null) return null;
  const header = HEADER.exec(first);
  if (!header) return first;
  let secret = first.slice(header[0].length);
  for (let i = 2; i <= Number(header[1]); i++) {
    const part = await store.get(`${account}#${i}`);
    if (part === null) throw new Error(`the keychain entry ${account} is incomplete (part ${i} is missing); store it again`);
    secret += part;
  }
  return secret;
}

export async function deleteLongSecret(store: CredentialStore, account: string): Promise<boolean> {
  const count = await partCount(store, account);
  for (let i = 2; i <= count; i++) await store.delete(`${account}#${i}`);
  return store.delete(account);
}

async function partCount(store: CredentialStore, account: string): Promise<number> {
  const first = await store.get(account);
  return Number(first === null ? 0 : (HEADER.exec(first)?.[1] ?? 1));
}
