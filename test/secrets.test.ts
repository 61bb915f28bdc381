import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../src/config/schema.js';
import { KEYCHAIN_SERVICE, KeychainUnavailableError, MemoryCredentialStore, PASSWORD_ENV, type CredentialStore } from '../src/secrets/credential-store.js';
import { KeychainStore } from '../src/secrets/keychain.js';
import { resolveSmarthostPassword, smarthostAccount } from '../src/secrets/smarthost-password.js';
import { runInFreshNode, startTestKeyring, type TestKeyring } from './support/keyring.js';

function passwordConfig(username: string, host: string): Config {
  const config = defaultConfig();
  return { ...config, smarthost: { ...config.smarthost, host, auth: { ...config.smarthost.auth, method: 'password', username } } };
}

const config = passwordConfig('jts@contoso.com', 'smtp.office365.com');

describe('smarthost password', () => {
  it('is stored under username@host', () => {
    expect(smarthostAccount(config)).toBe('jts@contoso.com@smtp.office365.com');
  });

  it('comes from the env var without touching the keychain, so headless machines need none', async () => {
    const broken: CredentialStore = {
      get: () => Promise.reject(new KeychainUnavailableError('no keychain here')),
      set: () => Promise.reject(new KeychainUnavailableError('no keychain here')),
      delete: () => Promise.reject(new KeychainUnavailableError('no keychain here')),
    };
    await expect(resolveSmarthostPassword(config, broken, { [PASSWORD_ENV]: 'from-env' })).resolves.toEqual({ password: 'from-env', source: 'env' });
  });

  it('is null when nothing is stored', async () => {
    await expect(resolveSmarthostPassword(config, new MemoryCredentialStore(), {})).resolves.toBeNull();
  });
});

describe('MemoryCredentialStore', () => {
  it('keeps, replaces and deletes secrets', async () => {
    const store = new MemoryCredentialStore();
    expect(await store.get('a@h')).toBeNull();
    await store.set('a@h', 'one');
    await store.set('a@h', 'two');
    expect(await store.get('a@h')).toBe('two');
    expect(await store.delete('a@h')).toBe(true);
    expect(await store.delete('a@h')).toBe(false);
    expect(await store.get('a@h')).toBeNull();
  });
});

describe('KeychainStore on a real Secret Service', () => {
  let keyring: TestKeyring;
  const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;

  beforeAll(async () => {
    keyring = await startTestKeyring();
    // Must happen before the first keychain call in this process: the native binding reads the bus
    // address once. Vitest runs each test file in its own process, so no other file interferes.
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.busAddress;
  });

  afterAll(async () => {
    if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
    await keyring?.stop();
  });

  it('stores, replaces and deletes a secret in gnome-keyring', async () => {
    const store = new KeychainStore();
    const account = 'roundtrip@smtp.example.com';
    await store.set(account, 'first-S3cret!');
    expect(await store.get(account)).toBe('first-S3cret!');
    // Read back with secret-tool: the secret is really in the Secret Service, not some fallback.
    expect(await keyring.lookup(KEYCHAIN_SERVICE, account)).toBe('first-S3cret!');

    await store.set(account, 'second-S3cret!');
    expect(await store.get(account)).toBe('second-S3cret!');

    expect(await store.delete(account)).toBe(true);
    expect(await store.get(account)).toBeNull();
    expect(await keyring.lookup(KEYCHAIN_SERVICE, account)).toBeNull();
  });

  it('answers null for an unknown account and false when deleting it', async () => {
    const store = new KeychainStore();
    expect(await store.get('nobody@smtp.example.com')).toBeNull();
    expect(await store.delete('nobody@smtp.example.com')).toBe(false);
  });

  it('lets a non-empty env var override the keychain', async () => {
    const store = new KeychainStore();
    const env = passwordConfig('override', 'smtp.example.com');
    await store.set(smarthostAccount(env), 'from-keychain');
    await expect(resolveSmarthostPassword(env, store, { [PASSWORD_ENV]: 'from-env' })).resolves.toEqual({ password: 'from-env', source: 'env' });
    await expect(resolveSmarthostPassword(env, store, { [PASSWORD_ENV]: '' })).resolves.toEqual({ password: 'from-keychain', source: 'keychain' });
    await expect(resolveSmarthostPassword(env, store, {})).resolves.toEqual({ password: 'from-keychain', source: 'keychain' });
    await store.delete(smarthostAccount(env));
  });
});

describe('KeychainStore without a Secret Service', () => {
  it('rejects with KeychainUnavailableError that names the fix and never the secret', async () => {
    const secret = 'Tr0ub4dor&3-must-not-leak';
    const source = (file: string) => JSON.stringify(pathToFileURL(path.resolve('src/secrets', file)).href);
    // A fresh process, because this one is already bound to the test keyring's bus.
    const stdout = await runInFreshNode(`
      const { KeychainStore } = await import(${source('keychain.ts')});
      const { KeychainUnavailableError } = await import(${source('credential-store.ts')});
      const store = new KeychainStore();
      const calls = {
        get: () => store.get('jts@smtp.example.com'),
        set: () => store.set('jts@smtp.example.com', process.env.TEST_SECRET),
        delete: () => store.delete('jts@smtp.example.com'),
      };
      const results = {};
      for (const [name, call] of Object.entries(calls)) {
        results[name] = await call().then(
          (value) => ({ resolved: value ?? null }),
          (error) => ({ unavailable: error instanceof KeychainUnavailableError, message: error.message }),
        );
      }
      console.log(JSON.stringify(results));
    `, {
      ...process.env,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(os.tmpdir(), `smtp-relay-no-bus-${process.pid}`, 'bus')}`,
      TEST_SECRET: secret,
    });

    expect(stdout).not.toContain(secret);
    const results = JSON.parse(stdout) as Record<string, { unavailable?: boolean; message?: string }>;
    for (const name of ['get', 'set', 'delete']) {
      expect(results[name], name).toMatchObject({ unavailable: true });
      expect(results[name]?.message).toMatch(/Secret Service \(gnome-keyring\).*running and unlocked/);
      expect(results[name]?.message).toContain('Credential Manager');
      expect(results[name]?.message).toContain(PASSWORD_ENV);
      expect(results[name]?.message).toMatch(/Failed to connect to socket/);
    }
  });
});
