// Issue 12, finding 7: TLS 1.2 at least for the smarthost and the token endpoints (even when Node's own
// default is lowered, as --tls-min-v1.0 does), MX delivery lenient per RFC 7435, caFile never a network
// path. Servers limited to TLS 1.1 run on loopback (OpenSSL 3 allows it at security level 0).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { MxTransport } from '../src/deliver/mx.js';
import { SmarthostTransport } from '../src/deliver/smarthost.js';
import { testConnection } from '../src/diagnose/test-connection.js';
import { httpsRequest } from '../src/oauth/https.js';
import { startDnsServer, type DnsServer } from './support/dns-server.js';
import { freePort } from './support/relay.js';
import { testCertificates, type TestCertificates } from './support/tls.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const OLD_TLS = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;

let certs: TestCertificates;
let dir: string;
let rawPath: string;
const cleanup: (() => unknown)[] = [];
const defaults = { min: tls.DEFAULT_MIN_VERSION, ciphers: tls.DEFAULT_CIPHERS };

beforeAll(async () => {
  certs = await testCertificates();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tls-test-'));
  rawPath = path.join(dir, 'message.eml');
  writeFileSync(rawPath, 'From: <jts@contoso.com>\r\nTo: <dev@old.test>\r\nSubject: tls\r\n\r\nbody\r\n');
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  tls.DEFAULT_MIN_VERSION = defaults.min;
  tls.DEFAULT_CIPHERS = defaults.ciphers;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `node --tls-min-v1.0 --tls-cipher-list=DEFAULT@SECLEVEL=0` would make the defaults. */
function lowerNodeDefaults(): void {
  tls.DEFAULT_MIN_VERSION = 'TLSv1';
  tls.DEFAULT_CIPHERS = 'DEFAULT@SECLEVEL=0';
}

async function upstream(options: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const up = await startUpstream(options);
  cleanup.push(() => up.stop());
  return up;
}

describe('TLS 1.2 at least where credentials travel', () => {
  it('the smarthost transport refuses a TLS 1.1-only server, for implicit TLS and for STARTTLS', async () => {
    lowerNodeDefaults();
    for (const security of ['tls', 'starttls'] as const) {
      const up = await upstream({ implicitTls: security === 'tls', tls: OLD_TLS, auth: { user: 'u@x.example', pass: 'pw-never-sent' } });
      const config = parseConfig({ smarthost: { host: '127.0.0.1', port: up.port, security, verifyCertificate: false, auth: { method: 'password', username: 'u@x.example' } } });
      const t = new SmarthostTransport(config, 'pw-never-sent');
      cleanup.push(() => t.close(true));
      const outcome = await t.send({ envelope: { from: 'u@x.example', to: ['dev@x.example'] }, contentPath: rawPath });
      expect(outcome.destinationFailure, security).toBe(true);
      expect(outcome.recipients[0]?.response, security).toMatch(/protocol version|unsupported protocol|alert/i);
      expect(up.messages).toEqual([]);
      expect(up.commands.some((c) => /^AUTH/i.test(c)), security).toBe(false);
    }
  });

  it('test-connection refuses it too', async () => {
    lowerNodeDefaults();
    const up = await upstream({ tls: OLD_TLS });
    const r = await testConnection(parseConfig({ smarthost: { host: '127.0.0.1', port: up.port, security: 'starttls', verifyCertificate: false } }), null);
    expect(r).toMatchObject({ ok: false, failedStep: 'starttls' });
  });

  it('a token endpoint that speaks only TLS 1.1 gets no request', async () => {
    lowerNodeDefaults();
    let requests = 0;
    const server = https.createServer({ key: certs.key, cert: certs.cert, ...OLD_TLS }, (_req, res) => { requests++; res.end('{}'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const url = `https://localhost:${(server.address() as AddressInfo).port}/token`;
    await expect(httpsRequest('POST', url, { ca: certs.caCert, body: 'client_secret=never-sent' })).rejects.toThrow(/protocol version|unsupported protocol|alert/i);
    expect(requests).toBe(0);
  });
});

describe('MX delivery stays lenient (RFC 7435)', () => {
  let dns: DnsServer;
  beforeAll(async () => { dns = await startDnsServer({ 'old.test': { MX: [[10, 'mx.old.test']] }, 'mx.old.test': { A: ['127.0.0.31'] } }); });
  afterAll(async () => { await dns.stop(); });

  it('an MX host that speaks only TLS 1.1 gets the message over TLS 1.1 rather than not at all', async () => {
    const port = await freePort();
    const up = await upstream({ host: '127.0.0.31', port, tls: OLD_TLS });
    const t = new MxTransport(parseConfig({ delivery: { mode: 'mx', heloName: 'relay.mx.test' } }), { dnsServers: [dns.server], port });
    cleanup.push(() => t.close(true));
    const outcome = await t.send({ envelope: { from: 'jts@contoso.com', to: ['dev@old.test'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['sent']);
    expect(up.messages[0]?.secure).toBe(true);
  });
});

describe('caFile', () => {
  it('refuses network paths with the reason, and takes local ones', () => {
    for (const p of ['\\\\fileserver\\certs\\ca.pem', '//fileserver/certs/ca.pem', '\\\\?\\UNC\\fileserver\\certs\\ca.pem', '\\/fileserver/ca.pem', ' \\\\10.0.0.5\\c$\\ca.pem']) {
      expect(() => parseConfig({ smarthost: { caFile: p } }), p).toThrow(/smarthost\.caFile: must be a file on this computer, not a network path/);
    }
    for (const p of ['C:\\certs\\corp-ca.pem', '/etc/ssl/corp-ca.pem', '\\\\?\\C:\\certs\\ca.pem', 'certs/ca.pem']) {
      expect(parseConfig({ smarthost: { caFile: p } }).smarthost.caFile, p).toBe(p);
    }
  });
});
