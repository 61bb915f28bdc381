// test-connection against upstreams that fail at each step: the right step fails, with the server's
// reply and the right advice; a good smarthost passes every step. No mail is ever sent.
import fs from 'node:fs/promises';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../src/config/schema.js';
import { testConnection } from '../src/diagnose/test-connection.js';
import { cli } from './support/cli.js';
import { tempDataDir } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { startUpstream, type Upstream, type UpstreamOptions } from './support/upstream.js';

const USER = 'jts@contoso.com';
const PASS = 'Corr3ct-Horse';
const servers: { stop(): Promise<void> | void }[] = [];
afterAll(async () => { for (const s of servers) await s.stop(); });

async function upstream(options: UpstreamOptions): Promise<Upstream> {
  const u = await startUpstream(options);
  servers.push(u);
  return u;
}

async function run(port: number, smarthost: NonNullable<ConfigInput['smarthost']> = {}, pass = PASS) {
  const certs = await testCertificates();
  const config = parseConfig({ smarthost: { host: 'localhost', port, security: 'starttls', caFile: certs.caCertPath, auth: { method: 'password', username: USER }, ...smarthost } });
  return testConnection(config, { user: USER, pass }, { timeoutMs: 1000 });
}

const steps = (r: Awaited<ReturnType<typeof run>>) => r.steps.map((s) => `${s.step}:${s.ok ? 'ok' : 'FAIL'}`);

