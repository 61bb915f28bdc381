// Sender rewriting: envelope and From/Sender/Reply-To headers, byte-exact everywhere else.
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { mapAddress, senderRewriter } from '../src/rewrite/senders.js';
import { startRelay, waitFor, type TestRelay } from './support/relay.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const rules = [
  { match: 'build@jts.localdomain', replace: 'builds@contoso.com' },
  { match: '@jts.localdomain', replace: 'jts@contoso.com' },
];
const rw = senderRewriter(parseConfig({ rewrite: { senders: rules } }).rewrite)!;
const forced = senderRewriter(parseConfig({ rewrite: { forceSender: 'relay@contoso.com' } }).rewrite)!;

describe('sender rules', () => {
  it('an exact address wins over its domain; other addresses pass; case does not matter', () => {
    expect(mapAddress('build@jts.localdomain', rules)).toBe('builds@contoso.com');
    expect(mapAddress('Alerts@JTS.localdomain', rules)).toBe('jts@contoso.com');
    expect(mapAddress('someone@else.org', rules)).toBe('someone@else.org');
    expect(mapAddress('x@notjts.localdomain', [{ match: '@jts.localdomain', replace: 'y@z' }])).toBe('x@notjts.localdomain');
  });

  it('the null sender of bounces is never rewritten', () => {
    expect(rw.envelope('')).toBe('');
    expect(forced.envelope('')).toBe('');
    expect(forced.envelope('app@anything.test')).toBe('relay@contoso.com');
  });

  it('nothing to rewrite gives no rewriter (the fast path)', () => {
    expect(senderRewriter(parseConfig({}).rewrite)).toBeNull();
  });

  it('config refuses rules that are not addresses or domains', () => {
    expect(() => parseConfig({ rewrite: { senders: [{ match: 'jts', replace: 'a@b.c' }] } })).toThrow(/rewrite\.senders\[0\]\.match: must be an address/);
    expect(() => parseConfig({ rewrite: { forceSender: 'not an address' } })).toThrow(/rewrite\.forceSender/);
  });
});

describe('header rewriting is byte-exact', () => {
  const cases: [string, string, string][] = [
    ['plain angle address', 'From: JTS <jts@jts.localdomain>\r\n', 'From: JTS <jts@contoso.com>\r\n'],
    ['bare address', 'From: build@jts.localdomain\r\n', 'From: builds@contoso.com\r\n'],
    ['encoded display name kept', 'From: =?UTF-8?B?SsOkenogVGVhbSBTZXJ2ZXI=?= <jts@jts.localdomain>\r\n', 'From: =?UTF-8?B?SsOkenogVGVhbSBTZXJ2ZXI=?= <jts@contoso.com>\r\n'],
    ['folded field keeps its folding', 'Reply-To: "Team, Build" <build@jts.localdomain>,\r\n\t"Ops" <ops@jts.localdomain>\r\n', 'Reply-To: "Team, Build" <builds@contoso.com>,\r\n\t"Ops" <jts@contoso.com>\r\n'],
    ['quoted @ in the name is not an address', 'Sender: "jts@jts.localdomain" <other@else.org>\r\n', 'Sender: "jts@jts.localdomain" <other@else.org>\r\n'],
    ['comment kept', 'From: jts@jts.localdomain (Jazz Team Server)\r\n', 'From: jts@contoso.com (Jazz Team Server)\r\n'],
    ['other headers untouched', 'To: dev@jts.localdomain\r\nSubject: from jts@jts.localdomain\r\nX-Sender: jts@jts.localdomain\r\n', 'To: dev@jts.localdomain\r\nSubject: from jts@jts.localdomain\r\nX-Sender: jts@jts.localdomain\r\n'],
    ['8-bit bytes survive', 'From: J\xe4zz <jts@jts.localdomain>\r\n', 'From: J\xe4zz <jts@contoso.com>\r\n'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(rw.headers(input)).toBe(expected);
  });

  it('forceSender replaces From and keeps the original From as Reply-To', () => {
    const input = 'Received: from x\r\nFrom: "JTS" <jts@jts.localdomain>\r\nTo: a@b.test\r\n';
    expect(forced.headers(input)).toBe('Received: from x\r\nFrom: "JTS" <relay@contoso.com>\r\nReply-To: "JTS" <jts@jts.localdomain>\r\nTo: a@b.test\r\n');
  });

  it('forceSender leaves an existing Reply-To as it is but still sends as the mailbox', () => {
    const input = 'From: a@jts.localdomain\r\nSender: b@jts.localdomain\r\nReply-To: owner@contoso.com\r\n';
    expect(forced.headers(input)).toBe('From: relay@contoso.com\r\nSender: relay@contoso.com\r\nReply-To: owner@contoso.com\r\n');
  });
});

describe('through the relay', () => {
  let relay: TestRelay | null = null;
  let upstream: Upstream | null = null;
  afterEach(async () => { await relay?.stop(); await upstream?.stop(); });

  it('rewrites the envelope sender and the headers on the way out; the body and the spool stay as sent', async () => {
    upstream = await startUpstream({ starttls: 'disabled' });
    relay = await startRelay({ smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' }, rewrite: { senders: rules } });
    // With a Date and a Message-ID the relay adds nothing to the header section.
    const body = 'From: JTS <jts@jts.localdomain>\r\nTo: dev@contoso.com\r\nSubject: WI 42\r\nDate: Mon, 2 Jun 2025 10:00:00 +0200\r\nMessage-ID: <wi42@jts.localdomain>\r\n\r\nSent by jts@jts.localdomain.\r\nFrom: this body line is not a header\r\n';
    const c = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true });
    const info = await c.sendMail({ envelope: { from: 'jts@jts.localdomain', to: ['dev@contoso.com'] }, raw: body });
    await waitFor(() => upstream!.messages.length === 1, 10_000, 'delivery');
    const got = upstream.messages[0]!;
    expect(got.from).toBe('jts@contoso.com');
    const text = got.raw.toString('latin1');
    const withoutReceived = text.slice(text.indexOf('From: '));
    expect(withoutReceived).toBe(body.replace('From: JTS <jts@jts.localdomain>', 'From: JTS <jts@contoso.com>'));
    expect(info.response).toMatch(/queued as/);
  });

  it('route shows the rewriting, the destination, TLS and login without sending anything', async () => {
    relay = await startRelay({
      smarthost: { host: 'localhost', port: 2587, security: 'starttls', auth: { method: 'password', username: 'jts@contoso.com' } },
      rewrite: { senders: rules },
    });
    expect(await relay.relay.route('dev@contoso.com', 'build@jts.localdomain')).toEqual({
      recipient: 'dev@contoso.com',
      sender: { original: 'build@jts.localdomain', rewritten: 'builds@contoso.com' },
      mode: 'smarthost',
      destinations: ['localhost[127.0.0.1]:2587'],
      tls: 'STARTTLS required, certificate verified',
      auth: 'password as jts@contoso.com (LOGIN preferred)',
      problem: null,
    });
    expect(await relay.relay.previewRewrite('ops@jts.localdomain')).toBe('jts@contoso.com');
    const none = await startRelay({ smarthost: { host: 'no-such-host.invalid' } });
    expect((await none.relay.route('a@b.test')).problem).toMatch(/cannot resolve no-such-host\.invalid/);
    await none.stop();
  });
});
