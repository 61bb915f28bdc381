// SmarthostTransport against a scripted smtp-server on loopback: TLS modes, AUTH mechanism choice,
// and how every kind of reply or failure becomes a per-recipient outcome.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigInput } from '../src/config/schema.js';
import { SmarthostTransport } from '../src/deliver/smarthost.js';
import { testCertificates, type TestCertificates } from './support/tls.js';
import { startUpstream, type Upstream, type UpstreamOptions } from './support/upstream.js';

type SmarthostInput = NonNullable<ConfigInput['smarthost']>;

const PASSWORD = 'S3cret-pa55word!';
const FROM = 'jts@contoso.com';

let dir: string;
let rawPath: string;
let certs: TestCertificates;
const upstreams: Upstream[] = [];
const transports: SmarthostTransport[] = [];

beforeAll(async () => {
  certs = await testCertificates();
  dir = mkdtempSync(path.join(os.tmpdir(), 'smarthost-test-'));
  rawPath = path.join(dir, 'message.eml');
  // CRLF throughout, with a line starting with a dot: it must come out byte for byte.
  writeFileSync(rawPath, 'From: JTS <jts@contoso.com>\r\nTo: dev@contoso.com\r\nSubject: build 42 failed\r\n\r\nSee the log.\r\n.hidden line\r\n');
});

afterAll(async () => {
  for (const t of transports) t.close();
  await Promise.all(upstreams.map((u) => u.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function upstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const up = await startUpstream(options);
  upstreams.push(up);
  return up;
}

function transport(
  port: number,
  smarthost: SmarthostInput = {},
  { password = PASSWORD, delivery }: { password?: string | null; delivery?: ConfigInput['delivery'] } = {},
): SmarthostTransport {
  const config = parseConfig({ smarthost: { host: '127.0.0.1', port, security: 'none', ...smarthost }, delivery });
  const t = new SmarthostTransport(config, password);
  transports.push(t);
  return t;
}

/** Verified STARTTLS to "localhost" with the test CA: the setting a real smarthost gets. */
function verifiedStarttls(): SmarthostInput {
  return { host: 'localhost', security: 'starttls', caFile: certs.caCertPath };
}

function login(mechanism: 'auto' | 'LOGIN' | 'PLAIN' | 'CRAM-MD5' = 'auto'): SmarthostInput {
  return { auth: { method: 'password', username: FROM, mechanism } };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('TLS', () => {
  it('starttls verifies the server against caFile and sends over TLS', async () => {
    const up = await upstream();
    const t = transport(up.port, verifiedStarttls(), { delivery: { ipFamily: 'ipv4' } });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients).toEqual([{ address: 'dev@contoso.com', verdict: 'sent', code: 250, response: '250 OK: queued' }]);
    expect(outcome.relay).toBe(`localhost[127.0.0.1]:${up.port}`);
    expect(up.messages[0]?.secure).toBe(true);
  });

  it('defers, as a destination failure, when the certificate is not trusted', async () => {
    const up = await upstream();
    const t = transport(up.port, { ...verifiedStarttls(), caFile: '' });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.destinationFailure).toBe(true);
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred', response: expect.stringMatching(/certificate/i) });
    expect(up.messages).toHaveLength(0);
  });

  it('starttls never falls back to plaintext: no STARTTLS means no MAIL FROM', async () => {
    const up = await upstream({ starttls: 'disabled' });
    const t = transport(up.port, { security: 'starttls' });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.destinationFailure).toBe(true);
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred', code: 500, response: expect.stringMatching(/\(in reply to STARTTLS\)$/) });
    expect(up.commands).toContain('STARTTLS');
    expect(up.commands.some((c) => /^MAIL FROM/i.test(c))).toBe(false);
  });

  it('tls connects with implicit TLS', async () => {
    const up = await upstream({ implicitTls: true });
    const t = transport(up.port, { ...verifiedStarttls(), security: 'tls' });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients[0]?.verdict).toBe('sent');
    expect(up.messages[0]?.secure).toBe(true);
  });

  it('opportunistic sends in plaintext when STARTTLS is not offered', async () => {
    const up = await upstream({ starttls: 'disabled' });
    const t = transport(up.port, { security: 'opportunistic' });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients[0]?.verdict).toBe('sent');
    expect(up.messages[0]?.secure).toBe(false);
  });

  it('none ignores an offered STARTTLS', async () => {
    const up = await upstream();
    const t = transport(up.port, { security: 'none' });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients[0]?.verdict).toBe('sent');
    expect(up.messages[0]?.secure).toBe(false);
    expect(up.commands).not.toContain('STARTTLS');
  });

  it('names smarthost.caFile when the file cannot be read', () => {
    expect(() => transport(25, { caFile: path.join(dir, 'missing.pem') })).toThrow(ConfigError);
    expect(() => transport(25, { caFile: path.join(dir, 'missing.pem') })).toThrow(/^smarthost\.caFile: /);
  });
});

