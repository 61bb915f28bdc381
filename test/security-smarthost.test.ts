// Issue 12, finding 1: no credential crosses the network without TLS unless security is "none".
// Verified on the wire: a tap between the relay and a scripted smarthost records every byte the relay
// sent, so "no AUTH" means no AUTH command and neither the password nor its base64 anywhere.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../src/config/schema.js';
import { SmarthostTransport } from '../src/deliver/smarthost.js';
import { testConnection } from '../src/diagnose/test-connection.js';
import type { AccessTokenSource } from '../src/oauth/token.js';
import { MemoryCredentialStore } from '../src/secrets/credential-store.js';
import { startDnsServer } from './support/dns-server.js';
import { freePort, startRelay, waitFor, type TestRelay } from './support/relay.js';
import { testCertificates, type TestCertificates } from './support/tls.js';
import { startUpstream, type Upstream, type UpstreamOptions } from './support/upstream.js';
import { startWireTap, type WireTap } from './support/wire-tap.js';

const USER = 'jts@contoso.com';
const PASSWORD = 'Wire-Secret-42!';
const TOKEN = 'ya29.wire-token-never-in-clear';
type SmarthostInput = NonNullable<ConfigInput['smarthost']>;

let dir: string;
let rawPath: string;
let certs: TestCertificates;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  certs = await testCertificates();
  dir = mkdtempSync(path.join(os.tmpdir(), 'wire-test-'));
  rawPath = path.join(dir, 'message.eml');
  writeFileSync(rawPath, 'From: <jts@contoso.com>\r\nTo: <dev@contoso.com>\r\nSubject: wire\r\n\r\nbody\r\n');
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scripted smarthost behind a wire tap; `sent()` is everything the relay sent, as text. */
async function tappedUpstream(options: UpstreamOptions): Promise<{ up: Upstream; tap: WireTap; sent(): string }> {
  const up = await startUpstream(options);
  const tap = await startWireTap(up.port);
  cleanup.push(() => up.stop(), () => tap.stop());
  return { up, tap, sent: () => tap.sent().toString('latin1') };
}

/** Neither the AUTH command nor the secret, raw or base64 (LOGIN, PLAIN, XOAUTH2 encodings), crossed the wire. */
function expectNoCredential(wire: string, secret = PASSWORD): void {
  expect(wire).not.toMatch(/^AUTH\b/im);
  expect(wire).not.toContain(secret);
  expect(wire).not.toContain(Buffer.from(secret).toString('base64'));
  expect(wire).not.toContain(Buffer.from(`\0${USER}\0${secret}`).toString('base64'));
  expect(wire).not.toContain(Buffer.from(`user=${USER}\x01auth=Bearer ${secret}\x01\x01`).toString('base64'));
}

function transport(port: number, smarthost: SmarthostInput, tokens: AccessTokenSource | null = null): SmarthostTransport {
  const auth = tokens ? { method: 'oauth2-google' as const, username: USER, credential: 'service-account' as const } : { method: 'password' as const, username: USER };
  const config = parseConfig({ smarthost: { host: '127.0.0.1', port, auth, ...smarthost } });
  const t = new SmarthostTransport(config, tokens ? null : PASSWORD, {}, tokens);
  cleanup.push(() => t.close(true));
  return t;
}

const fixedToken: AccessTokenSource = { get: async () => ({ token: TOKEN, expiresAt: Date.now() + 3600_000 }) };

