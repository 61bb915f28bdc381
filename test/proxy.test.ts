// OAuth2 behind a corporate proxy: token requests through an HTTP CONNECT tunnel (network.proxy,
// HTTPS_PROXY with credentials, NO_PROXY), end to end with msal-node, the loopback identity platform
// and a smarthost that takes only its tokens.
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { getJson, parseWinHttpProxy, proxyFor, useNetworkSettings } from '../src/oauth/https.js';
import { MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { passwordAccount } from '../src/oauth/stored-secrets.js';
import { startConnectProxy, type ConnectProxy } from './support/connect-proxy.js';
import { startRelay, waitFor, type TestRelay } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { startTokenServer, type TokenServer } from './support/token-server.js';
import { startOAuthUpstream } from './support/xoauth2-upstream.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '4a1b2c3d-0000-1111-2222-333344445555';
const SECRET = 'Xy7~Q.client-secret-value-0123456789abcd';
const MAILBOX = 'jts@contoso.com';

let tokens: TokenServer;
let proxy: ConnectProxy;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
const savedEnv = { ...process.env };

beforeEach(async () => {
  tokens = await startTokenServer();
  tokens.microsoft.push({ tenant: TENANT, clientId: CLIENT_ID, secrets: new Set([SECRET]) });
  cleanups.push(() => tokens.stop());
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
    if (savedEnv[k] === undefined) delete process.env[k]; else process.env[k] = savedEnv[k];
  }
  useNetworkSettings({ proxy: '', noProxy: '' });
});

async function withProxy(opts: Parameters<typeof startConnectProxy>[0] = {}): Promise<ConnectProxy> {
  proxy = await startConnectProxy(opts);
  cleanups.push(() => proxy.stop());
  return proxy;
}

const tokenPort = () => new URL(tokens.base).port;

describe('OAuth2 through a CONNECT proxy', () => {
  it('network.proxy: the relay gets its Microsoft token through the tunnel and delivers', async () => {
    await withProxy();
    const upstream = await startOAuthUpstream({ tokens, provider: 'microsoft', mailboxes: [MAILBOX] });
    cleanups.push(() => upstream.stop());
    const certs = await testCertificates();
    const input = {
      network: { proxy: proxy.url },
      smarthost: {
        host: 'localhost', port: upstream.port, security: 'starttls' as const, caFile: certs.caCertPath,
        auth: { method: 'oauth2-microsoft' as const, username: MAILBOX, tenantId: TENANT, clientId: CLIENT_ID, tokenEndpoint: tokens.microsoftTokenEndpoint(TENANT) },
      },
    };
    const relay: TestRelay = await startRelay(input, { credentials: new MemoryCredentialStore() });
    cleanups.push(() => relay.stop());
    await relay.credentials.set(passwordAccount(parseConfig(input)), SECRET);
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true });
    await client.sendMail({ from: 'app@jts.local', to: 'dev@contoso.com', subject: 'via proxy', text: 'x' });
    await waitFor(() => upstream.messages.length === 1, 20_000, 'the delivery');
    expect(upstream.messages[0]).toMatchObject({ user: MAILBOX });
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`localhost:${tokenPort()}`])); // SMTP itself does not use the proxy
    expect(tokens.requests).toContain(`POST /${TENANT}/oauth2/v2.0/token grant_type=client_credentials`);
  });

  it('HTTPS_PROXY with credentials: Basic to the proxy; wrong ones are refused, naming the proxy and the 407', async () => {
    await withProxy({ credentials: { user: 'svc-relay', pass: 'p@ss:word' } });
    const { caCert } = await testCertificates();
    const discovery = `${tokens.base}/${TENANT}/v2.0/.well-known/openid-configuration`;
    process.env.HTTPS_PROXY = `http://svc-relay:${encodeURIComponent('p@ss:word')}@127.0.0.1:${proxy.port}`;
    const ok = await getJson(discovery, { ca: caCert });
    expect(ok.status).toBe(200);
    expect(proxy.tunnels).toEqual([`localhost:${tokenPort()}`]);

    process.env.HTTPS_PROXY = `http://svc-relay:wrong@127.0.0.1:${proxy.port}`;
    await expect(getJson(discovery, { ca: caCert })).rejects.toThrow(`the proxy 127.0.0.1:${proxy.port} refused the tunnel to localhost:${tokenPort()}: 407 Proxy Authentication Required`);

    process.env.NO_PROXY = 'example.org, localhost';
    expect((await getJson(discovery, { ca: caCert })).status).toBe(200); // directly
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('the certificate is still checked end to end through the tunnel', async () => {
    await withProxy();
    useNetworkSettings({ proxy: proxy.url, noProxy: '' });
    await expect(getJson(`${tokens.base}/${TENANT}/v2.0/.well-known/openid-configuration`)).rejects.toThrow(/unable to verify the first certificate|self-signed certificate|unable to get local issuer certificate/);
    expect(proxy.tunnels).toHaveLength(1);
  });
});

