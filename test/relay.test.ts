// End to end over loopback: a real SMTP client -> the relay -> a scripted upstream smarthost.
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { smarthostAccount } from '../src/secrets/smarthost-password.js';
import { parseConfig } from '../src/config/schema.js';
import { RawSmtp } from './support/raw-smtp.js';
import { filesContaining, startRelay, waitFor, type TestRelay } from './support/relay.js';
import { testCertificates } from './support/tls.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const PASSWORD = 'Sup3r-Secret-Pa55!';
let relay: TestRelay | null = null;
let upstream: Upstream | null = null;

afterEach(async () => {
  await relay?.stop();
  await upstream?.stop();
  relay = null;
  upstream = null;
});

async function smarthostConfig(up: { port: number }, extra: Partial<NonNullable<ConfigInput['smarthost']>> = {}): Promise<ConfigInput> {
  const certs = await testCertificates();
  return {
    delivery: { retrySchedule: '1s' },
    smarthost: {
      host: 'localhost', port: up.port, security: 'starttls', caFile: certs.caCertPath,
      auth: { method: 'password', username: 'jts@contoso.com' }, ...extra,
    },
  };
}

async function startWithPassword(config: ConfigInput): Promise<TestRelay> {
  const r = await startRelay(config);
  await r.credentials.set(smarthostAccount(parseConfig(config)), PASSWORD);
  await r.relay.resume(); // pick up the stored password now rather than at the next scan
  return r;
}

function client(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'jts.localdomain' });
}

function message(n: number): Buffer {
  return Buffer.from(
    `From: JTS <jts@jts.localdomain>\r\nTo: dev@contoso.com\r\nSubject: Work item ${n} changed\r\n` +
    `Message-ID: <m${n}@jts.localdomain>\r\nDate: Mon, 2 Jun 2025 10:00:00 +0200\r\n\r\nLine one of message ${n}.\r\n.leading dot stays\r\nÜmlaut in 8bit\r\n`,
  );
}

