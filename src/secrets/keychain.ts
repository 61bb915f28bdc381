// The OS keychain: Credential Manager on Windows, Keychain on macOS, the Secret Service on Linux.
//
// This uses AsyncEntry, which is what '@napi-rs/keyring/keytar' wraps, rather than the keytar
// functions themselves: those cannot pass options, and without them the library silently falls back
// on Linux from the Secret Service to the kernel keyring, which forgets the password at reboot (and,
// where the kernel keyring is denied, makes get() answer null instead of failing).
import type { AsyncEntry } from '@napi-rs/keyring';
import { KEYCHAIN_SERVICE, KeychainUnavailableError, type CredentialStore } from './credential-store.js';

const ENTRY_OPTIONS = { linux: { store: 'secret-service' } } as const;

/** The native module (and on Linux its D-Bus client) is loaded at the first use: a relay with no
 *  password or token configured never asks the keychain anything. */
let keyring: Promise<typeof import('@napi-rs/keyring')> | null = null;

export class KeychainStore implements CredentialStore {
  async get(account: string): Promise<string | null> {
    try {
      return await (await entry(account)).getPassword();
    } catch (error) {
      throw unavailable(error);
    }
  }

  async set(account: string, secret: string): Promise<void> {
    try {
      await (await entry(account)).setPassword(secret);
    } catch (error) {
      throw unavailable(error, secret);
    }
  }

  async delete(account: string): Promise<boolean> {
    try {
      return await (await entry(account)).deletePassword();
    } catch (error) {
      throw unavailable(error);
    }
  }
}

async function entry(account: string): Promise<AsyncEntry> {
  keyring ??= import('@napi-rs/keyring');
  return new (await keyring).AsyncEntry(KEYCHAIN_SERVICE, account, ENTRY_OPTIONS);
}

/** Keeps only the platform's message; the native error object is dropped in case it echoes the secret. */
function unavailable(error: unknown, secret?: string): KeychainUnavailableError {
  let detail = error instanceof Error ? error.message : String(error);
  if (secret) detail = detail.replaceAll(secret, '***');
  return new KeychainUnavailableError(detail);
}