describe('opportunistic with a sign-in method, against a server without STARTTLS', () => {
  it('delivers without AUTH when the server takes mail that way; the password never crosses the wire', async () => {
    const { up, tap, sent } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD, optional: true } });
    const outcome = await transport(tap.port, { security: 'opportunistic' }).send({ envelope: { from: USER, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['sent']);
    expect(up.messages).toHaveLength(1);
    expect(up.messages[0]?.authUser).toBeNull();
    expect(up.messages[0]?.secure).toBe(false);
    expectNoCredential(sent());
    expect(sent()).toMatch(/^STARTTLS\r$/m); // asked for, even though not offered
  });

  it('a server that requires AUTH: the message waits, paused with the reason; nothing sent, nothing bounced', async () => {
    const { up, tap, sent } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD } });
    const outcome = await transport(tap.port, { security: 'opportunistic' }).send({ envelope: { from: USER, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.authFailure).toBe(true);
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred' });
    expect(outcome.recipients[0]?.response).toMatch(/^the server did not offer STARTTLS, so the password was not sent .*530/);
    expect(up.messages).toEqual([]);
    expectNoCredential(sent());
  });

  it('an XOAUTH2 token is withheld the same way', async () => {
    const { up, tap, sent } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: TOKEN, methods: ['XOAUTH2', 'PLAIN'] } });
    const outcome = await transport(tap.port, { security: 'opportunistic' }, fixedToken).send({ envelope: { from: USER, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients[0]?.response).toMatch(/^the server did not offer STARTTLS, so the OAuth2 token was not sent/);
    expect(up.messages).toEqual([]);
    expectNoCredential(sent(), TOKEN);
  });

  it('STARTTLS offered and working: it signs in over TLS as before', async () => {
    const { up, tap, sent } = await tappedUpstream({ auth: { user: USER, pass: PASSWORD } });
    const outcome = await transport(tap.port, { host: 'localhost', security: 'opportunistic', caFile: certs.caCertPath }).send({ envelope: { from: USER, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['sent']);
    expect(up.messages[0]).toMatchObject({ secure: true, authUser: USER });
    expectNoCredential(sent()); // all of it went inside TLS
  });

  it('the relay shows it: state auth-failed and lastError with the reason, the message still queued', async () => {
    const { up, tap } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD } });
    const credentials = new MemoryCredentialStore();
    await credentials.set(`${USER}@127.0.0.1`, PASSWORD);
    const relay: TestRelay = await startRelay({ smarthost: { host: '127.0.0.1', port: tap.port, security: 'opportunistic', auth: { method: 'password', username: USER } } }, { credentials, env: {} });
    cleanup.push(() => relay.stop());
    await relay.relay.sendTest('dev@contoso.com');
    const status = await waitFor(async () => { const s = await relay.relay.getStatus(); return s.state === 'auth-failed' ? s : null; }, 30_000, 'auth-failed');
    expect(status.lastError).toMatch(/the server did not offer STARTTLS, so the password was not sent/);
    expect(status.queued).toBe(1);
    expect(status.failed).toBe(0);
    expect(up.messages).toEqual([]);
  });
});

