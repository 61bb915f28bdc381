// `password set` and the OAuth2 imports in a remote PowerShell or SSH session on Windows: CredWriteW
// fails with ERROR_NO_SUCH_LOGON_SESSION (1312). @napi-rs/keyring rejects with keyring-core's text for
// it, "Couldn't access platform secure storage: Windows ERROR_NO_SUCH_LOGON_SESSION", which
// KeychainStore wraps in a KeychainUnavailableError; the stand-in store below throws exactly that.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { explainKeychainFailure } from '../src/cli/keychain-hint.js';
import { addOAuthCommands } from '../src/cli/oauth.js';
import { defaultConfig } from '../src/config/schema.js';
import { saveConfig } from '../src/config/store.js';
import { adviceFor } from '../src/advice/catalogue.js';
import { RelayService } from '../src/relay.js';
import { KeychainUnavailableError, MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { tempDataDir } from './support/relay.js';

/** What @napi-rs/keyring 2.x rejects with when CredWriteW returns ERROR_NO_SUCH_LOGON_SESSION. */
const LIBRARY_MESSAGE = "Couldn't access platform secure storage: Windows ERROR_NO_SUCH_LOGON_SESSION";

/** A keychain that reads but cannot write, as Credential Manager behaves in a WinRM or SSH session. */
class NoLogonSessionStore extends MemoryCredentialStore {
  constructor(private readonly failure: string = LIBRARY_MESSAGE) {
    super();
  }

  override async set(): Promise<void> {
    throw new KeychainUnavailableError(this.failure);
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function relayWith(store: MemoryCredentialStore, smarthost: Record<string, unknown>): Promise<{ relay: RelayService; dataDir: string }> {
  const dataDir = await tempDataDir();
  const base = defaultConfig();
  await saveConfig(dataDir, { smarthost: { ...base.smarthost, ...smarthost, auth: { ...base.smarthost.auth, ...(smarthost.auth as object) } } });
  const relay = new RelayService({ dataDir, credentials: store });
  await relay.open();
  cleanups.push(async () => {
    await relay.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  return { relay, dataDir };
}

const SAYS_WHAT_TO_DO = /remote PowerShell \(WinRM, Enter-PSSession\) or SSH session.*at the console or in a Remote Desktop session.*sends the secret over the control channel and the service stores it/s;

describe('keychain refused in a remote session (ERROR_NO_SUCH_LOGON_SESSION)', () => {
  it('the catalogue knows the library\'s text and Windows\' own, and nothing else close to it', () => {
    expect(adviceFor(LIBRARY_MESSAGE)?.id).toBe('windows-no-logon-session');
    expect(adviceFor('A specified logon session does not exist. It may already have been terminated. (os error 1312)')?.id).toBe('windows-no-logon-session');
    expect(adviceFor('Platform secure storage failure: Windows error code 5')).toBeNull();
  });

  it('password set: the error says why and what to do instead, names the platform\'s text, and never the password', async () => {
    const { relay } = await relayWith(new NoLogonSessionStore(), { host: 'smtp.example.com', auth: { method: 'password', username: 'jts@contoso.com' } });
    const error = await explainKeychainFailure(relay.setPassword('pa55-word')).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(SAYS_WHAT_TO_DO);
    expect(error?.message).toContain(`(Credential Manager: ${LIBRARY_MESSAGE})`);
    expect(error?.message).not.toContain('pa55-word');
  });

  it('another keychain failure is passed on as it is', async () => {
    const { relay } = await relayWith(new NoLogonSessionStore('Platform secure storage failure: Windows error code 5'), { host: 'smtp.example.com', auth: { method: 'password', username: 'jts@contoso.com' } });
    await expect(explainKeychainFailure(relay.setPassword('x'))).rejects.toThrow(/^The OS keychain is not available: Platform secure storage failure: Windows error code 5\./);
  });

  it('smtp-relay oauth import-key: the same advice', async () => {
    const store = new NoLogonSessionStore();
    const { relay, dataDir } = await relayWith(store, { host: 'smtp.gmail.com', auth: { method: 'oauth2-google', username: 'jts@contoso.com' } });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = path.join(dataDir, 'key.json');
    await fs.writeFile(keyFile, JSON.stringify({ type: 'service_account', client_email: 'relay@p.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) }));
    const program = new Command().exitOverride();
    addOAuthCommands(program, {
      dataDirOption: () => new Command().createOption('--data-dir <dir>'),
      dataDirOf: () => dataDir,
      withRelay: (_dir, fn) => fn(relay, false),
    });
    await expect(program.parseAsync(['oauth', 'import-key', keyFile], { from: 'user' })).rejects.toThrow(SAYS_WHAT_TO_DO);
  });
});