describe('relay: client -> spool -> smarthost', () => {
  it('delivers over STARTTLS (private CA via caFile) with AUTH; bytes arrive as sent plus one Received header', async () => {
    upstream = await startUpstream({ auth: { user: 'jts@contoso.com', pass: PASSWORD } });
    relay = await startWithPassword(await smarthostConfig(upstream));
    const sent = message(1);
    const info = await client(relay.port).sendMail({ envelope: { from: 'jts@jts.localdomain', to: ['dev@contoso.com'] }, raw: sent });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-z]{16}$/);
    const id = info.response.split(' ').at(-1) as string;

    await waitFor(() => upstream?.messages.length === 1, 10_000, 'delivery upstream');
    const got = upstream.messages[0]!;
    expect(got.from).toBe('jts@jts.localdomain');
    expect(got.to).toEqual(['dev@contoso.com']);
    expect(got.secure).toBe(true);
    expect(got.authUser).toBe('jts@contoso.com');
    expect(got.authMethod).toBe('LOGIN'); // offered "PLAIN LOGIN": auto prefers LOGIN

    const text = got.raw.toString('latin1');
    const received = /^Received: from jts\.localdomain \(\[127\.0\.0\.1\]\)\r\n\tby relay\.test \(SMTP Relay Tray\) with ESMTP id ([0-9a-z]{16})\r\n\tfor <dev@contoso\.com>;\r\n\t[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n/.exec(text);
    expect(received, text.slice(0, 300)).not.toBeNull();
    expect(received![1]).toBe(id);
    expect(got.raw.subarray(received![0].length).equals(sent)).toBe(true);

    await waitFor(async () => (await relay!.relay.getStatus()).queued === 0, 5000, 'empty queue');
    const status = await relay.relay.getStatus();
    expect(status).toMatchObject({ state: 'running', queued: 0, deferred: 0, failed: 0, lastDelivery: { id, status: 'sent', to: 'dev@contoso.com' } });
    // The delivered content is removed in the background, just after the state file.
    await waitFor(async () => (await fs.readdir(path.join(relay!.dataDir, 'spool', 'msg'))).length === 0, 5000, 'the delivered content removed');
  });

  it('uses the forced mechanism when one is configured', async () => {
    upstream = await startUpstream({ auth: { user: 'jts@contoso.com', pass: PASSWORD, methods: ['LOGIN', 'PLAIN'] } });
    const config = await smarthostConfig(upstream, { auth: { method: 'password', username: 'jts@contoso.com', mechanism: 'PLAIN' } });
    relay = await startWithPassword(config);
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['c@d.test'] }, raw: message(2) });
    await waitFor(() => upstream?.messages.length === 1, 10_000, 'delivery');
    expect(upstream.messages[0]!.authMethod).toBe('PLAIN');
  });

  it('keeps mail while the smarthost is down and delivers each message once when it is back', async () => {
    const probe = await startUpstream();
    const port = probe.port;
    await probe.stop(); // nothing listens on `port` now: connection refused
    relay = await startRelay({ delivery: { retrySchedule: '1s' }, smarthost: { host: '127.0.0.1', port, security: 'none' } });
    const c = client(relay.port);
    for (let i = 0; i < 3; i++) await c.sendMail({ envelope: { from: 'a@b.test', to: [`r${i}@d.test`] }, raw: message(10 + i) });

    const waiting = await waitFor(async () => {
      const s = await relay!.relay.getStatus();
      return s.deferred >= 1 ? s : null;
    }, 10_000, 'a deferral');
    expect(waiting.queued).toBe(3);
    expect(waiting.lastError).toMatch(/ECONNREFUSED|refused/i);
    const { items } = await relay.relay.listQueue();
    expect(items.some((m) => m.status === 'deferred' && /refused/i.test(m.recipients[0]?.lastReply ?? ''))).toBe(true);

    upstream = await startUpstream({ port, starttls: 'disabled' });
    await waitFor(() => upstream!.messages.length >= 3, 15_000, 'three deliveries');
    await waitFor(async () => (await relay!.relay.getStatus()).queued === 0, 5000, 'empty queue');
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would show up within one retry step
    const ids = upstream.messages.map((m) => /Message-ID: <(m\d+)@/.exec(m.raw.toString())?.[1]).sort();
    expect(ids).toEqual(['m10', 'm11', 'm12']);
  });

  it('starttls required: a smarthost without STARTTLS gets no mail in plaintext; the message defers', async () => {
    upstream = await startUpstream({ starttls: 'disabled', auth: { user: 'jts@contoso.com', pass: PASSWORD } });
    relay = await startWithPassword(await smarthostConfig(upstream));
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['c@d.test'] }, raw: message(3) });
    const s = await waitFor(async () => {
      const st = await relay!.relay.getStatus();
      return st.deferred === 1 ? st : null;
    }, 10_000, 'deferral');
    expect(s.lastError).toMatch(/STARTTLS/i);
    expect(upstream.messages).toEqual([]);
    expect(upstream.commands.some((c) => /^(AUTH|MAIL|RCPT|DATA)/i.test(c))).toBe(false);
  });

  it('a 5xx fails the recipient and keeps the message visible as failed; 4xx defers', async () => {
    upstream = await startUpstream({
      starttls: 'disabled',
      replies: { rcpt: { 'gone@d.test': { code: 550, message: '5.1.1 User unknown' }, 'busy@d.test': { code: 450, message: '4.2.1 Mailbox busy' } } },
    });
    relay = await startRelay({ delivery: { retrySchedule: '1h' }, smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['gone@d.test'] }, raw: message(4) });
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['busy@d.test'] }, raw: message(5) });
    const s = await waitFor(async () => {
      const st = await relay!.relay.getStatus();
      return st.failed === 1 && st.deferred === 1 && st.queued === 1 ? st : null;
    }, 10_000, 'one failed, one deferred, the bounce delivered');
    expect(s.queued).toBe(1);
    const bounces = upstream.messages.filter((m) => m.from === '');
    expect(bounces.map((m) => m.to)).toEqual([['a@b.test']]);
    const { items } = await relay.relay.listQueue();
    const failed = items.find((m) => m.status === 'failed');
    expect(failed?.recipients[0]).toMatchObject({ address: 'gone@d.test', status: 'failed', lastReply: expect.stringMatching(/^550 5\.1\.1 User unknown/) });
    const deferred = items.find((m) => m.status === 'deferred');
    expect(deferred?.recipients[0]).toMatchObject({ address: 'busy@d.test', status: 'deferred', attempts: 1 });
    expect(deferred!.nextAttempt! - Date.now()).toBeGreaterThan(30 * 60_000); // the 1h step, jittered
    const log = await fs.readFile(path.join(relay.dataDir, 'logs', 'relay.log'), 'utf8');
    expect(log).toMatch(new RegExp(`id=${failed!.id} to=<gone@d\\.test> relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${upstream.port} delay=[\\d.]+ delays=[\\d.]+ attempts=1 status=bounced \\(550 5\\.1\\.1 User unknown`));
    expect(log).toMatch(/to=<busy@d\.test> .* status=deferred \(450 4\.2\.1 Mailbox busy/);
  });

  it('authentication refused: delivery pauses as auth-failed with the reply; a new password resumes it; no secret on disk', async () => {
    upstream = await startUpstream({ auth: { user: 'jts@contoso.com', pass: PASSWORD } });
    const config = await smarthostConfig(upstream);
    relay = await startRelay(config);
    const wrong = 'Wr0ng-Passw0rd-123';
    await relay.relay.setPassword(wrong);
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['c@d.test'] }, raw: message(6) });
    const s = await waitFor(async () => {
      const st = await relay!.relay.getStatus();
      return st.state === 'auth-failed' ? st : null;
    }, 10_000, 'auth-failed');
    expect(s.lastError).toMatch(/535 5\.7\.8/);
    expect(s.queued).toBe(1);
    expect(s.deferred).toBe(0); // not the message's fault: its retries are not used up

    await relay.relay.setPassword(PASSWORD);
    await waitFor(() => upstream!.messages.length === 1, 10_000, 'delivery after the new password');
    expect((await relay.relay.getStatus()).state).toBe('running');

    expect(await filesContaining(relay.dataDir, [PASSWORD, wrong])).toEqual([]);
  });

  it('reuses pooled connections up to smarthost.maxConnections', async () => {
    upstream = await startUpstream({ starttls: 'disabled' });
    relay = await startRelay({ smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none', maxConnections: 2 } });
    await relay.relay.pause();
    const c = client(relay.port);
    for (let i = 0; i < 8; i++) await c.sendMail({ envelope: { from: 'a@b.test', to: [`r${i}@d.test`] }, raw: message(20 + i) });
    await relay.relay.resume();
    await waitFor(() => upstream!.messages.length === 8, 10_000, 'eight deliveries');
    const connections = upstream.commands.filter((cmd) => /^EHLO /i.test(cmd)).length;
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('pause holds delivery, resume releases it, and status events follow the queue', async () => {
    upstream = await startUpstream({ starttls: 'disabled' });
    relay = await startRelay({ smarthost: { host: '127.0.0.1', port: upstream.port, security: 'none' } });
    const seen: string[] = [];
    const off = relay.relay.onStatus((st) => seen.push(`${st.state}:${st.queued}`));
    await relay.relay.pause();
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['c@d.test'] }, raw: message(30) });
    await waitFor(() => seen.includes('paused:1'), 5000, 'a paused status with one queued');
    await new Promise((r) => setTimeout(r, 300));
    expect(upstream.messages).toEqual([]);
    await relay.relay.resume();
    await waitFor(() => upstream!.messages.length === 1, 5000, 'delivery after resume');
    await waitFor(() => seen.at(-1) === 'running:0', 5000, 'a running status with an empty queue');
    off();
  });

  it('no smarthost configured: mail is accepted and waits, and the state says why', async () => {
    relay = await startRelay({});
    await client(relay.port).sendMail({ envelope: { from: 'a@b.test', to: ['c@d.test'] }, raw: message(7) });
    const s = await waitFor(async () => {
      const st = await relay!.relay.getStatus();
      return st.state === 'unconfigured' ? st : null;
    }, 5000, 'unconfigured');
    expect(s.queued).toBe(1);
    expect(s.lastError).toMatch(/no smarthost configured/);
  });
});