describe('AUTH', () => {
  it.each([
    [['PLAIN', 'LOGIN'], 'LOGIN'],
    [['PLAIN'], 'PLAIN'],
    [['CRAM-MD5'], 'CRAM-MD5'],
  ])('auto against a server offering %j uses %s', async (methods, used) => {
    const up = await upstream({ auth: { user: FROM, pass: PASSWORD, methods } });
    const t = transport(up.port, { ...verifiedStarttls(), ...login('auto') });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients[0]?.verdict).toBe('sent');
    expect(up.messages[0]).toMatchObject({ authUser: FROM, authMethod: used, secure: true });
  });

  it('a forced mechanism is used as is', async () => {
    const up = await upstream({ auth: { user: FROM, pass: PASSWORD, methods: ['PLAIN', 'LOGIN'] } });
    const t = transport(up.port, login('PLAIN'));
    await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(up.messages[0]?.authMethod).toBe('PLAIN');
  });

  it.each(['auto', 'LOGIN'] as const)('a wrong password (%s) is an authFailure with the 535 reply and no password', async (mechanism) => {
    const up = await upstream({ auth: { user: FROM, pass: 'the-right-one' } });
    const t = transport(up.port, login(mechanism));
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com', 'ops@contoso.com'] }, contentPath: rawPath });
    expect(outcome.authFailure).toBe(true);
    expect(outcome.recipients).toHaveLength(2);
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred', code: 535, enhanced: '5.7.8', response: '535 5.7.8 Authentication credentials invalid' });
    expect(JSON.stringify(outcome)).not.toContain(PASSWORD);
    expect(up.messages).toHaveLength(0);
    const err = await t.verify().then(() => null, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).toBe('EAUTH');
    expect(err?.message).toMatch(/535/);
    expect(err?.message).not.toContain(PASSWORD);
  });

  it('a missing password is an authFailure before connecting', async () => {
    const up = await upstream({ auth: { user: FROM, pass: PASSWORD } });
    const t = transport(up.port, login(), { password: null });
    const outcome = await t.send({ envelope: { from: FROM, to: ['dev@contoso.com'] }, contentPath: rawPath });
    expect(outcome.authFailure).toBe(true);
    expect(outcome.recipients[0]?.response).toMatch(/no password is stored for jts@contoso.com/);
    expect(up.commands).toEqual([]);
  });

  it('verify() resolves when connection and login work', async () => {
    const up = await upstream({ auth: { user: FROM, pass: PASSWORD } });
    await expect(transport(up.port, { ...verifiedStarttls(), ...login() }).verify()).resolves.toBeUndefined();
  });
});