describe('STARTTLS required, and a STARTTLS-stripping path', () => {
  it('EHLO without STARTTLS (stripped or absent): no AUTH, no MAIL, nothing but EHLO, STARTTLS and QUIT', async () => {
    const { up, tap, sent } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD, optional: true } });
    const outcome = await transport(tap.port, { security: 'starttls' }).send({ envelope: { from: USER, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.destinationFailure).toBe(true);
    expect(up.messages).toEqual([]);
    expectNoCredential(sent());
    expect(sent()).not.toMatch(/^MAIL FROM/im);
  });

  it('a stripped EHLO whose server still answers STARTTLS: TLS is used anyway', async () => {
    const { up, tap } = await tappedUpstream({ starttls: 'hidden', auth: { user: USER, pass: PASSWORD } });
    const outcome = await transport(tap.port, { host: 'localhost', security: 'starttls', caFile: certs.caCertPath }).send({ envelope: { from: USER, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['sent']);
    expect(up.messages[0]).toMatchObject({ secure: true, authUser: USER });
  });
});

describe('test-connection says what happened', () => {
  const config = (port: number, smarthost: SmarthostInput) => parseConfig({ smarthost: { host: '127.0.0.1', port, auth: { method: 'password', username: USER }, ...smarthost } });

  it('opportunistic without STARTTLS: TLS not used, AUTH withheld and why, never "accepted"', async () => {
    const { tap, sent } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD } });
    const r = await testConnection(config(tap.port, { security: 'opportunistic' }), { user: USER, pass: PASSWORD });
    expect(r.ok).toBe(false);
    const starttls = r.steps.find((s) => s.step === 'starttls');
    expect(starttls).toMatchObject({ ok: true, skipped: true });
    expect(starttls?.detail).toMatch(/^TLS not used: the server does not offer STARTTLS/);
    expect(r.steps.at(-1)).toMatchObject({ step: 'auth', ok: false, skipped: true });
    expect(r.steps.at(-1)?.detail).toMatch(/^AUTH not sent: the server did not offer STARTTLS, so the password was not sent/);
    expect(r.message).not.toMatch(/accepted|verified/);
    expectNoCredential(sent());
  });

  it('security "none" with a password says in words that it crossed unencrypted', async () => {
    const { tap } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD } });
    const r = await testConnection(config(tap.port, { security: 'none' }), { user: USER, pass: PASSWORD });
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual(['the password crossed the network unencrypted (security "none"): anyone on the path can read it']);
    expect(r.message).toMatch(/^connected; NO TLS: the connection is unencrypted; signed in .*WARNING: the password crossed the network unencrypted/);
    expect(r.steps.map((s) => s.step)).toEqual(['dns', 'tcp', 'banner', 'ehlo', 'auth']);
  });

  it('starttls with a stripped EHLO: stops at STARTTLS, nothing else sent', async () => {
    const { tap, sent } = await tappedUpstream({ starttls: 'disabled', auth: { user: USER, pass: PASSWORD } });
    const r = await testConnection(config(tap.port, { security: 'starttls' }), { user: USER, pass: PASSWORD });
    expect(r).toMatchObject({ ok: false, failedStep: 'starttls' });
    expectNoCredential(sent());
  });

  it('TLS and login that did happen are reported as such', async () => {
    const { tap } = await tappedUpstream({ auth: { user: USER, pass: PASSWORD } });
    const r = await testConnection(config(tap.port, { host: 'localhost', security: 'opportunistic', caFile: certs.caCertPath }), { user: USER, pass: PASSWORD });
    expect(r.ok).toBe(true);
    expect(r.message).toBe('connected; TLS in use (certificate verified); signed in (no mail was sent)');
    expect(r.warnings).toBeUndefined();
  });
});

describe('MX mode', () => {
  it('never logs in: an MX host offering AUTH without STARTTLS gets the message and no AUTH, with a password stored and in the environment', async () => {
    const dns = await startDnsServer({ 'dest.test': { MX: [[10, 'mx.dest.test']] }, 'mx.dest.test': { A: ['127.0.0.41'] } });
    cleanup.push(() => dns.stop());
    const port = await freePort();
    const up = await startUpstream({ host: '127.0.0.41', port, starttls: 'disabled', auth: { user: USER, pass: PASSWORD, optional: true } });
    cleanup.push(() => up.stop());
    const credentials = new MemoryCredentialStore();
    await credentials.set(`${USER}@smtp.example`, PASSWORD);
    const relay: TestRelay = await startRelay(
      { delivery: { mode: 'mx', heloName: 'relay.mx.test' }, smarthost: { host: 'smtp.example', auth: { method: 'password', username: USER } } },
      { credentials, env: { SMTP_RELAY_SMARTHOST_PASSWORD: PASSWORD }, mx: { dnsServers: [dns.server], port } },
    );
    cleanup.push(() => relay.stop());
    await relay.relay.sendTest('dev@dest.test');
    await waitFor(() => up.messages.length === 1, 20_000, 'MX delivery');
    expect(up.messages[0]).toMatchObject({ authUser: null, secure: false });
    expect(up.commands.some((c) => /^AUTH/i.test(c))).toBe(false);
    expect(up.messages[0]?.raw.toString('latin1')).not.toContain(PASSWORD);
  });
});