describe('receive: access and limits', () => {
  it('refuses a client outside allowedClients with 554 at connect', async () => {
    relay = await startRelay({ listen: { allowedClients: ['10.1.2.0/24'] } });
    const c = await RawSmtp.connect(relay.port);
    expect(await c.reply()).toMatch(/^554 5\.7\.1 .*Access denied: \[127\.0\.0\.1\] is not an allowed client/);
    c.close();
  });

  it('answers 421 to connections beyond maxClients', async () => {
    relay = await startRelay({ listen: { maxClients: 2 } });
    const held = [await RawSmtp.connect(relay.port), await RawSmtp.connect(relay.port)];
    for (const h of held) expect(await h.reply()).toMatch(/^220 /);
    const third = await RawSmtp.connect(relay.port);
    expect(await third.reply()).toMatch(/^421 /);
    for (const c of [...held, third]) c.close();
  });

  it('refuses recipients beyond maxRecipients with 452 4.5.3', async () => {
    relay = await startRelay({ listen: { maxRecipients: 2 } });
    const c = await RawSmtp.connect(relay.port);
    const replies = await c.envelope('a@b.test', ['1@d.test', '2@d.test', '3@d.test']);
    expect(replies.slice(3)).toEqual([expect.stringMatching(/^250/), expect.stringMatching(/^250/), expect.stringMatching(/^452 4\.5\.3 /)]);
    c.close();
  });

  it('refuses SIZE= above maxMessageBytes with 552 5.3.4 at MAIL FROM', async () => {
    relay = await startRelay({ listen: { maxMessageBytes: 10_000 } });
    const c = await RawSmtp.connect(relay.port);
    await c.reply();
    expect(await c.command('EHLO client.test')).toMatch(/250[ -]SIZE/);
    expect(await c.command('MAIL FROM:<a@b.test> SIZE=20000')).toMatch(/^552 5\.3\.4 /);
    expect(await c.command('MAIL FROM:<a@b.test> SIZE=2000')).toMatch(/^250/);
    c.close();
  });

  it('refuses a message with more than 100 Received headers as a mail loop (554 5.4.0)', async () => {
    relay = await startRelay({});
    const c = await RawSmtp.connect(relay.port);
    await c.envelope('a@b.test', ['c@d.test']);
    await c.command('DATA');
    const hops = Array.from({ length: 101 }, (_, i) => `Received: from hop${i} by hop${i + 1}; Sun, 22 Nov 2026 00:00:00 +0000\r\n`).join('');
    expect(await c.command(`${hops}Subject: loop\r\n\r\nbody\r\n.`)).toMatch(/^554 5\.4\.0 /);
    await c.command('RSET');
    await c.command('MAIL FROM:<a@b.test>');
    await c.command('RCPT TO:<c@d.test>');
    await c.command('DATA');
    const ok = Array.from({ length: 99 }, (_, i) => `Received: from hop${i}\r\n`).join('');
    expect(await c.command(`${ok}Subject: fine\r\n\r\nbody\r\n.`)).toMatch(/^250 /);
    expect((await relay.relay.getStatus()).queued).toBe(1);
    c.close();
  });

  it('a client that disconnects mid-DATA leaves nothing queued and no file behind', async () => {
    relay = await startRelay({});
    const c = await RawSmtp.connect(relay.port);
    await c.envelope('a@b.test', ['c@d.test']);
    await c.command('DATA');
    await c.write('Subject: half\r\n\r\nthe first half of a message');
    await waitFor(async () => (await fs.readdir(path.join(relay!.dataDir, 'spool', 'msg'))).length === 1, 5000, 'ingest started');
    c.close();
    await waitFor(async () => (await fs.readdir(path.join(relay!.dataDir, 'spool', 'msg'))).length === 0, 5000, 'partial file removed');
    expect((await relay.relay.getStatus()).queued).toBe(0);
  });

  it('explains a listen port that is already taken', async () => {
    relay = await startRelay({});
    const { saveConfig } = await import('../src/config/store.js');
    const other = await (await import('./support/relay.js')).tempDataDir();
    await saveConfig(other, { listen: { port: relay.port } });
    const { RelayService } = await import('../src/relay.js');
    const { MemoryCredentialStore } = await import('../src/secrets/credential-store.js');
    const second = new RelayService({ dataDir: other, credentials: new MemoryCredentialStore() });
    await expect(second.start()).rejects.toThrow(/127\.0\.0\.1:\d+: the port is already in use by another program \(often the IIS SMTP service/);
    await fs.rm(other, { recursive: true, force: true });
  });

  it('before open() the settings and the log are refused as unavailable, not handed out empty', async () => {
    const { RelayService } = await import('../src/relay.js');
    const { MemoryCredentialStore } = await import('../src/secrets/credential-store.js');
    const dir = await (await import('./support/relay.js')).tempDataDir();
    const unopened = new RelayService({ dataDir: dir, credentials: new MemoryCredentialStore() });
    await expect(unopened.getConfig()).rejects.toMatchObject({ kind: 'unavailable', message: 'the relay is not open' });
    await expect(unopened.route('a@b.test')).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(unopened.sendTest('a@b.test')).rejects.toMatchObject({ kind: 'unavailable' });
    await fs.rm(dir, { recursive: true, force: true });
  });
});