describe('proxy choice', () => {
  const url = new URL('https://login.microsoftonline.com/x/oauth2/v2.0/token');
  const none = { proxy: '', noProxy: '' };

  it('network.proxy first, then HTTPS_PROXY, then the system\'s; NO_PROXY and network.noProxy bypass it', () => {
    expect(proxyFor(url, none, {})).toBeNull();
    expect(proxyFor(url, none, { HTTPS_PROXY: 'proxy.corp:3128' })?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFor(url, { proxy: 'http://cfg:8080', noProxy: '' }, { HTTPS_PROXY: 'http://env:3128' })?.host).toBe('cfg:8080');
    expect(proxyFor(url, none, {}, { proxy: 'winhttp:8080', noProxy: '' })?.host).toBe('winhttp:8080');
    for (const bypass of ['microsoftonline.com', '.microsoftonline.com', '*.microsoftonline.com', 'login.microsoftonline.com:443', '*']) {
      expect(proxyFor(url, none, { HTTPS_PROXY: 'http://p:1', NO_PROXY: `intranet, ${bypass}` }), bypass).toBeNull();
      expect(proxyFor(url, { proxy: 'http://p:1', noProxy: bypass }, {}), bypass).toBeNull();
    }
    for (const other of ['online.com', 'login.microsoftonline.com:8443', 'microsoftonline.com.evil']) {
      expect(proxyFor(url, none, { HTTPS_PROXY: 'http://p:1', NO_PROXY: other }), other).not.toBeNull();
    }
    expect(() => proxyFor(url, none, { HTTPS_PROXY: 'socks5://p:1' })).toThrow(/not an http:\/\/ address/);
  });

  it('reads the WinHTTP proxy as netsh prints it', () => {
    expect(parseWinHttpProxy('\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n')).toBeNull();
    expect(parseWinHttpProxy('Current WinHTTP proxy settings:\r\n\r\n    Proxy Server(s) :  proxy.contoso.com:8080\r\n    Bypass List     :  <local>;*.contoso.com\r\n'))
      .toEqual({ proxy: 'proxy.contoso.com:8080', noProxy: '<local>;*.contoso.com' });
    expect(parseWinHttpProxy('    Proxy Server(s) :  http=p:80;https=sp:8443\r\n    Bypass List     :  (none)\r\n')).toEqual({ proxy: 'sp:8443', noProxy: '' });
    expect(proxyFor(new URL('https://intranet/'), none, {}, { proxy: 'p:1', noProxy: '<local>' })).toBeNull();
  });

  it('network.proxy in config.json is an http:// address without credentials', () => {
    expect(parseConfig({ network: { proxy: 'http://proxy.contoso.com:8080', noProxy: '.contoso.com' } }).network.proxy).toBe('http://proxy.contoso.com:8080');
    expect(() => parseConfig({ network: { proxy: 'http://u:secret@proxy:8080' } })).toThrow(/network\.proxy: must not hold a user name or password/);
    expect(() => parseConfig({ network: { proxy: 'proxy:8080' } })).toThrow(/network\.proxy: must be an http:\/\/ proxy address/);
  });
});