describe('replies', () => {
  it('judges each recipient by its own RCPT reply', async () => {
    const up = await upstream({
      replies: {
        rcpt: {
          'soft@contoso.com': { code: 450, message: '4.2.1 Mailbox busy' },
          'hard@contoso.com': { code: 550, message: '5.1.1 User unknown' },
        },
      },
    });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['ok@contoso.com', 'soft@contoso.com', 'hard@contoso.com'] }, contentPath: rawPath });
    expect(outcome).toEqual({
      relay: `127.0.0.1[127.0.0.1]:${up.port}`,
      recipients: [
        { address: 'ok@contoso.com', verdict: 'sent', code: 250, response: '250 OK: queued' },
        { address: 'soft@contoso.com', verdict: 'deferred', code: 450, enhanced: '4.2.1', response: '450 4.2.1 Mailbox busy' },
        { address: 'hard@contoso.com', verdict: 'failed', code: 550, enhanced: '5.1.1', response: '550 5.1.1 User unknown' },
      ],
    });
    expect(up.messages[0]?.to).toEqual(['ok@contoso.com']);
  });

  it('552 at RCPT (too many recipients) is temporary', async () => {
    const up = await upstream({ replies: { rcpt: { 'many@contoso.com': { code: 552, message: '5.5.3 Too many recipients' } } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['ok@contoso.com', 'many@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['sent', 'deferred']);
  });

  it('recipients are matched although nodemailer lower-cases and punycodes domains', async () => {
    // smtp-server hands the upstream the address decoded again.
    const up = await upstream({ replies: { rcpt: { 'hard@jõgeva.ee': { code: 550, message: '5.1.1 User unknown' } } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['Dev@Contoso.COM', 'hard@jõgeva.ee'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => [r.address, r.verdict])).toEqual([['Dev@Contoso.COM', 'sent'], ['hard@jõgeva.ee', 'failed']]);
  });

  it('every recipient refused: each keeps its own reply', async () => {
    const up = await upstream({
      replies: {
        rcpt: {
          'a@contoso.com': { code: 550, message: '5.1.1 User unknown' },
          'b@contoso.com': { code: 451, message: '4.3.0 Try later' },
        },
      },
    });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com', 'b@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => [r.verdict, r.code])).toEqual([['failed', 550], ['deferred', 451]]);
    expect(outcome.destinationFailure).toBeUndefined();
  });

  it('MAIL FROM 550 fails every recipient', async () => {
    const up = await upstream({ replies: { mailFrom: { code: 550, message: '5.7.1 Sender not allowed' } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com', 'b@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => [r.verdict, r.enhanced])).toEqual([['failed', '5.7.1'], ['failed', '5.7.1']]);
  });

  it('530 at MAIL FROM (not authenticated) is an authFailure, not a bounce', async () => {
    const up = await upstream({ replies: { mailFrom: { code: 530, message: '5.7.57 Client not authenticated to send mail' } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(outcome.authFailure).toBe(true);
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred', code: 530, enhanced: '5.7.57' });
  });

  it('DATA 554 fails every recipient', async () => {
    const up = await upstream({ replies: { data: { code: 554, message: '5.6.0 Content rejected' } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com', 'b@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => [r.verdict, r.code, r.enhanced])).toEqual([['failed', 554, '5.6.0'], ['failed', 554, '5.6.0']]);
  });

  it('DATA 451 defers every recipient, charged to the message', async () => {
    const up = await upstream({ replies: { data: { code: 451, message: '4.3.0 Queue full' } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com', 'b@contoso.com'] }, contentPath: rawPath });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['deferred', 'deferred']);
    expect(outcome.destinationFailure).toBeUndefined();
  });

  it('a message over the advertised SIZE fails with 5.3.4 without being sent', async () => {
    const up = await upstream({ size: 1000 });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath, size: 5000 });
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'failed', enhanced: '5.3.4' });
    expect(up.messages).toHaveLength(0);
  });
});

describe('connections', () => {
  it('a refused connection defers, as a destination failure', async () => {
    const port = await closedPort();
    const outcome = await transport(port).send({ envelope: { from: FROM, to: ['a@contoso.com', 'b@contoso.com'] }, contentPath: rawPath });
    expect(outcome).toMatchObject({ relay: `127.0.0.1[127.0.0.1]:${port}`, destinationFailure: true });
    expect(outcome.recipients.map((r) => r.verdict)).toEqual(['deferred', 'deferred']);
    expect(outcome.recipients[0]?.response).toMatch(/ECONNREFUSED/);
    expect(outcome.maybeDelivered).toBeUndefined();
  });

  it('ipFamily chooses the address family when resolving the smarthost, and the relay names the address', async () => {
    const up = await upstream();
    const v4 = await transport(up.port, { host: 'localhost' }, { delivery: { ipFamily: 'ipv4' } }).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(v4).toMatchObject({ relay: `localhost[127.0.0.1]:${up.port}`, recipients: [{ verdict: 'sent' }] });
    // The upstream listens on 127.0.0.1 only: an IPv6 address (or none) must never reach it.
    const v6 = await transport(up.port, { host: 'localhost' }, { delivery: { ipFamily: 'ipv6' } }).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(v6.destinationFailure).toBe(true);
    expect(v6.relay).not.toContain('127.0.0.1');
    expect(up.messages).toHaveLength(1);
  });

  it('a name that does not resolve defers, as a destination failure', async () => {
    const outcome = await transport(25, { host: 'no-such-host.invalid' }).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(outcome).toMatchObject({ relay: 'no-such-host.invalid:25', destinationFailure: true });
    expect(outcome.recipients[0]?.response).toMatch(/cannot resolve no-such-host\.invalid: (ENOTFOUND|EAI_AGAIN)/);
  });

  it('a connection closed before the greeting defers, as a destination failure', async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const outcome = await transport((server.address() as AddressInfo).port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
      expect(outcome.destinationFailure).toBe(true);
      expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred', response: 'the connection closed before the message could be sent' });
    } finally {
      server.close();
    }
  });

  it('a 554 greeting defers, as a destination failure', async () => {
    const up = await upstream({ replies: { connect: { code: 554, message: '5.7.1 Your IP is not allowed' } } });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(outcome.destinationFailure).toBe(true);
    expect(outcome.recipients[0]).toMatchObject({ verdict: 'deferred', code: 554 });
  });

  it('a connection lost after the final dot is deferred as maybe delivered', async () => {
    const up = await upstream({ closeAfterData: true });
    const outcome = await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(outcome.maybeDelivered).toBe(true);
    expect(outcome.destinationFailure).toBeUndefined();
    expect(outcome.recipients[0]?.verdict).toBe('deferred');
    expect(up.messages).toHaveLength(1);
  });

  it('rejects, without connecting, when the spool file is missing', async () => {
    const up = await upstream();
    await expect(transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: path.join(dir, 'gone.eml') })).rejects.toThrow(/ENOENT/);
    expect(up.commands).toEqual([]);
  });
});

describe('message', () => {
  it('from "" is sent as MAIL FROM:<>', async () => {
    const up = await upstream();
    await transport(up.port).send({ envelope: { from: '', to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(up.commands).toContain('MAIL FROM:<>');
    expect(up.messages[0]?.from).toBe('');
  });

  it('delivers the file byte for byte', async () => {
    const up = await upstream();
    await transport(up.port).send({ envelope: { from: FROM, to: ['a@contoso.com'] }, contentPath: rawPath });
    expect(up.messages[0]?.raw.equals(readFileSync(rawPath))).toBe(true);
  });
});
