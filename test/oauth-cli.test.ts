// `smtp-relay oauth …` as an admin uses it: real processes, the real keychain (gnome-keyring on a
// private bus), and for the Google sign-in a local identity platform over HTTPS with the test CA.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYCHAIN_SERVICE } from '../src/secrets/credential-store.js';
import { BIN, cli } from './support/cli.js';
import { startTestKeyring, type TestKeyring } from './support/keyring.js';
import { filesContaining, tempDataDir } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { browse, signIn, startTokenServer, type TokenServer } from './support/token-server.js';

const MAILBOX = 'jts@contoso.com';
let keyring: TestKeyring;
let tokens: TokenServer;
let dataDir: string;
let env: NodeJS.ProcessEnv;

const run = (args: string[], input?: string) => cli([...args, '--data-dir', dataDir], { env, input });

async function configure(settings: [string, string][]): Promise<void> {
  for (const [key, value] of settings) {
    const r = await run(['config', 'set', key, value]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }
}

beforeAll(async () => {
  keyring = await startTestKeyring();
  tokens = await startTokenServer();
  dataDir = await tempDataDir();
  env = { DBUS_SESSION_BUS_ADDRESS: keyring.busAddress, SMTP_RELAY_SMARTHOST_PASSWORD: '' };
});

afterAll(async () => {
  await tokens?.stop();
  await keyring?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

// Each test runs the CLI several times (a Node start each): 5-10 s on a quiet machine, over 30 s on a busy one.
describe('smtp-relay oauth', { timeout: 60_000 }, () => {
  it('import-certificate checks the file and keeps it in the keychain (split, as Windows needs); status describes it; delete removes it', async () => {
    await configure([['smarthost.host', 'smtp.office365.com'], ['smarthost.auth.username', MAILBOX], ['smarthost.auth.tenantId', 'contoso.onmicrosoft.com'],
      ['smarthost.auth.clientId', '4a1b2c3d-0000-1111-2222-333344445555'], ['smarthost.auth.credential', 'certificate'], ['smarthost.auth.method', 'oauth2-microsoft']]);
    expect((await run(['oauth', 'status'])).stdout).toMatch(/^certificate: +NOT STORED +\[keychain account jts@contoso\.com@smtp\.office365\.com:certificate https:\/\/login\.microsoftonline\.com\/contoso\.onmicrosoft\.com\/oauth2\/v2\.0\/token\]$/m);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oauth-cli-'));
    const pem = path.join(dir, 'app.pem');
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pem, '-out', path.join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=relay']);
    await fs.appendFile(pem, await fs.readFile(path.join(dir, 'c.pem')));
    const wrong = await run(['oauth', 'import-certificate', path.join(dir, 'c.pem')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('certificate: the file must hold the certificate');

    const r = await run(['oauth', 'import-certificate', pem]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/certificate:\s+stored \(certificate [0-9A-F]{16}…, valid until \d{4}-\d\d-\d\d\)\s+\[keychain account jts@contoso\.com@smtp\.office365\.com:certificate https:\/\/login\.microsoftonline\.com\/contoso\.onmicrosoft\.com\/oauth2\/v2\.0\/token\]/);
    // Bound to the token endpoint: another tokenEndpoint would need the certificate imported again.
    const account = `${MAILBOX}@smtp.office365.com:certificate https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token`;
    expect(await keyring.lookup(KEYCHAIN_SERVICE, account)).toMatch(/^smtp-relay-tray:parts=3;-----BEGIN CERTIFICATE-----/);
    expect(await keyring.lookup(KEYCHAIN_SERVICE, `${account}#3`)).toContain('-----END PRIVATE KEY-----');

    const keyLine = (await fs.readFile(pem, 'utf8')).split('\n')[1] as string;
    await fs.rm(dir, { recursive: true });
    expect(await filesContaining(dataDir, [keyLine])).toEqual([]);

    expect((await run(['oauth', 'checklist'])).stdout).toMatch(/^5\. Exchange Online PowerShell.*New-ServicePrincipal -AppId 4a1b2c3d-0000-1111-2222-333344445555/m);
    expect((await run(['oauth', 'delete', 'certificate'])).stdout).toBe('certificate removed\n');
    expect(await keyring.lookup(KEYCHAIN_SERVICE, `${account}#2`)).toBeNull();
    expect((await run(['oauth', 'delete', 'password'])).code).toBe(2);
  });

  it('login (Google installed app): prints the sign-in address, takes the browser\'s answer on 127.0.0.1 and stores the refresh token', async () => {
    const client = { clientId: '123456789012-abcdef.apps.googleusercontent.com', clientSecret: 'GOCSPX-cli-desktop-secret' };
    tokens.google.clients.push(client);
    // The method last: the other fields are checked against it.
    await configure([['smarthost.auth.method', 'none'], ['smarthost.host', 'smtp.gmail.com'], ['smarthost.caFile', (await testCertificates()).caCertPath],
      ['smarthost.auth.clientId', client.clientId], ['smarthost.auth.credential', 'installed-app'], ['smarthost.auth.tenantId', ''],
      ['smarthost.auth.tokenEndpoint', tokens.googleTokenEndpoint], ['smarthost.auth.authorizationEndpoint', tokens.googleAuthorizationEndpoint],
      ['smarthost.auth.method', 'oauth2-google']]);
    expect((await run(['password', 'set'], client.clientSecret)).code).toBe(0);

    const child = spawn(process.execPath, [BIN, 'oauth', 'login', '--no-browser', '--data-dir', dataDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /^(https:\/\/\S+)$/m.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1] as string); }
      });
    });
    expect(new URL(url).searchParams.get('login_hint')).toBe(MAILBOX);
    // The admin's browser: the sign-in page sends it back to the command's loopback listener.
    expect((await browse(await signIn(url))).status).toBe(200);
    expect(await exited, out).toBe(0);
    expect(out).toMatch(/refresh-token:\s+stored/);
    const [refreshToken] = [...tokens.google.refreshTokens.keys()];
    expect(await keyring.lookup(KEYCHAIN_SERVICE, `${MAILBOX}@smtp.gmail.com:refresh-token ${tokens.googleTokenEndpoint}`)).toBe(refreshToken);
  });
});
