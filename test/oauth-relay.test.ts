// OAuth2 end to end, on loopback only: a real SMTP client -> the relay -> a smarthost that accepts
// XOAUTH2 only with a valid, unexpired token from a local identity platform (HTTPS, the test CA)
// playing Microsoft Entra ID (client credentials, msal-node) and Google (service account JWT bearer,
// installed app with PKCE + refresh token).
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../src/config/schema.js';
import { MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { oauthEndpoints } from '../src/oauth/endpoints.js';
import { passwordAccount } from '../src/oauth/stored-secrets.js';
import { filesContaining, startRelay, waitFor, type TestRelay } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { browse, signIn, startTokenServer, type TokenServer } from './support/token-server.js';
import { startOAuthUpstream, type OAuthUpstream, type OAuthUpstreamOptions } from './support/xoauth2-upstream.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '4a1b2c3d-0000-1111-2222-333344445555';
const SECRET = 'Xy7~Q.client-secret-value-0123456789abcd';
const MAILBOX = 'jts@contoso.com';

let tokens: TokenServer;
let upstream: OAuthUpstream | null = null;
let relay: TestRelay | null = null;

beforeEach(async () => {
  tokens = await startTokenServer();
  tokens.microsoft.push({ tenant: TENANT, clientId: CLIENT_ID, secrets: new Set([SECRET]) });
});

afterEach(async () => {
  await relay?.stop();
  await upstream?.stop();
  await tokens.stop();
  relay = null;
  upstream = null;
});

/** Windows Credential Manager holds at most 1,280 characters per entry; this store refuses more, as it does. */
class WindowsSizedStore extends MemoryCredentialStore {
  override async set(account: string, secret: string): Promise<void> {
    if (secret.length > 1280) throw new Error(`Value of 'password encoded as UTF-16' is longer than the platform limit of 2560 chars (${account})`);
    return super.set(account, secret);
  }
}

async function withUpstream(opts: Omit<OAuthUpstreamOptions, 'tokens'>): Promise<OAuthUpstream> {
  upstream = await startOAuthUpstream({ tokens, ...opts });
  return upstream;
}

async function config(auth: NonNullable<NonNullable<ConfigInput['smarthost']>['auth']>): Promise<ConfigInput> {
  const certs = await testCertificates();
  return {
    delivery: { retrySchedule: '1s' },
    smarthost: { host: 'localhost', port: upstream?.port ?? 1, security: 'starttls', caFile: certs.caCertPath, auth },
  };
}

function microsoft(extra: Record<string, string> = {}) {
  return { method: 'oauth2-microsoft' as const, username: MAILBOX, tenantId: TENANT, clientId: CLIENT_ID, tokenEndpoint: tokens.microsoftTokenEndpoint(extra.tenantId ?? TENANT), ...extra };
}

/** Starts the relay and stores the client secret where `smtp-relay password set` puts it. */
async function startWithSecret(input: ConfigInput, secret = SECRET): Promise<TestRelay> {
  relay = await startRelay(input, { credentials: new WindowsSizedStore() });
  await relay.credentials.set(passwordAccount(parseConfig(input)), secret);
  return relay;
}

async function send(n: number): Promise<void> {
  const client = nodemailer.createTransport({ host: '127.0.0.1', port: relay!.port, secure: false, ignoreTLS: true });
  await client.sendMail({ envelope: { from: 'jts@jts.localdomain', to: ['dev@contoso.com'] }, raw: `From: jts@jts.localdomain\r\nTo: dev@contoso.com\r\nSubject: build ${n}\r\n\r\nbody ${n}\r\n` });
}

async function delivered(count: number): Promise<void> {
  await waitFor(() => upstream!.messages.length >= count, 15_000, `${count} message(s) upstream`);
  await waitFor(async () => (await relay!.relay.getStatus()).queued === 0, 5000, 'empty queue');
}

async function authFailed() {
  return waitFor(async () => {
    const s = await relay!.relay.getStatus();
    return s.state === 'auth-failed' ? s : null;
  }, 15_000, 'state auth-failed');
}

/** Every file under the data directory (config.json, spool, logs) must be free of every secret and token. */
async function expectNoSecrets(secrets: string[]): Promise<void> {
  const files = (await fs.readdir(relay!.dataDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  expect(files.some((f) => f.name === 'relay.log')).toBe(true);
  expect(await filesContaining(relay!.dataDir, secrets)).toEqual([]);
}

function issuedTokens(): string[] {
  return tokens.issued.map((t) => t.token);
}

async function log(): Promise<string> {
  return fs.readFile(path.join(relay!.dataDir, 'logs', 'relay.log'), 'utf8');
}

describe('oauth2-microsoft (client credentials through msal-node)', () => {
  it('delivers with XOAUTH2 as the mailbox, using an app-only token for the Exchange scope', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    await startWithSecret(await config(microsoft()));
    await send(1);
    await delivered(1);
    expect(upstream!.messages[0]).toMatchObject({ user: MAILBOX, to: ['dev@contoso.com'] });
    expect(tokens.requests).toEqual([
      `GET /${TENANT}/v2.0/.well-known/openid-configuration`,
      `POST /${TENANT}/oauth2/v2.0/token grant_type=client_credentials`,
    ]);
    expect((await relay!.relay.getStatus()).state).toBe('running');
    await expectNoSecrets([SECRET, ...issuedTokens()]);
  });

  it('renews an expired token before the next delivery: no failed attempt, no connection kept past its token', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    tokens.lifetimeSeconds = 2;
    await startWithSecret(await config(microsoft()));
    await send(1);
    await delivered(1);
    const first = upstream!.messages[0]!.token;
    await waitFor(() => tokens.check(first) === undefined, 5000, 'first token expired');
    await send(2);
    await delivered(2);
    expect(upstream!.messages[1]!.token).not.toBe(first);
    expect(tokens.issued.map((t) => t.grant)).toEqual(['client_credentials', 'client_credentials']);
    // The pooled connection that logged in with the first token was not reused (the server would say 421).
    expect(upstream!.logins.map((l) => l.ok)).toEqual([true, true]);
    expect(await log()).not.toMatch(/status=deferred/);
    const status = await relay!.relay.getStatus();
    expect(status).toMatchObject({ state: 'running', deferred: 0, failed: 0, lastDelivery: { status: 'sent' } });
  });

  it('a revoked client secret pauses the queue as auth-failed with the AADSTS code and what to do; a new secret resumes it', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    tokens.lifetimeSeconds = 2;
    await startWithSecret(await config(microsoft()));
    await send(1);
    await delivered(1);
    tokens.microsoft[0]!.secrets.delete(SECRET); // revoked in the portal
    await waitFor(() => tokens.check(upstream!.messages[0]!.token) === undefined, 5000, 'token expired');
    await send(2);
    const status = await authFailed();
    expect(status.lastError).toContain('AADSTS7000215');
    expect(status.lastError).toContain('smtp-relay password set');
    expect(status.advice?.id).toBe('entra-secret-invalid');
    // The message waits with its retries intact: a configuration problem is not the message's.
    expect(status).toMatchObject({ queued: 1, deferred: 0, failed: 0 });
    expect(upstream!.messages).toHaveLength(1);
    expect(await log()).toMatch(/delivery stopped: .*AADSTS7000215/);

    const fresh = 'New~secret-value-after-rotation-00000000';
    tokens.microsoft[0]!.secrets.add(fresh);
    await relay!.relay.setPassword(fresh);
    await delivered(2);
    expect((await relay!.relay.getStatus()).state).toBe('running');
    await expectNoSecrets([SECRET, fresh, ...issuedTokens()]);
  });

  it('test-connection asks for a new token and logs in with it; with the secret revoked it fails at auth with the reason', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    await startWithSecret(await config(microsoft()));
    const ok = await relay!.relay.testConnection();
    expect(ok.ok, ok.message).toBe(true);
    expect(upstream!.logins).toEqual([{ user: MAILBOX, token: tokens.issued[0]!.token, ok: true }]);
    tokens.microsoft[0]!.secrets.clear();
    const failed = await relay!.relay.testConnection();
    expect(failed).toMatchObject({ ok: false, failedStep: 'auth', advice: { id: 'entra-secret-invalid' } });
    expect(failed.message).toContain('AADSTS7000215');
  });

  it('an identity platform that is down defers the mail (not auth-failed) and it goes out once the platform is back', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    tokens.outage = 503;
    await startWithSecret(await config(microsoft()));
    await send(1);
    const waiting = await waitFor(async () => {
      const s = await relay!.relay.getStatus();
      return s.lastError ? s : null;
    }, 10_000, 'a last error');
    expect(waiting.state).toBe('running');
    expect(waiting.lastError).toMatch(/not available right now \(HTTP 503\)/);
    expect(waiting.advice?.id).toBe('token-endpoint-unreachable');
    tokens.outage = null;
    await delivered(1);
    expect(await log()).not.toContain('delivery stopped');
  });

  it('a certificate credential: msal signs the client assertion with the key imported through the (1,280-character) keychain', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oauth-cert-'));
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=SMTP Relay Tray app']);
    const certificate = await fs.readFile(path.join(dir, 'c.pem'), 'utf8');
    const key = await fs.readFile(path.join(dir, 'k.pem'), 'utf8');
    await fs.rm(dir, { recursive: true });
    tokens.microsoft[0]!.secrets.clear();
    tokens.microsoft[0]!.certificate = certificate;
    relay = await startRelay(await config(microsoft({ credential: 'certificate' })), { credentials: new WindowsSizedStore() });
    const status = await relay.relay.setOAuthSecret('certificate', `${key}\n${certificate}`);
    expect(status.secrets).toEqual([expect.objectContaining({ kind: 'certificate', stored: true, account: `${MAILBOX}@localhost:certificate ${tokens.microsoftTokenEndpoint(TENANT)}` })]);
    expect(status.secrets[0]!.detail).toMatch(/^certificate [0-9A-F]{16}…, valid until \d{4}-\d\d-\d\d$/);
    await send(1);
    await delivered(1);
    expect(upstream!.messages[0]!.user).toBe(MAILBOX);
    await expectNoSecrets([key.split('\n')[1]!, ...issuedTokens()]);
  });

  it('Exchange refusing the token (no mailbox permission) pauses with the PowerShell to fix it', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [] });
    await startWithSecret(await config(microsoft()));
    await send(1);
    const status = await authFailed();
    expect(status.lastError).toMatch(/535 5\.7\.3 Authentication unsuccessful/);
    expect(status.lastError).toContain('Add-MailboxPermission');
    expect(status.advice?.id).toBe('exchange-token-refused');
  });

  it('an unknown tenant is named at discovery and pauses delivery', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    await startWithSecret(await config(microsoft({ tenantId: '00000000-0000-0000-0000-000000000000' })));
    await send(1);
    const status = await authFailed();
    expect(status.lastError).toContain('AADSTS90002');
    expect(status.lastError).toContain('tenantId');
  });

  it('without a stored client secret the mail waits and the state says how to store it', async () => {
    await withUpstream({ provider: 'microsoft', mailboxes: [MAILBOX] });
    relay = await startRelay(await config(microsoft()));
    await send(1);
    const status = await waitFor(async () => {
      const s = await relay!.relay.getStatus();
      return s.state === 'unconfigured' ? s : null;
    }, 10_000, 'unconfigured');
    expect(status.lastError).toContain(`no OAuth client secret is stored for ${MAILBOX}@localhost`);
    expect(tokens.requests).toEqual([]);
  });
});

