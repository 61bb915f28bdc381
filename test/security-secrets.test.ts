// Issue 12, finding 6: each secret is bound to its destination. SMTP_RELAY_SMARTHOST_PASSWORD goes only
// to the smarthost configured when the relay started; OAuth2 secrets are kept per token endpoint, so a
// config pointing elsewhere gets nothing until the secret is entered again; older unbound entries are
// reported, not used.
import fs from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { RelayService } from '../src/relay.js';
import { MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { openRelay, type OpenRelay } from './support/open-relay.js';
import { startRelay, tempDataDir, waitFor, type TestRelay } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { startUpstream } from './support/upstream.js';
import { startWireTap } from './support/wire-tap.js';

const USER = 'jts@contoso.com';
const ENV_PASSWORD = 'Env-Bound-Secret-7';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('SMTP_RELAY_SMARTHOST_PASSWORD is bound to the smarthost configured at start', () => {
  it('used for that host; after a config change to another host it is not sent there and the relay says why', async () => {
    const first = await startUpstream({ starttls: 'disabled', auth: { user: USER, pass: ENV_PASSWORD } });
    const other = await startUpstream({ starttls: 'disabled', auth: { user: USER, pass: ENV_PASSWORD } });
    const tap = await startWireTap(other.port);
    cleanup.push(() => first.stop(), () => other.stop(), () => tap.stop());
    const smarthost = (host: string, port: number): ConfigInput['smarthost'] => ({ host, port, security: 'none', auth: { method: 'password', username: USER } });
    const relay: TestRelay = await startRelay({ smarthost: smarthost('localhost', first.port) }, { env: { SMTP_RELAY_SMARTHOST_PASSWORD: ENV_PASSWORD } });
    cleanup.push(() => relay.stop());

    await relay.relay.sendTest('dev@contoso.com');
    await waitFor(() => first.messages.length === 1, 20_000, 'delivery to the host configured at start');
    expect(first.messages[0]?.authUser).toBe(USER);
    expect(await relay.relay.getPasswordStatus()).toMatchObject({ stored: true, source: 'env' });

    await relay.relay.setConfig({ smarthost: smarthost('127.0.0.1', tap.port) });
    expect(await relay.relay.getPasswordStatus()).toMatchObject({ account: `${USER}@127.0.0.1`, stored: false });
    await relay.relay.sendTest('dev@contoso.com');
    const status = await waitFor(async () => { const s = await relay.relay.getStatus(); return s.state === 'unconfigured' ? s : null; }, 20_000, 'unconfigured');
    expect(status.lastError).toMatch(/^SMTP_RELAY_SMARTHOST_PASSWORD was given for the smarthost localhost \(the one configured when the relay started\) and is not sent to 127\.0\.0\.1/);
    expect(status.queued).toBe(1);
    const wire = tap.sent().toString('latin1');
    expect(wire).not.toContain(ENV_PASSWORD);
    expect(wire).not.toContain(Buffer.from(ENV_PASSWORD).toString('base64'));
    expect(other.messages).toEqual([]);

    // The keychain entry for the new host is used as usual.
    await relay.relay.setPassword(ENV_PASSWORD);
    await waitFor(() => other.messages.length === 1, 20_000, 'delivery once the password for the new host is stored');
  });
});

describe('OAuth2 secrets are bound to the token endpoint', () => {
  let open: OpenRelay | null = null;
  afterEach(async () => { await open?.close(); open = null; });

  /** A token endpoint that counts what reaches it (it must get nothing). */
  async function countingEndpoint(): Promise<{ url: string; bodies: string[] }> {
    const { key, cert } = await testCertificates();
    const bodies: string[] = [];
    const server = https.createServer({ key, cert }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { bodies.push(body); res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    return { url: `https://localhost:${(server.address() as AddressInfo).port}/token`, bodies };
  }

  const google = async (tokenEndpoint: string): Promise<ConfigInput> => ({
    smarthost: {
      host: 'smtp.gmail.com', port: 587, security: 'starttls', caFile: (await testCertificates()).caCertPath,
      auth: { method: 'oauth2-google', username: USER, credential: 'installed-app', clientId: 'desktop-client.apps.googleusercontent.com', tokenEndpoint },
    },
  });

  it('changing tokenEndpoint needs the secrets entered again; the new endpoint gets no request', async () => {
    const good = await countingEndpoint();
    const evil = await countingEndpoint();
    open = await openRelay();
    await open.relay.setConfig(await google(good.url));
    await open.relay.setPassword('client-secret-value');
    await open.relay.setOAuthSecret('refresh-token', '1//refresh-token-value');
    expect((await open.relay.getOAuthStatus()).secrets.map((s) => [s.kind, s.stored])).toEqual([['client-secret', true], ['refresh-token', true]]);

    await open.relay.setConfig(await google(evil.url));
    const status = await open.relay.getOAuthStatus();
    expect(status.secrets.map((s) => [s.kind, s.stored, s.account])).toEqual([
      ['client-secret', false, `${USER}@smtp.gmail.com:client-secret ${evil.url}`],
      ['refresh-token', false, `${USER}@smtp.gmail.com:refresh-token ${evil.url}`],
    ]);
    const test = await open.relay.testConnection();
    expect(test.ok).toBe(false);
    expect(test.message).toMatch(/no OAuth client secret is stored/);
    expect(evil.bodies).toEqual([]);

    // Back to the endpoint they were entered for: they are there again.
    await open.relay.setConfig(await google(good.url));
    expect((await open.relay.getOAuthStatus()).secrets.every((s) => s.stored)).toBe(true);
  });

  it('secrets stored by an earlier version (not bound) are reported as "enter it again", never used', async () => {
    const endpoint = await countingEndpoint();
    const credentials = new MemoryCredentialStore();
    await credentials.set(`${USER}@smtp.gmail.com`, 'old-client-secret');
    await credentials.set(`${USER}@smtp.gmail.com:refresh-token`, '1//old-refresh-token');
    const dataDir = await tempDataDir();
    const relay = new RelayService({ dataDir, credentials, env: {}, hostname: 'relay.test' });
    await relay.open();
    cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }), () => relay.stop());
    await relay.setConfig(await google(endpoint.url));
    const status = await relay.getOAuthStatus();
    expect(status.secrets.map((s) => s.stored)).toEqual([false, false]);
    expect(status.secrets[0]?.detail).toMatch(/^the client-secret stored as "jts@contoso\.com@smtp\.gmail\.com" by an earlier version is not bound to a token endpoint and is not used: enter it again/);
    expect(status.secrets[1]?.detail).toMatch(/^the refresh-token stored as "jts@contoso\.com@smtp\.gmail\.com:refresh-token" by an earlier version .*enter it again/);
    const test = await relay.testConnection();
    expect(test.message).toMatch(/earlier version is not bound to a token endpoint and is not used: enter it again/);
    expect(endpoint.bodies).toEqual([]);
  });
});
