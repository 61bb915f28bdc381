// OAuth2 parts on their own: the token cache's renewal, secrets split for Windows' keychain limit,
// the settings' validation, imported files' checks, the advice texts, and the browser sign-in's
// refusals. End to end delivery is in oauth-relay.test.ts.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/schema.js';
import { oauthAdviceFor } from '../src/advice/catalogue.js';
import { authFailureHint, tokenErrorHint } from '../src/oauth/advice.js';
import { loginWithBrowser } from '../src/oauth/browser-login.js';
import { oauthChecklist } from '../src/oauth/checklist.js';
import { parseCertificateBundle, parseServiceAccountKey } from '../src/oauth/stored-secrets.js';
import { TokenCache, TokenError, type AccessToken } from '../src/oauth/token.js';
import { oauthEndpoints } from '../src/oauth/endpoints.js';
import { MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { deleteLongSecret, getLongSecret, setLongSecret } from '../src/secrets/long-secret.js';
import { testCertificates } from './support/tls.js';

const MINUTE = 60_000;

describe('TokenCache', () => {
  function source(lifetimeMs: number) {
    let now = 1_000_000;
    const fetched: AccessToken[] = [];
    let fail: TokenError | null = null;
    const cache = new TokenCache(async () => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw fail;
      const t = { token: `t${fetched.length + 1}`, expiresAt: now + lifetimeMs };
      fetched.push(t);
      return t;
    }, () => now);
    return { cache, fetched, advance: (ms: number) => { now += ms; }, failWith: (e: TokenError | null) => { fail = e; } };
  }

  it('keeps an hour-long token until 5 minutes before expiry, then fetches a new one', async () => {
    const s = source(60 * MINUTE);
    expect((await s.cache.get()).token).toBe('t1');
    s.advance(54 * MINUTE);
    expect((await s.cache.get()).token).toBe('t1');
    s.advance(1 * MINUTE + 1);
    expect((await s.cache.get()).token).toBe('t2');
  });

  it('renews a short-lived token at half its life', async () => {
    const s = source(2000);
    await s.cache.get();
    s.advance(999);
    expect((await s.cache.get()).token).toBe('t1');
    s.advance(2);
    expect((await s.cache.get()).token).toBe('t2');
  });

  it('asks once however many connections want a token at the same time; renew forces a new one', async () => {
    const s = source(60 * MINUTE);
    const all = await Promise.all([s.cache.get(), s.cache.get(), s.cache.get()]);
    expect(all.map((t) => t.token)).toEqual(['t1', 't1', 't1']);
    expect((await s.cache.get(true)).token).toBe('t2');
    expect(s.fetched).toHaveLength(2);
  });

  it('an outage while the token in hand still works keeps it; a refusal does not', async () => {
    const s = source(60 * MINUTE);
    await s.cache.get();
    s.advance(56 * MINUTE);
    s.failWith(new TokenError('platform down', true));
    expect((await s.cache.get()).token).toBe('t1');
    s.advance(3 * MINUTE + 31_000); // under 30 s left: not worth using
    await expect(s.cache.get()).rejects.toThrow('platform down');
    s.failWith(new TokenError('invalid_client', false));
    await expect(s.cache.get()).rejects.toThrow('invalid_client');
    s.failWith(null);
    expect((await s.cache.get()).token).toBe('t2');
  });
});

describe('long secrets in a keychain that holds 1,280 characters per entry (Windows)', () => {
  class WindowsSizedStore extends MemoryCredentialStore {
    readonly accounts = new Set<string>();
    override async set(account: string, secret: string): Promise<void> {
      if (secret.length > 1280) throw new Error('longer than the platform limit');
      this.accounts.add(account);
      return super.set(account, secret);
    }
    override async delete(account: string): Promise<boolean> {
      this.accounts.delete(account);
      return super.delete(account);
    }
  }
  const long = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(33 + (i % 90))).join('');

  it('splits a long secret over numbered entries and reads it back whole', async () => {
    const store = new WindowsSizedStore();
    await setLongSecret(store, 'u@h:certificate', long);
    expect([...store.accounts].sort()).toEqual(['u@h:certificate', 'u@h:certificate#2', 'u@h:certificate#3']);
    expect(await getLongSecret(store, 'u@h:certificate')).toBe(long);
  });

  it('a shorter secret replaces it and leaves no stale parts; a short one is stored as it is', async () => {
    const store = new WindowsSizedStore();
    await setLongSecret(store, 'a', long);
    await setLongSecret(store, 'a', 'short-token');
    expect([...store.accounts]).toEqual(['a']);
    expect(await store.get('a')).toBe('short-token');
    expect(await getLongSecret(store, 'a')).toBe('short-token');
    await setLongSecret(store, 'a', long);
    expect(await deleteLongSecret(store, 'a')).toBe(true);
    expect([...store.accounts]).toEqual([]);
    expect(await getLongSecret(store, 'a')).toBeNull();
  });

  it('a missing part is an error that says to store it again, not a truncated key', async () => {
    const store = new WindowsSizedStore();
    await setLongSecret(store, 'a', long);
    await store.delete('a#3');
    await expect(getLongSecret(store, 'a')).rejects.toThrow('the keychain entry a is incomplete (part 3 is missing); store it again');
  });
});