describe('test-connection', () => {
  it('passes every step against a good smarthost, showing TLS, certificate and login, and sends no mail', async () => {
    const up = await upstream({ auth: { user: USER, pass: PASS } });
    const r = await run(up.port);
    expect(r.ok).toBe(true);
    expect(steps(r)).toEqual(['dns:ok', 'tcp:ok', 'banner:ok', 'ehlo:ok', 'starttls:ok', 'ehlo:ok', 'auth:ok']);
    const byName = Object.fromEntries(r.steps.map((s) => [s.step, s.detail]));
    expect(byName.dns).toMatch(/^localhost -> 127\.0\.0\.1/);
    expect(byName.starttls).toMatch(/^TLSv1\.[23], \S+; certificate localhost issued by .+, valid until .+; trusted for localhost$/);
    expect(r.steps[3]!.detail).toMatch(/STARTTLS/);
    expect(r.steps[5]!.detail).toMatch(/AUTH mechanisms: PLAIN LOGIN/);
    expect(byName.auth).toBe(`logged in as ${USER} with LOGIN`);
    // The same words as `smtp-relay route` (config/outbound.ts), CA file included.
    expect(r.target).toBe(`localhost:${up.port} (STARTTLS required, certificate verified (CA file ${(await testCertificates()).caCertPath}), AUTH as ${USER})`);
    expect(up.commands.some((c) => /^(MAIL|RCPT|DATA)/i.test(c))).toBe(false);
    expect(up.messages).toEqual([]);
  });

  it('a name that does not resolve fails at dns', async () => {
    const r = await run(25, { host: 'no-such-host.invalid' });
    expect(steps(r)).toEqual(['dns:FAIL']);
    expect(r.failedStep).toBe('dns');
    expect(r.advice?.id).toBe('dns-not-found');
    // The example command names the configured host, not Microsoft 365's.
    expect(r.advice?.fix).toContain('Resolve-DnsName no-such-host.invalid');
  });

  it('a closed port fails at tcp, with the firewall advice', async () => {
    const s = net.createServer();
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((res) => s.close(res));
    const r = await run(port);
    expect(steps(r)).toEqual(['dns:ok', 'tcp:FAIL']);
    expect(r.message).toMatch(/ECONNREFUSED/);
    expect(r.advice?.id).toBe('connection-refused');
    expect(r.advice?.fix).toContain(`Test-NetConnection localhost -Port ${port}`);
    expect(r.advice?.fix).not.toContain('smtp.office365.com');
  });

  it('a server that never greets fails at banner after the timeout', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const sockets: net.Socket[] = [];
    silent.on('connection', (c) => sockets.push(c));
    servers.push({ stop: () => { sockets.forEach((c) => c.destroy()); silent.close(); } });
    const r = await run((silent.address() as net.AddressInfo).port);
    expect(steps(r)).toEqual(['dns:ok', 'tcp:ok', 'banner:FAIL']);
    expect(r.message).toMatch(/timed out/);
    expect(r.advice?.id).toBe('connection-timeout');
  });

  it('no STARTTLS on the port fails at starttls before any password is sent', async () => {
    const up = await upstream({ starttls: 'disabled', auth: { user: USER, pass: PASS } });
    const r = await run(up.port);
    expect(steps(r)).toEqual(['dns:ok', 'tcp:ok', 'banner:ok', 'ehlo:ok', 'starttls:FAIL']);
    expect(r.advice?.id).toBe('starttls-not-offered');
    expect(up.commands.some((c) => /^AUTH/i.test(c))).toBe(false);
  });

  it('an untrusted certificate fails at starttls with the certificate advice', async () => {
    const up = await upstream({ auth: { user: USER, pass: PASS } });
    const r = await run(up.port, { caFile: '' });
    expect(steps(r)).toEqual(['dns:ok', 'tcp:ok', 'banner:ok', 'ehlo:ok', 'starttls:FAIL']);
    expect(r.message).toMatch(/certificate/i);
    expect(r.advice?.id).toBe('certificate-untrusted');
    // With verification off the same server passes (the detail still says it is not trusted).
    const lax = await run(up.port, { caFile: '', verifyCertificate: false });
    expect(lax.ok).toBe(true);
    expect(lax.steps.find((s) => s.step === 'starttls')?.detail).toMatch(/NOT trusted/);
  });

  it('implicit TLS against a STARTTLS port fails at tcp with the wrong-port advice', async () => {
    const up = await upstream({});
    const r = await run(up.port, { security: 'tls', auth: { method: 'none' } });
    expect(steps(r)).toEqual(['dns:ok', 'tcp:FAIL']);
    expect(r.advice?.id).toBe('tls-wrong-version');
  });

  it('a refused login fails at auth with the server\'s reply', async () => {
    const up = await upstream({ auth: { user: USER, pass: PASS } });
    const r = await run(up.port, {}, 'wrong-password');
    expect(steps(r).at(-1)).toBe('auth:FAIL');
    expect(r.steps.at(-1)?.reply).toMatch(/^535 5\.7\.8 Authentication credentials invalid/);
    expect(r.advice?.id).toBe('auth-failed');
    expect(JSON.stringify(r)).not.toContain('wrong-password');
  });

  it('a forced mechanism is used as configured', async () => {
    const up = await upstream({ auth: { user: USER, pass: PASS, methods: ['PLAIN', 'LOGIN', 'CRAM-MD5'] } });
    for (const mechanism of ['PLAIN', 'CRAM-MD5'] as const) {
      const r = await run(up.port, { auth: { method: 'password', username: USER, mechanism } });
      expect(r.steps.at(-1)?.detail).toBe(`logged in as ${USER} with ${mechanism}`);
    }
  });
});

describe('smtp-relay test-connection with the real keychain client', () => {
  it('a keychain that cannot be reached is reported as such at auth, not as "no password stored"', async () => {
    const u = await upstream({ starttls: 'disabled', auth: { user: USER, pass: PASS } });
    const dataDir = await tempDataDir();
    try {
      for (const [key, value] of [['smarthost.host', '127.0.0.1'], ['smarthost.port', String(u.port)], ['smarthost.security', 'none'],
        ['smarthost.auth.username', USER], ['smarthost.auth.method', 'password']]) {
        expect((await cli(['config', 'set', key as string, value as string, '--data-dir', dataDir])).code).toBe(0);
      }
      // No Secret Service on this bus: libsecret fails to connect, as with a locked or missing keychain.
      const r = await cli(['test-connection', '--data-dir', dataDir], { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus', SMTP_RELAY_SMARTHOST_PASSWORD: '' } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL {2}auth .*The OS keychain is not available/);
      expect(r.stdout).not.toMatch(/no password or token is stored/);
      expect(r.stdout).toMatch(/ok {4}ehlo/); // the connection itself was still tested
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