describe('oauth2-google', () => {
  const SERVICE_ACCOUNT = 'relay@smtp-relay-123.iam.gserviceaccount.com';

  function serviceAccountKey(delegationEnabled = true): string {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    tokens.google.serviceAccounts.push({ email: SERVICE_ACCOUNT, publicKey, delegatedUsers: new Set([MAILBOX]), delegationEnabled });
    return JSON.stringify({
      type: 'service_account', project_id: 'smtp-relay-123', private_key_id: 'abc123', client_id: '104857600000000000000',
      client_email: SERVICE_ACCOUNT, token_uri: 'https://oauth2.googleapis.com/token',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    }, null, 2);
  }

  function google(extra: Record<string, string> = {}) {
    return { method: 'oauth2-google' as const, username: MAILBOX, tokenEndpoint: tokens.googleTokenEndpoint, authorizationEndpoint: tokens.googleAuthorizationEndpoint, ...extra };
  }

  it('service account with domain-wide delegation: the JWT bearer grant acts as the mailbox', async () => {
    await withUpstream({ provider: 'google' });
    relay = await startRelay(await config(google({ credential: 'service-account' })), { credentials: new WindowsSizedStore() });
    const key = serviceAccountKey();
    const status = await relay.relay.setOAuthSecret('service-account', key);
    expect(status.secrets[0]).toMatchObject({ kind: 'service-account', stored: true, detail: `service account ${SERVICE_ACCOUNT}` });
    await send(1);
    await delivered(1);
    expect(upstream!.messages[0]!.user).toBe(MAILBOX);
    expect(tokens.issued).toEqual([expect.objectContaining({ grant: 'jwt-bearer', subject: MAILBOX })]);
    const privateKeyLine = (JSON.parse(key) as { private_key: string }).private_key.split('\n')[1]!;
    await expectNoSecrets([privateKeyLine, ...issuedTokens()]);
  });

  it('without domain-wide delegation it pauses and says where in the Admin console to grant it', async () => {
    await withUpstream({ provider: 'google' });
    relay = await startRelay(await config(google()));
    await relay.relay.setOAuthSecret('service-account', serviceAccountKey(false));
    await send(1);
    const status = await authFailed();
    expect(status.lastError).toContain('unauthorized_client');
    expect(status.lastError).toContain('Domain-wide delegation');
    expect(status.advice?.id).toBe('google-delegation-missing');
  });

  it('a token Gmail refuses is renewed once, then the queue pauses with what to check', async () => {
    await withUpstream({ provider: 'google' });
    relay = await startRelay(await config(google({ username: 'other@contoso.com' })));
    tokens.google.serviceAccounts.length = 0;
    await relay.relay.setOAuthSecret('service-account', serviceAccountKey());
    tokens.google.serviceAccounts[0]!.delegatedUsers.add('other@contoso.com');
    // The token is for other@, but the smarthost only knows the mailbox the token server says: make them differ.
    tokens.issued.length = 0;
    const realCheck = tokens.check.bind(tokens);
    tokens.check = (token) => (realCheck(token) ? { subject: 'someone-else@contoso.com' } : undefined);
    await send(1);
    const status = await authFailed();
    expect(upstream!.logins.map((l) => l.ok)).toEqual([false, false]);
    expect(tokens.issued).toHaveLength(2);
    expect(status.advice?.id).toBe('gmail-token-refused');
  });

  describe('installed app (PKCE, loopback redirect)', () => {
    const client = { clientId: '123456789012-abcdef.apps.googleusercontent.com', clientSecret: 'GOCSPX-desktop-client-secret' };

    /** Plays the user's browser: a forged callback first (wrong state, ignored), then the real sign-in. */
    async function browser(url: string): Promise<void> {
      const location = await signIn(url);
      const loopback = new URL(location);
      expect(loopback.hostname).toBe('127.0.0.1');
      expect((await browse(`${loopback.origin}/?state=forged&code=stolen`)).status).toBe(404);
      expect(await browse(location)).toMatchObject({ status: 200, body: expect.stringContaining('Signed in') });
    }

    it('signs in once through the browser, keeps the refresh token in the keychain, and delivers with it', async () => {
      tokens.google.clients.push(client);
      await withUpstream({ provider: 'google' });
      const input = await config(google({ credential: 'installed-app', clientId: client.clientId }));
      relay = await startRelay(input, { openBrowser: browser });
      await relay.credentials.set(passwordAccount(parseConfig(input)), client.clientSecret);
      expect((await relay.relay.getOAuthStatus()).secrets.map((s) => [s.kind, s.stored])).toEqual([['client-secret', true], ['refresh-token', false]]);

      const status = await relay.relay.oauthLogin();
      expect(status.secrets.map((s) => [s.kind, s.stored])).toEqual([['client-secret', true], ['refresh-token', true]]);
      const [refreshToken] = [...tokens.google.refreshTokens.keys()];
      expect(await relay.credentials.get(`${MAILBOX}@localhost:refresh-token ${oauthEndpoints(parseConfig(input)).tokenEndpoint}`)).toBe(refreshToken);

      await send(1);
      await delivered(1);
      expect(upstream!.messages[0]!.user).toBe(MAILBOX);
      expect(tokens.issued.map((t) => t.grant)).toEqual(['authorization_code', 'refresh_token']);
      await expectNoSecrets([client.clientSecret, refreshToken!, ...issuedTokens()]);
    });

    it('a revoked refresh token pauses delivery and says to sign in again', async () => {
      tokens.google.clients.push(client);
      await withUpstream({ provider: 'google' });
      const input = await config(google({ credential: 'installed-app', clientId: client.clientId }));
      relay = await startRelay(input);
      await relay.credentials.set(passwordAccount(parseConfig(input)), client.clientSecret);
      await relay.relay.setOAuthSecret('refresh-token', '1//revoked-refresh-token');
      await send(1);
      const status = await authFailed();
      expect(status.lastError).toContain('invalid_grant: Token has been expired or revoked.');
      expect(status.lastError).toContain('smtp-relay oauth login');
    });
  });
});

describe('password login to Microsoft 365 with basic authentication switched off', () => {
  for (const reply of [
    { code: 535, message: '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.' },
    { code: 550, message: '5.7.30 Basic authentication is not supported for Client Submission.' },
  ]) {
    it(`${reply.code} ${reply.message.slice(0, 8)}: status and log say so and point to the OAuth2 setting`, async () => {
      await withUpstream({ provider: 'microsoft', passwordReply: reply });
      await startWithSecret(await config({ method: 'password', username: MAILBOX }), 'the-mailbox-password');
      await send(1);
      const status = await authFailed();
      expect(status.lastError).toContain(`${reply.code} ${reply.message.slice(0, 8)}`);
      expect(status.lastError).toContain('"oauth2-microsoft"');
      expect(status.advice?.fix).toContain('oauth2-microsoft');
      const line = (await log()).split('\n').find((l) => l.includes('delivery stopped'));
      expect(line).toContain('"oauth2-microsoft"');
    });
  }
});