describe('smarthost.auth OAuth2 settings', () => {
  const base = { host: 'smtp.office365.com' };
  const invalid = (auth: Record<string, unknown>): string[] => {
    try {
      parseConfig({ smarthost: { ...base, auth } });
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it('oauth2-microsoft needs the mailbox, the tenant and the app (client) ID, and names each', () => {
    expect(invalid({ method: 'oauth2-microsoft' })).toEqual([
      'smarthost.auth.username: is required when auth.method is "oauth2-microsoft": the mailbox the relay sends as',
      'smarthost.auth.tenantId: is required when auth.method is "oauth2-microsoft": the Directory (tenant) ID from the app registration\'s Overview page',
      'smarthost.auth.clientId: is required when auth.method is "oauth2-microsoft": the Application (client) ID from the app registration\'s Overview page',
    ]);
  });

  it('checks the client ID, the credential and the token endpoint against the method', () => {
    const ok = { method: 'oauth2-microsoft', username: 'jts@contoso.com', tenantId: 'contoso.onmicrosoft.com', clientId: '4a1b2c3d-0000-1111-2222-333344445555' };
    expect(invalid(ok)).toEqual([]);
    expect(invalid({ ...ok, clientId: 'my-app' })).toEqual(['smarthost.auth.clientId: must be the Application (client) ID, a GUID such as 4a1b2c3d-0000-1111-2222-333344445555']);
    expect(invalid({ ...ok, credential: 'service-account' })).toEqual(['smarthost.auth.credential: must be "client-secret" or "certificate" with oauth2-microsoft']);
    expect(invalid({ ...ok, tokenEndpoint: 'http://login.example/t/oauth2/v2.0/token' })).toEqual(['smarthost.auth.tokenEndpoint: must be an https:// address (or empty for the provider\'s own)']);
    expect(invalid({ ...ok, tokenEndpoint: 'https://login.microsoftonline.us/t/oauth2/token' })).toEqual(['smarthost.auth.tokenEndpoint: must be a Microsoft identity platform v2.0 token endpoint, https://<host>/<tenant>/oauth2/v2.0/token']);
    expect(invalid({ ...ok, username: 'jts' })).toEqual(['smarthost.auth.username: must be the mailbox\'s e-mail address with OAuth2']);
  });

  it('oauth2-google: a service account by default; the installed app needs its client ID', () => {
    expect(invalid({ method: 'oauth2-google', username: 'jts@contoso.com' })).toEqual([]);
    expect(invalid({ method: 'oauth2-google', username: 'jts@contoso.com', credential: 'installed-app' })).toEqual([
      'smarthost.auth.clientId: is required when auth.method is "oauth2-google": the OAuth client ID of the "Desktop app" client in Google Cloud',
    ]);
    expect(invalid({ method: 'oauth2-google', username: 'jts@contoso.com', credential: 'certificate' })).toEqual([
      'smarthost.auth.credential: must be "service-account" (Google Workspace) or "installed-app" (a Gmail account) with oauth2-google',
    ]);
  });

  it('fills in each provider\'s endpoints and scope when left empty', () => {
    const ms = parseConfig({ smarthost: { ...base, auth: { method: 'oauth2-microsoft', username: 'jts@contoso.com', tenantId: 'contoso.onmicrosoft.com', clientId: '4a1b2c3d-0000-1111-2222-333344445555' } } });
    expect(ms.smarthost.auth).toMatchObject({ credential: 'auto', tokenEndpoint: '', scope: '' });
    expect(oauthEndpoints(ms)).toEqual({ provider: 'microsoft', tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token', scope: 'https://outlook.office365.com/.default', authorizationEndpoint: '' });
    const g = parseConfig({ smarthost: { host: 'smtp.gmail.com', auth: { method: 'oauth2-google', username: 'jts@contoso.com' } } });
    expect(oauthEndpoints(g)).toEqual({ provider: 'google', tokenEndpoint: 'https://oauth2.googleapis.com/token', scope: 'https://mail.google.com/', authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth' });
  });

  it('the checklist carries the configured IDs into the PowerShell commands', () => {
    const c = parseConfig({ smarthost: { ...base, auth: { method: 'oauth2-microsoft', username: 'jts@contoso.com', tenantId: 'contoso.onmicrosoft.com', clientId: '4a1b2c3d-0000-1111-2222-333344445555' } } });
    const steps = oauthChecklist(c).join('\n');
    expect(steps).toContain('Connect-ExchangeOnline -Organization contoso.onmicrosoft.com');
    expect(steps).toContain('New-ServicePrincipal -AppId 4a1b2c3d-0000-1111-2222-333344445555 -ObjectId <object ID>');
    expect(steps).toContain('(older versions of the module: -ServiceId instead of -ObjectId)');
    // Microsoft's example: the service principal's Identity, from Get-ServicePrincipal, is the -User.
    expect(steps).toContain('$sp = Get-ServicePrincipal | Where-Object AppId -eq 4a1b2c3d-0000-1111-2222-333344445555; ');
    expect(steps).toContain('Add-MailboxPermission -Identity jts@contoso.com -User $sp.Identity -AccessRights FullAccess');
    expect(steps).not.toContain('-User <object ID>');
    expect(steps).toContain('SMTP.SendAsApp');
  });

  it('Google, service account: says what to do when key creation is forbidden by the organization policy', () => {
    const c = parseConfig({ smarthost: { host: 'smtp.gmail.com', auth: { method: 'oauth2-google', username: 'jts@contoso.com' } } });
    const steps = oauthChecklist(c).join('\n');
    expect(steps).toContain('If "Add key" is refused, the organization enforces the policy iam.disableServiceAccountKeyCreation');
    expect(steps).toMatch(/Organization Policy Administrator can turn it off for this project alone.*or use a user's sign-in instead: auth\.credential installed-app/);
  });

  it('Google, installed app: Google Auth Platform > Audience, the restricted scope\'s unverified-app screen, 7-day expiry only for External apps in Testing', () => {
    const c = parseConfig({ smarthost: { host: 'smtp.gmail.com', auth: { method: 'oauth2-google', username: 'me@gmail.com', credential: 'installed-app', clientId: 'c.apps.googleusercontent.com' } } });
    const steps = oauthChecklist(c);
    expect(steps[0]).toMatch(/^Google Cloud console > Google Auth Platform > Audience: user type Internal .*no 7-day expiry.*External .*"Publish app".*External app left in "Testing" loses its sign-in after 7 days/);
    expect(steps[1]).toMatch(/^Google Auth Platform > Data Access > .*https:\/\/mail\.google\.com\/.*restricted scope.*"Google hasn't verified this app"/);
    expect(steps[2]).toMatch(/^Google Auth Platform > Clients > Create client > Desktop app/);
    expect(steps.join('\n')).not.toContain('APIs & Services > OAuth consent screen');
  });
});

describe('imported secrets are checked before they are stored', () => {
  let dir: string;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oauth-import-'));
    const run = promisify(execFile);
    for (const name of ['a', 'b']) {
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.crt`), '-days', '2', '-subj', `/CN=${name}`]);
      files[`${name}.key`] = await fs.readFile(path.join(dir, `${name}.key`), 'utf8');
      files[`${name}.crt`] = await fs.readFile(path.join(dir, `${name}.crt`), 'utf8');
    }
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('a certificate with its own RSA key passes, with its SHA-256 thumbprint', () => {
    const c = parseCertificateBundle(`${files['a.crt']}${files['a.key']}`);
    expect(c.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
    expect(c.privateKey).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('refuses a key of another certificate, an EC key, a file without the key', async () => {
    expect(() => parseCertificateBundle(`${files['a.crt']}${files['b.key']}`)).toThrow('the private key does not belong to the certificate in the file');
    const ec = await testCertificates();
    expect(() => parseCertificateBundle(`${ec.cert}${ec.key}`)).toThrow('the key is EC; Microsoft Entra ID needs an RSA certificate');
    expect(() => parseCertificateBundle(files['a.crt']!)).toThrow(/openssl pkcs12 -in cert.pfx -nodes -out cert.pem/);
  });

  it('a service-account key must be Google\'s JSON key file', () => {
    expect(() => parseServiceAccountKey('-----BEGIN PRIVATE KEY-----')).toThrow('this is not a JSON key file');
    expect(() => parseServiceAccountKey('{"type":"authorized_user","client_id":"x"}')).toThrow('this JSON file is not a service-account key');
    expect(parseServiceAccountKey(JSON.stringify({ type: 'service_account', client_email: 'r@p.iam.gserviceaccount.com', private_key: files['a.key'] })))
      .toEqual({ clientEmail: 'r@p.iam.gserviceaccount.com', privateKey: files['a.key'] });
  });
});

describe('advice for OAuth2 failures', () => {
  it('a password login Microsoft 365 refuses as basic authentication points to oauth2-microsoft; other refusals get no such hint', () => {
    expect(authFailureHint('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.', 'password')).toContain('"oauth2-microsoft"');
    expect(authFailureHint('550 5.7.30 Basic authentication is not supported for Client Submission.', 'password')).toContain('"oauth2-microsoft"');
    expect(authFailureHint('535 5.7.8 Error: authentication failed', 'password')).toBeNull();
  });

  it('names the fix for the identity platforms\' codes, per provider', () => {
    expect(tokenErrorHint('microsoft', 'invalid_client', 'AADSTS7000222: The provided client secret keys for app are expired.')).toContain('Create a new client secret');
    expect(tokenErrorHint('google', 'invalid_grant', 'Token has been expired or revoked.')).toContain('smtp-relay oauth login');
    expect(tokenErrorHint('google', 'invalid_grant', 'Token has been expired or revoked.')).toContain('Google Auth Platform > Audience > "Publish app" (In production), or user type Internal');
    expect(oauthAdviceFor('535 5.7.3 Authentication unsuccessful', 'oauth2-microsoft')?.fix).toMatch(/-ServiceId.*Add-MailboxPermission -Identity <mailbox> -User <Identity>.*Get-ServicePrincipal/);
    expect(tokenErrorHint('google', 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.')).toContain('w32tm /resync');
    expect(oauthAdviceFor('535 5.7.3 Authentication unsuccessful', 'password')).toBeNull();
  });
});

describe('browser sign-in', () => {
  const base = { provider: 'google' as const, authorizationEndpoint: 'https://accounts.example/auth', tokenEndpoint: 'https://127.0.0.1:9/token', clientId: 'c', clientSecret: 's', scope: 'https://mail.google.com/' };

  /** Plays a browser that the provider sends back with `params` (the state is taken from the request). */
  const returnWith = (params: Record<string, string>) => async (url: string) => {
    const request = new URL(url);
    const back = new URL(request.searchParams.get('redirect_uri') as string);
    expect(back.hostname).toBe('127.0.0.1');
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');
    back.searchParams.set('state', request.searchParams.get('state') as string);
    for (const [k, v] of Object.entries(params)) back.searchParams.set(k, v);
    http.get(back, (res) => res.resume());
  };

  it('reports a sign-in the user cancelled', async () => {
    await expect(loginWithBrowser({ ...base, openBrowser: returnWith({ error: 'access_denied' }) })).rejects.toThrow('sign-in was not completed (access_denied)');
  });

  it('gives up after the timeout and closes the listener', async () => {
    let redirect = '';
    await expect(loginWithBrowser({ ...base, timeoutMs: 200, openBrowser: async (url) => { redirect = new URL(url).searchParams.get('redirect_uri') as string; } }))
      .rejects.toThrow('no sign-in within 0 s');
    await expect(new Promise((resolve, reject) => http.get(redirect, resolve).on('error', reject))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a browser that cannot be opened, with no address shown, fails at once', async () => {
    await expect(loginWithBrowser({ ...base, openBrowser: async () => { throw new Error('cannot open the browser (xdg-open: ENOENT)'); } })).rejects.toThrow('xdg-open');
  });
});
